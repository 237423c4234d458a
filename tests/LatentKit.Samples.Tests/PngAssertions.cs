using SkiaSharp;

namespace LatentKit.Samples.Tests;

internal static class Png
{
    public static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Decodes PNG bytes to RGBA so tests can read pixels whatever the encoded colour type.</summary>
    public static SKBitmap Decode(byte[] png)
    {
        png.AsSpan(0, 8).ToArray().Should().Equal(Signature, "the bytes must be a PNG");
        using var decoded = SKBitmap.Decode(png);
        decoded.Should().NotBeNull("SkiaSharp must decode the PNG");
        var rgba = decoded.Copy(SKColorType.Rgba8888);
        rgba.Should().NotBeNull("the picture must convert to RGBA");
        return rgba;
    }

    /// <summary>Every distinct opaque colour of the picture.</summary>
    public static HashSet<SKColor> Colors(SKBitmap bitmap)
    {
        var colors = new HashSet<SKColor>();
        foreach (var pixel in bitmap.Pixels)
        {
            colors.Add(pixel);
        }

        return colors;
    }
}
