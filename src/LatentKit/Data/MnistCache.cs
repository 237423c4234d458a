using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LatentKit.Data;

/// <summary>
/// A folder of verified, uncompressed MNIST-format files. A file enters it only after it was checked (size and SHA-256
/// when known, otherwise the IDX structure): a source writes to a temporary file in the folder, which is decompressed
/// if it is gzip, checked, and renamed into place; on any failure nothing is left behind. A cached file that fails the
/// check is deleted and fetched again. All of this happens under a lock file (<c>.lock</c>, opened exclusively), so
/// several processes can fill the same cache at once. A <c>.gz</c> file put into the folder by hand is decompressed,
/// verified and stored raw beside it on first use.
/// </summary>
public sealed class MnistCache
{
    /// <summary>Name of the lock file in the cache folder; it stays there (deleting a lock file races with its users).</summary>
    public const string LockFileName = ".lock";

    private const string TempSuffix = ".tmp";
    private static readonly TimeSpan LockRetryDelay = TimeSpan.FromMilliseconds(100);

    /// <summary>Creates a cache over <paramref name="directory"/> (created when first needed).</summary>
    /// <param name="directory">The cache folder.</param>
    /// <param name="knownFiles">Sizes and checksums to verify files against, by file name (default <see cref="MnistFiles.Known"/>); files not in it are checked for IDX structure only.</param>
    /// <param name="lockTimeout">How long to wait for another process holding the lock (default 10 minutes).</param>
    public MnistCache(string directory, IReadOnlyDictionary<string, MnistFileInfo>? knownFiles = null, TimeSpan? lockTimeout = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory = Path.GetFullPath(directory);
        KnownFiles = knownFiles ?? MnistFiles.Known;
        LockTimeout = lockTimeout ?? TimeSpan.FromMinutes(10);
    }

    /// <summary>The cache folder.</summary>
    public string Directory { get; }

    /// <summary>Sizes and checksums that files are verified against, by file name.</summary>
    public IReadOnlyDictionary<string, MnistFileInfo> KnownFiles { get; }

    /// <summary>How long to wait for another process holding the lock.</summary>
    public TimeSpan LockTimeout { get; }

    /// <summary>Where <paramref name="fileName"/> is (or would be) cached.</summary>
    public string GetPath(string fileName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(fileName);
        if (Path.GetFileName(fileName) != fileName)
        {
            throw new ArgumentException($"'{fileName}' is not a plain file name.", nameof(fileName));
        }

        return Path.Combine(Directory, fileName);
    }

    /// <summary>
    /// Checks a file (uncompressed) against the known size and SHA-256 of <paramref name="fileName"/>, or, when none is
    /// known, its IDX structure. Returns the problem, or null when the file is good.
    /// </summary>
    public string? Check(string path, string fileName)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(fileName);
        if (!KnownFiles.TryGetValue(fileName, out var known))
        {
            return IdxReader.CheckRawStructure(path);
        }

        var size = new FileInfo(path).Length;
        if (size != known.Size)
        {
            return $"size {size} bytes differs from the expected {known.Size} bytes.";
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var sha = Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
        return string.Equals(sha, known.Sha256, StringComparison.OrdinalIgnoreCase)
            ? null
            : $"SHA-256 {sha} differs from the expected {known.Sha256}.";
    }

    /// <summary>
    /// Returns the path of a verified copy of <paramref name="fileName"/> in the cache, fetching it from the first of
    /// <paramref name="sources"/> that delivers a good one when the cache has none (or a corrupt one).
    /// </summary>
    /// <exception cref="MnistSourceException">Every source failed; the message lists each with its reason.</exception>
    /// <exception cref="TimeoutException">Another process held the cache lock longer than <see cref="LockTimeout"/>.</exception>
    public async Task<string> GetOrFetchAsync(
        string fileName,
        IReadOnlyList<IMnistSource> sources,
        IProgress<MnistDownloadProgress>? progress = null,
        ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sources);
        logger ??= NullLogger.Instance;
        var path = GetPath(fileName);
        System.IO.Directory.CreateDirectory(Directory);
        using var cacheLock = await AcquireLockAsync(logger, cancellationToken).ConfigureAwait(false);
        if (cacheLock is not null)
        {
            DeleteStaleTemporaryFiles(logger);
        }

        var attempts = new List<MnistSourceAttempt>();
        if (File.Exists(path))
        {
            var problem = Check(path, fileName);
            if (problem is null)
            {
                logger.LogDebug("MNIST {File}: verified in cache {Path}", fileName, path);
                return path;
            }

            logger.LogWarning("MNIST {File}: cached copy {Path} is corrupt ({Problem}); deleting it and fetching it again", fileName, path, problem);
            File.Delete(path);
            attempts.Add(new($"cache {Directory}", $"corrupt copy deleted: {problem}"));
        }
        else
        {
            attempts.Add(new($"cache {Directory}", "not there yet."));
        }

