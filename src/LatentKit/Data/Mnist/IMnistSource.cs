using Microsoft.Extensions.Logging;

namespace LatentKit;

/// <summary>
/// A place MNIST files can be fetched from into the cache (an HTTP mirror, the npm registry, a folder, or a fake in
/// tests). Sources are tried in order; a source fails by throwing, and the exception's message is recorded as the
/// reason. The loader checks what a source delivered (size limit, checksum, IDX structure) before it enters the cache,
/// so a source need not verify anything itself. The size limit of a file is its known size plus gzip's overhead (0.1%
/// and 64 KiB): the built-in sources stop writing as soon as they pass it; a file written by another source is
/// rejected after <see cref="FetchAsync"/> returns if it is larger.
/// </summary>
public interface IMnistSource
{
    /// <summary>A short name for logs and error messages, for example <c>HTTP mirror https://example.org/mnist/</c>.</summary>
    string Name { get; }

    /// <summary>
    /// Writes the content of <paramref name="fileName"/> to <paramref name="destinationPath"/>, either raw or
    /// gzip-compressed (the loader recognises gzip by its magic bytes). Throws when the file cannot be had; whatever was
    /// written is then discarded by the caller.
    /// </summary>
    /// <param name="fileName">A standard file name such as <c>train-images-idx3-ubyte</c> (without <c>.gz</c>).</param>
    /// <param name="destinationPath">A temporary file to create or overwrite.</param>
    /// <param name="progress">Receives progress, if not null.</param>
    /// <param name="logger">For details beyond the one line per attempt that the loader logs itself.</param>
    /// <param name="cancellationToken">Cancels the fetch.</param>
    Task FetchAsync(string fileName, string destinationPath, IProgress<MnistDownloadProgress>? progress, ILogger logger, CancellationToken cancellationToken);
}
