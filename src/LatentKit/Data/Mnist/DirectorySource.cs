using Microsoft.Extensions.Logging;

namespace LatentKit;

/// <summary>
/// A source that copies the files from a folder, where each may be raw or gzip-compressed (<c>name</c> or
/// <c>name.gz</c>; the raw one is preferred). Useful for a shared or offline copy that should feed the cache. A file
/// larger than the file can be is not copied: when the cache fetches a file, the limit is that file's known size plus
/// gzip's overhead (0.1% and 64 KiB); otherwise that of the largest IDX file LatentKit reads.
/// </summary>
internal sealed class DirectorySource : IMnistSource, ISizeLimitedMnistSource
{
    /// <summary>Creates a source for the files in <paramref name="directory"/>.</summary>
    public DirectorySource(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory = Path.GetFullPath(directory);
    }

    /// <summary>The folder holding the files.</summary>
    public string Directory { get; }

    /// <inheritdoc />
    public string Name => $"directory {Directory}";

    /// <summary>The path of <paramref name="fileName"/> in <paramref name="directory"/>, raw or <c>.gz</c>, or null when neither exists.</summary>
    public static string? FindFile(string directory, string fileName)
    {
        var raw = Path.Combine(directory, fileName);
        if (File.Exists(raw))
        {
            return raw;
        }

        var gz = raw + MnistFiles.GzipSuffix;
        return File.Exists(gz) ? gz : null;
    }

    /// <inheritdoc />
    public Task FetchAsync(string fileName, string destinationPath, IProgress<MnistDownloadProgress>? progress, ILogger logger, CancellationToken cancellationToken) =>
        CopyAsync(fileName, destinationPath, MnistFiles.MaxDeliveredSize(IdxReader.MaxFileSize), progress, cancellationToken);

    /// <inheritdoc />
    Task ISizeLimitedMnistSource.FetchAsync(string fileName, string destinationPath, long maxBytes, IProgress<MnistDownloadProgress>? progress, ILogger logger, CancellationToken cancellationToken) =>
        CopyAsync(fileName, destinationPath, maxBytes, progress, cancellationToken);

    private async Task CopyAsync(string fileName, string destinationPath, long maxBytes, IProgress<MnistDownloadProgress>? progress, CancellationToken cancellationToken)
    {
        var path = FindFile(Directory, fileName)
            ?? throw new FileNotFoundException($"neither {fileName} nor {fileName}{MnistFiles.GzipSuffix} exists in {Directory}.", Path.Combine(Directory, fileName));
        var source = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        await using (source.ConfigureAwait(false))
        {
            if (source.Length > maxBytes)
            {
                throw new InvalidDataException($"{path} has {source.Length} bytes, more than {MnistFiles.DescribeDeliveredLimit(fileName, maxBytes)}; it was not copied.");
            }

            progress?.Report(new(Name, fileName, 0, source.Length));
            var target = new FileStream(destinationPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
            await using (target.ConfigureAwait(false))
            {
                var limited = new LimitedReadStream(source, maxBytes, read => $"{path} grew to more than {MnistFiles.DescribeDeliveredLimit(fileName, maxBytes)} while it was copied.");
                await limited.CopyToAsync(target, cancellationToken).ConfigureAwait(false);
            }

            progress?.Report(new(Name, fileName, source.Length, source.Length));
        }
    }
}
