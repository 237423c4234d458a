namespace LatentKit.Data;

/// <summary>Loading MNIST and other MNIST-format datasets from IDX files.</summary>
public sealed partial class MnistDataset
{
    /// <summary>
    /// Loads a split of any dataset in the MNIST format (for example Fashion-MNIST or KMNIST) from a folder holding the
    /// standard file names, each raw or <c>.gz</c>. Every file is fully validated (magic, 28 x 28, lengths, labels 0..9,
    /// matching counts). Checksums are checked only when <paramref name="knownFiles"/> is given (for example
    /// <see cref="MnistFiles.Known"/> to insist on MNIST itself): other MNIST-format datasets share MNIST's file names
    /// and even its file sizes, so a name and size say nothing about which dataset a file is.
    /// </summary>
    /// <param name="directory">The folder.</param>
    /// <param name="split">Which pair of files to read.</param>
    /// <param name="knownFiles">Sizes and SHA-256 to insist on, by file name; files not in it are not checksummed.</param>
    /// <exception cref="FileNotFoundException">A file is in neither raw nor <c>.gz</c> form.</exception>
    /// <exception cref="MnistFormatException">A file is not valid, the counts differ, or a checksum does not match.</exception>
    public static MnistDataset LoadFromDirectory(string directory, MnistSplit split, IReadOnlyDictionary<string, MnistFileInfo>? knownFiles = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        string Find(string fileName) => FindFile(directory, fileName)
            ?? throw new FileNotFoundException($"Neither {fileName} nor {fileName}{MnistFiles.GzipSuffix} exists in {Path.GetFullPath(directory)}.", Path.Combine(directory, fileName));

        var imagesFile = MnistFiles.ImagesFile(split);
        var labelsFile = MnistFiles.LabelsFile(split);
        var imagesPath = Find(imagesFile);
        var labelsPath = Find(labelsFile);
        var labels = IdxReader.ReadFile(labelsPath, IdxKind.Labels, knownFiles?.GetValueOrDefault(labelsFile));
        var pixels = IdxReader.ReadFile(imagesPath, IdxKind.Images, knownFiles?.GetValueOrDefault(imagesFile));
        return Combine(pixels, imagesPath, labels, labelsPath, $"{Path.GetFullPath(directory)} ({split.ToString().ToLowerInvariant()})");
    }

    /// <summary>Loads a dataset from an IDX images file and an IDX labels file (each raw or gzip), fully validated.</summary>
    /// <exception cref="MnistFormatException">A file is not valid, or the image and label counts differ.</exception>
    public static MnistDataset LoadFromFiles(string imagesPath, string labelsPath, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(imagesPath);
        ArgumentNullException.ThrowIfNull(labelsPath);
        var labels = IdxReader.ReadLabels(labelsPath);
        var pixels = IdxReader.ReadImages(imagesPath);
        return Combine(pixels, imagesPath, labels, labelsPath, name ?? imagesPath);
    }

    private static MnistDataset Combine(byte[] pixels, string imagesPath, byte[] labels, string labelsPath, string name)
    {
        var images = pixels.Length / PixelsPerImage;
        if (images != labels.Length)
        {
            throw new MnistFormatException(
                labelsPath,
                $"count mismatch: it holds {labels.Length} labels but the images file '{imagesPath}' holds {images} images; the counts must be equal.");
        }

        return WrapValidated(pixels, labels, name);
    }

    /// <summary>The path of <paramref name="fileName"/> in <paramref name="directory"/>, raw or <c>.gz</c>, or null when neither exists.</summary>
    internal static string? FindFile(string directory, string fileName)
    {
        var raw = Path.Combine(directory, fileName);
        if (File.Exists(raw))
        {
            return raw;
        }

        var gz = raw + MnistFiles.GzipSuffix;
        return File.Exists(gz) ? gz : null;
    }
}
