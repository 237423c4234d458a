using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace LatentKit;

/// <summary>
/// A source that downloads <c>&lt;base URI&gt;&lt;file name&gt;.gz</c> over HTTP(S), reporting the bytes received.
/// Fails fast when the host cannot be reached (the connect timeout is short), gives up on a download that takes
/// longer than the overall timeout, and stops a download that is (or announces to be) larger than the file can be:
/// when the cache fetches a file, the limit is that file's known size plus gzip's overhead (0.1% and 64 KiB);
/// otherwise that of the largest IDX file LatentKit reads.
/// </summary>
internal sealed class HttpMirrorSource : IMnistSource, ISizeLimitedMnistSource
{
    private const int BufferSize = 1 << 16;
    private const long ProgressStep = 256 * 1024;
    private readonly HttpClient? httpClient;

    /// <summary>Creates a source for a mirror.</summary>
    /// <param name="baseUri">The folder URI that holds the <c>.gz</c> files (a trailing slash is added if missing).</param>
    /// <param name="httpClient">A client to use (its own settings then apply to connecting); null makes one per download.</param>
    /// <param name="connectTimeout">How long to try to connect, for a client made here (default 10 s).</param>
    /// <param name="timeout">How long one whole download may take (default 5 minutes).</param>
    public HttpMirrorSource(Uri baseUri, HttpClient? httpClient = null, TimeSpan? connectTimeout = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(baseUri);
        if (!baseUri.IsAbsoluteUri)
        {
            throw new ArgumentException($"The mirror URI '{baseUri}' must be absolute.", nameof(baseUri));
        }

        BaseUri = baseUri.AbsoluteUri.EndsWith('/') ? baseUri : new Uri(baseUri.AbsoluteUri + "/");
        this.httpClient = httpClient;
        ConnectTimeout = connectTimeout ?? TimeSpan.FromSeconds(10);
        Timeout = timeout ?? TimeSpan.FromMinutes(5);
    }

    /// <summary>The folder URI that holds the <c>.gz</c> files.</summary>
    public Uri BaseUri { get; }

    /// <summary>How long to try to connect (for a client made by this source).</summary>
    public TimeSpan ConnectTimeout { get; }

    /// <summary>How long one whole download may take.</summary>
    public TimeSpan Timeout { get; }

    /// <inheritdoc />
    public string Name => $"HTTP mirror {BaseUri}";

    /// <inheritdoc />
    public Task FetchAsync(string fileName, string destinationPath, IProgress<MnistDownloadProgress>? progress, ILogger logger, CancellationToken cancellationToken) =>
        DownloadAsync(fileName, destinationPath, MnistFiles.MaxDeliveredSize(IdxReader.MaxFileSize), progress, logger, cancellationToken);

    /// <inheritdoc />
    Task ISizeLimitedMnistSource.FetchAsync(string fileName, string destinationPath, long maxBytes, IProgress<MnistDownloadProgress>? progress, ILogger logger, CancellationToken cancellationToken) =>
        DownloadAsync(fileName, destinationPath, maxBytes, progress, logger, cancellationToken);

    private async Task DownloadAsync(string fileName, string destinationPath, long maxBytes, IProgress<MnistDownloadProgress>? progress, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        var uri = new Uri(BaseUri, fileName + MnistFiles.GzipSuffix);
        using var ownedClient = httpClient is null ? CreateClient(ConnectTimeout) : null;
        var client = httpClient ?? ownedClient!;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        var stopwatch = Stopwatch.StartNew();
        try
        {
            using var response = await client.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"GET {uri} answered {(int)response.StatusCode} {response.ReasonPhrase}.", null, response.StatusCode);
            }

            var total = response.Content.Headers.ContentLength;
            if (total > maxBytes)
            {
                throw new InvalidDataException($"GET {uri} announces {total} bytes, more than {MnistFiles.DescribeDeliveredLimit(fileName, maxBytes)}; nothing was downloaded.");
            }

            var responseBody = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            var body = new LimitedReadStream(responseBody, maxBytes, read => $"GET {uri} delivered {read} bytes so far, more than {MnistFiles.DescribeDeliveredLimit(fileName, maxBytes)}; the download was stopped.");
            await using (responseBody.ConfigureAwait(false))
            {
                var target = new FileStream(destinationPath, FileMode.Create, FileAccess.Write, FileShare.None, BufferSize, useAsync: true);
                await using (target.ConfigureAwait(false))
                {
                    var buffer = new byte[BufferSize];
                    long done = 0;
                    long reported = 0;
                    progress?.Report(new(Name, fileName, 0, total));
                    int n;
                    while ((n = await body.ReadAsync(buffer, timeout.Token).ConfigureAwait(false)) > 0)
                    {
                        await target.WriteAsync(buffer.AsMemory(0, n), timeout.Token).ConfigureAwait(false);
                        done += n;
                        if (done - reported >= ProgressStep)
                        {
                            reported = done;
                            progress?.Report(new(Name, fileName, done, total));
                        }
                    }

                    if (total is { } expected && done != expected)
                    {
                        throw new IOException($"GET {uri} ended after {done} of {expected} bytes.");
                    }

                    progress?.Report(new(Name, fileName, done, total ?? done));
                    logger.LogDebug("Downloaded {Uri}: {Bytes} bytes in {Seconds:F1} s", uri, done, stopwatch.Elapsed.TotalSeconds);
                }
            }
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            // The handler's connect timeout (or a caller's HttpClient.Timeout) surfaces as a cancellation wrapping a TimeoutException.
            throw e.InnerException is TimeoutException inner && !timeout.IsCancellationRequested
                ? new TimeoutException($"GET {uri} timed out: {inner.Message}", e)
                : new TimeoutException($"GET {uri} did not complete within {Timeout.TotalSeconds:F0} s.", e);
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException or IOException)
        {
            // Keep the reason short and specific: "Name or service not known (host:443)", "Connection refused", ...
            throw new HttpRequestException($"GET {uri} failed: {e.Message}", e, e.StatusCode);
        }
    }

    private static HttpClient CreateClient(TimeSpan connectTimeout) =>
        new(new SocketsHttpHandler { ConnectTimeout = connectTimeout, AllowAutoRedirect = true })
        {
            Timeout = System.Threading.Timeout.InfiniteTimeSpan,
        };
}
