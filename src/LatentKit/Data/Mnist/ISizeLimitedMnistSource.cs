using Microsoft.Extensions.Logging;

namespace LatentKit;

/// <summary>
/// A source that can stop writing at a size limit given per file (the built-in sources). The cache passes the limit of
/// each file (<see cref="MnistFiles.MaxDeliveredSize"/> of its known size); other sources are checked after they wrote.
/// </summary>
internal interface ISizeLimitedMnistSource
{
    /// <summary>Like <see cref="IMnistSource.FetchAsync"/>, but fails as soon as more than <paramref name="maxBytes"/> bytes would be written.</summary>
    Task FetchAsync(string fileName, string destinationPath, long maxBytes, IProgress<MnistDownloadProgress>? progress, ILogger logger, CancellationToken cancellationToken);
}
