namespace LatentKit;

/// <summary>The size and SHA-256 of one uncompressed MNIST-format file, used to verify it.</summary>
/// <param name="FileName">The standard file name, for example <c>train-images-idx3-ubyte</c>.</param>
/// <param name="Size">Size of the uncompressed file in bytes.</param>
/// <param name="Sha256">SHA-256 of the uncompressed file, as hexadecimal (case is ignored).</param>
public sealed record MnistFileInfo(string FileName, long Size, string Sha256);

/// <summary>The four standard MNIST file names and the known size and SHA-256 of each (uncompressed).</summary>
public static class MnistFiles
{
    /// <summary>The 60,000 training images.</summary>
    public const string TrainImages = "train-images-idx3-ubyte";

    /// <summary>The 60,000 training labels.</summary>
    public const string TrainLabels = "train-labels-idx1-ubyte";

    /// <summary>The 10,000 test images.</summary>
    public const string TestImages = "t10k-images-idx3-ubyte";

    /// <summary>The 10,000 test labels.</summary>
    public const string TestLabels = "t10k-labels-idx1-ubyte";

    /// <summary>The suffix of the gzip-compressed form of each file.</summary>
    public const string GzipSuffix = ".gz";

    /// <summary>The four standard file names.</summary>
    public static IReadOnlyList<string> All { get; } = [TrainImages, TrainLabels, TestImages, TestLabels];

    /// <summary>Size and SHA-256 of the four original MNIST files (uncompressed), keyed by file name.</summary>
    public static IReadOnlyDictionary<string, MnistFileInfo> Known { get; } = new Dictionary<string, MnistFileInfo>(StringComparer.Ordinal)
    {
        [TrainImages] = new(TrainImages, 47_040_016, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
        [TrainLabels] = new(TrainLabels, 60_008, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
        [TestImages] = new(TestImages, 7_840_016, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
        [TestLabels] = new(TestLabels, 10_008, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    }.AsReadOnly();

    /// <summary>
    /// The most bytes a source may deliver for a file of at most <paramref name="rawSize"/> bytes uncompressed, raw or
    /// gzip: the raw size plus 0.1% and 64 KiB (deflate's stored blocks add 5 bytes per 65,535; the rest is room for
    /// gzip headers). Downloads, copies and tar entries stop with an error at this limit.
    /// </summary>
    internal static long MaxDeliveredSize(long rawSize) => rawSize + (rawSize / 1000) + 65_536;

    /// <summary>
    /// The most bytes <paramref name="fileName"/> may have uncompressed: its size in <paramref name="knownFiles"/>, or
    /// else that of the largest IDX file LatentKit reads (<see cref="MnistDataset.MaxImageCount"/> images).
    /// Decompression stops with an error at this limit.
    /// </summary>
    internal static long MaxRawSize(string fileName, IReadOnlyDictionary<string, MnistFileInfo> knownFiles) =>
        knownFiles.TryGetValue(fileName, out var known) ? known.Size : IdxReader.MaxFileSize;

    /// <summary>Describes the limit of <see cref="MaxDeliveredSize"/> for messages.</summary>
    internal static string DescribeDeliveredLimit(string fileName, long maxBytes) =>
        $"the limit of {maxBytes} bytes for {fileName} (its largest size, raw or gzip)";

    /// <summary>The images file name of a split.</summary>
    public static string ImagesFile(MnistSplit split) => split switch
    {
        MnistSplit.Train => TrainImages,
        MnistSplit.Test => TestImages,
        _ => throw new ArgumentOutOfRangeException(nameof(split), split, "Unknown MNIST split."),
    };

    /// <summary>The labels file name of a split.</summary>
    public static string LabelsFile(MnistSplit split) => split switch
    {
        MnistSplit.Train => TrainLabels,
        MnistSplit.Test => TestLabels,
        _ => throw new ArgumentOutOfRangeException(nameof(split), split, "Unknown MNIST split."),
    };
}
