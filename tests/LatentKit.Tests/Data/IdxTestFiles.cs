using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;

namespace LatentKit.Tests.Data;

/// <summary>Writes small IDX files (raw and gzip), good or deliberately broken, for the tests.</summary>
internal static class IdxTestFiles
{
    /// <summary>
    /// <paramref name="count"/> images whose first two pixels encode their index (so order can be traced) and whose
    /// other pixels are pseudo-random, and labels cycling through the digits with a seed-dependent offset.
    /// </summary>
    public static (byte[] Pixels, byte[] Labels) MakeData(int count, int seed = 1)
    {
        var random = new Random(seed);
        var pixels = new byte[count * MnistDataset.PixelsPerImage];
        random.NextBytes(pixels);
        var labels = new byte[count];
        for (var i = 0; i < count; i++)
        {
            pixels[i * MnistDataset.PixelsPerImage] = (byte)(i & 0xff);
            pixels[(i * MnistDataset.PixelsPerImage) + 1] = (byte)(i >> 8);
            labels[i] = (byte)((i + seed) % 10);
        }

        return (pixels, labels);
    }

    /// <summary>The index that <see cref="MakeData"/> encoded in an image.</summary>
    public static int IndexOf(ReadOnlySpan<byte> image) => image[0] | (image[1] << 8);

    public static byte[] Images(byte[] pixels, int? count = null, int rows = 28, int columns = 28, int magic = IdxReader.ImagesMagic)
    {
        var bytes = new byte[16 + pixels.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), count ?? pixels.Length / MnistDataset.PixelsPerImage);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), columns);
        pixels.CopyTo(bytes, 16);
        return bytes;
    }

    public static byte[] Labels(byte[] labels, int? count = null, int magic = IdxReader.LabelsMagic)
    {
        var bytes = new byte[8 + labels.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), count ?? labels.Length);
        labels.CopyTo(bytes, 8);
        return bytes;
    }

    public static byte[] Gzip(byte[] raw)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(raw);
        }

        return output.ToArray();
    }

    /// <summary>Writes <paramref name="raw"/> as <paramref name="fileName"/>, or gzip-compressed as <c>fileName.gz</c>; returns the path.</summary>
    public static string Write(string directory, string fileName, byte[] raw, bool gzip = false)
    {
        var path = Path.Combine(directory, gzip ? fileName + ".gz" : fileName);
        File.WriteAllBytes(path, gzip ? Gzip(raw) : raw);
        return path;
    }

    /// <summary>The files of a split, raw IDX content by standard file name.</summary>
    public static Dictionary<string, byte[]> SplitFiles(MnistSplit split, byte[] pixels, byte[] labels) => new()
    {
        [MnistFiles.ImagesFile(split)] = Images(pixels),
        [MnistFiles.LabelsFile(split)] = Labels(labels),
    };

    public static void WriteSplit(string directory, MnistSplit split, byte[] pixels, byte[] labels, bool gzip = false)
    {
        foreach (var (name, raw) in SplitFiles(split, pixels, labels))
        {
            Write(directory, name, raw, gzip);
        }
    }

    public static MnistFileInfo InfoOf(string fileName, byte[] raw) =>
        new(fileName, raw.Length, Convert.ToHexString(SHA256.HashData(raw)).ToLowerInvariant());

    /// <summary>Known checksums for fake files, so the checksum-verified pipeline runs on small data.</summary>
    public static Dictionary<string, MnistFileInfo> KnownFor(IReadOnlyDictionary<string, byte[]> files) =>
        files.ToDictionary(f => f.Key, f => InfoOf(f.Key, f.Value));
}
