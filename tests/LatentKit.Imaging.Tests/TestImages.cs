using SkiaSharp;

namespace LatentKit.Imaging.Tests;

/// <summary>Writes PNG and JPEG files with SkiaSharp, with pixel values known to the test.</summary>
internal static class TestImages
{
    /// <summary>The planar (C x H x W) bytes of a deterministic colour image, different per <paramref name="seed"/>.</summary>
    public static byte[] Planar(int channels, int height, int width, int seed)
    {
        var values = new byte[channels * height * width];
        for (var c = 0; c < channels; c++)
        {
            for (var y = 0; y < height; y++)
            {
                for (var x = 0; x < width; x++)
                {
                    values[(c * height * width) + (y * width) + x] = (byte)(((seed * 37) + (c * 85) + (y * 7) + (x * 3)) % 256);
                }
            }
        }

        return values;
    }

    /// <summary>Writes planar bytes as an image file: 1 channel as grey, 3 as opaque colour, 4 as colour with alpha.</summary>
    public static void Write(string path, byte[] planar, int channels, int height, int width, SKEncodedImageFormat format = SKEncodedImageFormat.Png, int quality = 100)
    {
        var info = channels == 1
            ? new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque)
            : new SKImageInfo(width, height, SKColorType.Rgba8888, channels == 4 ? SKAlphaType.Unpremul : SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        var pixels = bitmap.GetPixelSpan();
        var bytes = new byte[pixels.Length];
        var plane = height * width;
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var at = (y * bitmap.RowBytes) + (x * info.BytesPerPixel);
                if (channels == 1)
                {
                    bytes[at] = planar[(y * width) + x];
                    continue;
                }

                for (var c = 0; c < 4; c++)
                {
                    bytes[at + c] = c < channels ? planar[(c * plane) + (y * width) + x] : (byte)255;
                }
            }
        }

        System.Runtime.InteropServices.Marshal.Copy(bytes, 0, bitmap.GetPixels(), bytes.Length);
        using var data = bitmap.Encode(format, quality) ?? throw new InvalidOperationException($"SkiaSharp could not encode {format}");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, data.ToArray());
    }

    /// <summary>Writes a uniformly coloured image.</summary>
    public static void WriteSolid(string path, int channels, int height, int width, byte value, SKEncodedImageFormat format = SKEncodedImageFormat.Png)
    {
        var planar = new byte[channels * height * width];
        Array.Fill(planar, value);
        Write(path, planar, channels, height, width, format);
    }

    /// <summary>
    /// Writes a JPEG of <paramref name="planar"/> (3 channels) with an EXIF orientation tag (1 to 8): an APP1 segment
    /// holding one IFD entry, Orientation (0x0112, SHORT), right after the start-of-image marker, as cameras write it.
    /// </summary>
    public static void WriteJpegWithOrientation(string path, byte[] planar, int height, int width, ushort orientation)
    {
        var plain = Path.Combine(Path.GetDirectoryName(path)!, ".plain-" + Path.GetFileName(path));
        Write(plain, planar, 3, height, width, SKEncodedImageFormat.Jpeg, 100);
        var jpeg = File.ReadAllBytes(plain);
        File.Delete(plain);
        byte[] tiff =
        [
            (byte)'M', (byte)'M', 0, 42, 0, 0, 0, 8, // big-endian TIFF header, first IFD at offset 8
            0, 1, // one entry
            0x01, 0x12, 0, 3, 0, 0, 0, 1, (byte)(orientation >> 8), (byte)orientation, 0, 0, // Orientation, SHORT, 1 value
            0, 0, 0, 0, // no next IFD
        ];
        byte[] exif = [.. "Exif\0\0"u8, .. tiff];
        var length = exif.Length + 2;
        byte[] app1 = [0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. exif];
        File.WriteAllBytes(path, [.. jpeg.AsSpan(0, 2), .. app1, .. jpeg.AsSpan(2)]);
    }
}