        // A .gz put into the cache folder by hand is taken first, like a source: decompressed, verified, stored raw.
        IEnumerable<IMnistSource> candidates = File.Exists(path + MnistFiles.GzipSuffix) ? [new DirectorySource(Directory), .. sources] : sources;
        foreach (var source in candidates)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var stopwatch = Stopwatch.StartNew();
            logger.LogInformation("MNIST {File}: trying {Source}", fileName, source.Name);
            var download = Path.Combine(Directory, $"{fileName}.{Guid.NewGuid():N}.download{TempSuffix}");
            var raw = Path.Combine(Directory, $"{fileName}.{Guid.NewGuid():N}.raw{TempSuffix}");
            try
            {
                await source.FetchAsync(fileName, download, progress, logger, cancellationToken).ConfigureAwait(false);
                if (!File.Exists(download))
                {
                    throw new FileNotFoundException("the source reported success but wrote no file.");
                }

                var candidate = download;
                if (IsGzip(download))
                {
                    await DecompressAsync(download, raw, cancellationToken).ConfigureAwait(false);
                    candidate = raw;
                }

                var problem = Check(candidate, fileName);
                if (problem is not null)
                {
                    throw new InvalidDataException($"delivered a corrupt file: {problem}");
                }

                File.Move(candidate, path, overwrite: true);
                logger.LogInformation(
                    "MNIST {File}: got it from {Source} in {Seconds:F1} s, verified and stored as {Path}",
                    fileName,
                    source.Name,
                    stopwatch.Elapsed.TotalSeconds,
                    path);
                return path;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e)
            {
                var reason = Describe(e);
                logger.LogWarning("MNIST {File}: {Source} failed after {Seconds:F1} s: {Reason}", fileName, source.Name, stopwatch.Elapsed.TotalSeconds, reason);
                attempts.Add(new(source.Name, reason));
            }
            finally
            {
                DeleteQuietly(download);
                DeleteQuietly(raw);
            }
        }

        throw new MnistSourceException(fileName, attempts, Directory);
    }

    private static string Describe(Exception e)
    {
        var message = e.Message;
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (!message.Contains(inner.Message, StringComparison.Ordinal))
            {
                message += " (" + inner.Message + ")";
            }
        }

        return $"{message} [{e.GetType().Name}]";
    }

    private static bool IsGzip(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return IdxReader.IsGzip(file);
    }

    private static async Task DecompressAsync(string gzipPath, string rawPath, CancellationToken cancellationToken)
    {
        var input = new FileStream(gzipPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        await using (input.ConfigureAwait(false))
        {
            var gzip = new System.IO.Compression.GZipStream(input, System.IO.Compression.CompressionMode.Decompress);
            await using (gzip.ConfigureAwait(false))
            {
                var output = new FileStream(rawPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
                await using (output.ConfigureAwait(false))
                {
                    try
                    {
                        await gzip.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
                    }
                    catch (InvalidDataException e)
                    {
                        throw new InvalidDataException($"delivered gzip data that does not decompress: {e.Message}", e);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Takes the cache lock, waiting for other loaders. Returns null when the folder is read-only (files put there by
    /// hand can then still be verified and read; fetching fails at its first write and is reported per source).
    /// </summary>
    private async Task<FileStream?> AcquireLockAsync(ILogger logger, CancellationToken cancellationToken)
    {
        var lockPath = Path.Combine(Directory, LockFileName);
        var stopwatch = Stopwatch.StartNew();
        var waiting = false;
        while (true)
        {
            try
            {
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (stopwatch.Elapsed < LockTimeout)
            {
                if (!waiting)
                {
                    waiting = true;
                    logger.LogInformation("MNIST cache {Directory} is locked by another loader; waiting up to {Seconds:F0} s", Directory, LockTimeout.TotalSeconds);
                }

                await Task.Delay(LockRetryDelay, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw new TimeoutException($"The MNIST cache lock {lockPath} was held by another loader for more than {LockTimeout.TotalSeconds:F0} s.", e);
            }
            catch (UnauthorizedAccessException e)
            {
                logger.LogWarning("MNIST cache {Directory} is read-only ({Reason}); reading it without a lock", Directory, e.Message);
                return null;
            }
        }
    }

    /// <summary>Deletes temporary files that a killed loader left behind (safe: the caller holds the lock).</summary>
    private void DeleteStaleTemporaryFiles(ILogger logger)
    {
        foreach (var stale in System.IO.Directory.EnumerateFiles(Directory, "*" + TempSuffix))
        {
            logger.LogInformation("MNIST cache: deleting {Path}, left behind by an interrupted load", stale);
            DeleteQuietly(stale);
        }
    }

    private static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Nothing more to do; a later load deletes it under the lock.
        }
        catch (UnauthorizedAccessException)
        {
            // Same.
        }
    }
}
