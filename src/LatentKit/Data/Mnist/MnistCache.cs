using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LatentKit;

/// <summary>
/// A folder of verified, uncompressed MNIST-format files. A file enters it only after it was checked (size and SHA-256
/// when known, otherwise the IDX structure): a source writes to a temporary file in the folder, which is decompressed
/// if it is gzip, checked, and renamed into place; on any failure nothing is left behind. A cached file that fails the
/// check is deleted and fetched again. All of this happens under a lock file (<c>.lock</c>, opened exclusively), so
/// several processes can fill the same cache at once. A <c>.gz</c> file put into the folder by hand is decompressed,
/// verified and stored raw beside it on first use. The cache's temporary files are named
/// <c>latentkit-&lt;32 hex digits&gt;-&lt;file name&gt;.download.tmp</c> (or <c>.raw.tmp</c>); left-overs of that
/// pattern are deleted under the lock, and no other file in the folder is ever touched.
/// </summary>
internal sealed partial class MnistCache
{
    /// <summary>Name of the lock file in the cache folder; it stays there (deleting a lock file races with its users).</summary>
    public const string LockFileName = ".lock";

    private const string TempPrefix = "latentkit-";
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

    /// <summary>Deletes a file of the cache (a seam for tests of deletion failures).</summary>
    internal Action<string> DeleteFile { get; init; } = File.Delete;

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
    /// <paramref name="sources"/> that delivers a good one when the cache has none (or a corrupt one). What a source
    /// delivers may be at most <see cref="MnistFiles.MaxDeliveredSize"/> of the file's known size (or of the largest IDX
    /// file when its size is not known), and may decompress to at most that size; the built-in sources stop writing at
    /// that limit. When the lock file cannot be opened for any other reason than another loader holding it (a read-only
    /// folder, a permission or other I/O error), a verified copy already in the cache is still returned, but nothing is
    /// fetched: the error names the lock file and the real cause at once.
    /// </summary>
    /// <exception cref="MnistSourceException">
    /// Every source failed (the message lists each with its reason), or the cache folder cannot be created, locked, or
    /// cleared of a corrupt copy (the message says why).
    /// </exception>
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
        var cacheName = $"cache {Directory}";
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MnistSourceException(fileName, [new(cacheName, $"cannot create the cache folder {Directory}: {Describe(e)}")], Directory);
        }

        var (cacheLock, lockProblem) = await AcquireLockAsync(logger, cancellationToken).ConfigureAwait(false);
        using var heldLock = cacheLock;
        if (cacheLock is not null)
        {
            DeleteStaleTemporaryFiles(logger);
        }

        var attempts = new List<MnistSourceAttempt>();
        if (File.Exists(path))
        {
            string? problem;
            try
            {
                problem = Check(path, fileName);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new MnistSourceException(fileName, [new(cacheName, $"the cached copy {path} cannot be read: {Describe(e)}")], Directory);
            }

            if (problem is null)
            {
                if (cacheLock is null)
                {
                    logger.LogWarning("MNIST {File}: {Problem}; reading the verified copy {Path} without a lock", fileName, lockProblem, path);
                }

                logger.LogDebug("MNIST {File}: verified in cache {Path}", fileName, path);
                return path;
            }

            if (cacheLock is null)
            {
                throw new MnistSourceException(fileName, [new(cacheName, $"the cached copy is corrupt ({problem}) and cannot be replaced: {lockProblem}")], Directory);
            }

            logger.LogWarning("MNIST {File}: cached copy {Path} is corrupt ({Problem}); deleting it and fetching it again", fileName, path, problem);
            try
            {
                DeleteFile(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new MnistSourceException(fileName, [new(cacheName, $"the cached copy {path} is corrupt ({problem}) and cannot be deleted: {Describe(e)}")], Directory);
            }

            attempts.Add(new(cacheName, $"corrupt copy deleted: {problem}"));
        }
        else if (cacheLock is null)
        {
            throw new MnistSourceException(fileName, [new(cacheName, $"not there, and nothing can be fetched into it: {lockProblem}")], Directory);
        }
        else
        {
            attempts.Add(new(cacheName, "not there yet."));
        }

        var maxRaw = MnistFiles.MaxRawSize(fileName, KnownFiles);
        var maxDelivered = MnistFiles.MaxDeliveredSize(maxRaw);

        // A .gz put into the cache folder by hand is taken first, like a source: decompressed, verified, stored raw.
        IEnumerable<IMnistSource> candidates = File.Exists(path + MnistFiles.GzipSuffix) ? [new DirectorySource(Directory), .. sources] : sources;
        foreach (var source in candidates)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var stopwatch = Stopwatch.StartNew();
            logger.LogInformation("MNIST {File}: trying {Source}", fileName, source.Name);
            var download = Path.Combine(Directory, TemporaryFileName(fileName, "download"));
            var raw = Path.Combine(Directory, TemporaryFileName(fileName, "raw"));
            try
            {
                if (source is ISizeLimitedMnistSource limited)
                {
                    await limited.FetchAsync(fileName, download, maxDelivered, progress, logger, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await source.FetchAsync(fileName, download, progress, logger, cancellationToken).ConfigureAwait(false);
                }

                if (!File.Exists(download))
                {
                    throw new FileNotFoundException("the source reported success but wrote no file.");
                }

                var delivered = new FileInfo(download).Length;
                if (delivered > maxDelivered)
                {
                    throw new InvalidDataException($"delivered {delivered} bytes, more than {MnistFiles.DescribeDeliveredLimit(fileName, maxDelivered)}.");
                }

                var candidate = download;
                if (IsGzip(download))
                {
                    await DecompressAsync(download, raw, fileName, maxRaw, cancellationToken).ConfigureAwait(false);
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

    /// <summary>
    /// The name of a temporary file of the cache: <c>latentkit-&lt;32 hex digits&gt;-&lt;file name&gt;.&lt;kind&gt;.tmp</c>.
    /// Only names of this pattern (<see cref="IsTemporaryFileName"/>) are ever deleted as left-overs.
    /// </summary>
    internal static string TemporaryFileName(string fileName, string kind) => $"{TempPrefix}{Guid.NewGuid():N}-{fileName}.{kind}{TempSuffix}";

    /// <summary>True for a name made by <see cref="TemporaryFileName"/> (a download or decompressed file), false for anything else.</summary>
    internal static bool IsTemporaryFileName(string name) => TemporaryName().IsMatch(name);

    [GeneratedRegex(@"^latentkit-[0-9a-f]{32}-.+\.(download|raw)\.tmp$", RegexOptions.CultureInvariant)]
    private static partial Regex TemporaryName();

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

    private static async Task DecompressAsync(string gzipPath, string rawPath, string fileName, long maxRaw, CancellationToken cancellationToken)
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
                    var limited = new LimitedReadStream(gzip, maxRaw, read => $"delivered gzip data that decompresses to more than {maxRaw} bytes, the largest size {fileName} can have; decompression was stopped.");
                    try
                    {
                        await limited.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
                    }
                    catch (InvalidDataException e) when (limited.BytesRead <= maxRaw)
                    {
                        throw new InvalidDataException($"delivered gzip data that does not decompress: {e.Message}", e);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Takes the cache lock, waiting while another loader holds it. Any other failure to open the lock file (a
    /// read-only folder, a permission or other I/O error) is not waited out: the lock is null and the problem says why.
    /// </summary>
    private async Task<(FileStream? Lock, string? Problem)> AcquireLockAsync(ILogger logger, CancellationToken cancellationToken)
    {
        var lockPath = Path.Combine(Directory, LockFileName);
        var stopwatch = Stopwatch.StartNew();
        var waiting = false;
        while (true)
        {
            try
            {
                return (new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None), null);
            }
            catch (IOException e) when (IsLockContention(e))
            {
                if (stopwatch.Elapsed >= LockTimeout)
                {
                    throw new TimeoutException($"The MNIST cache lock {lockPath} was held by another loader for more than {LockTimeout.TotalSeconds:F0} s.", e);
                }

                if (!waiting)
                {
                    waiting = true;
                    logger.LogInformation("MNIST cache {Directory} is locked by another loader; waiting up to {Seconds:F0} s", Directory, LockTimeout.TotalSeconds);
                }

                await Task.Delay(LockRetryDelay, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return (null, $"cannot open the lock file {lockPath}: {Describe(e)}");
            }
        }
    }

    /// <summary>
    /// True when opening a file with <see cref="FileShare.None"/> failed because another handle holds it: on Unix .NET
    /// takes an exclusive <c>flock</c>, which fails with EWOULDBLOCK (11 on Linux, 35 on macOS and the BSDs), reported
    /// as a plain <see cref="IOException"/> whose HResult is that errno; on Windows a sharing or lock violation
    /// (Win32 errors 32 and 33).
    /// </summary>
    internal static bool IsLockContention(IOException e)
    {
        if (e.GetType() != typeof(IOException))
        {
            return false;
        }

        if (OperatingSystem.IsWindows())
        {
            return (e.HResult & 0xFFFF) is 32 or 33;
        }

        return e.HResult == (OperatingSystem.IsLinux() ? 11 : 35);
    }

    /// <summary>Deletes temporary files that a killed loader left behind (safe: the caller holds the lock). Only names the library makes are touched.</summary>
    private void DeleteStaleTemporaryFiles(ILogger logger)
    {
        foreach (var stale in System.IO.Directory.EnumerateFiles(Directory, TempPrefix + "*" + TempSuffix))
        {
            if (IsTemporaryFileName(Path.GetFileName(stale)))
            {
                logger.LogInformation("MNIST cache: deleting {Path}, left behind by an interrupted load", stale);
                DeleteQuietly(stale);
            }
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
