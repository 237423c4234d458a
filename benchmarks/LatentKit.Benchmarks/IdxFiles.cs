using System.Buffers.Binary;
using LatentKit.Data;

namespace LatentKit.Benchmarks;

/// <summary>
/// A minimal reader of raw (uncompressed) MNIST IDX files, for this measurement program only, until the library's
/// own loader (<c>MnistDataset.Load</c>) is available here. Not part of LatentKit's API.
/// </summary>
internal static class IdxFiles
{
    public static MnistDataset Read(string folder, MnistSplit split)
    {
        var prefix = split == MnistSplit.Train ? "train" : "t10k";
        var images = File.ReadAllBytes(Path.Combine(folder, $"{prefix}-images-idx3-ubyte"));
        var labels = File.ReadAllBytes(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte"));
        if (BinaryPrimitives.ReadInt32BigEndian(images) != 0x803 || BinaryPrimitives.ReadInt32BigEndian(labels) != 0x801)
        {
            throw new InvalidDataException($"Not MNIST IDX files in {folder}.");
        }

        var count = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(4));
        return new MnistDataset(images.AsSpan(16, count * MnistDataset.PixelsPerImage), labels.AsSpan(8, count), $"MNIST {split}");
    }
}
