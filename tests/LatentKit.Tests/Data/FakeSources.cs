using Microsoft.Extensions.Logging;

namespace LatentKit.Tests.Data;

/// <summary>A source that always fails with the given message.</summary>
internal sealed class ThrowingSource(string name, string message) : IMnistSource
{
    public int Calls;

    public string Name => name;

    public Task FetchAsync(string fileName, string destinationPath, IProgress<MnistDownloadProgress>? progress, ILogger logger, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Calls);
        throw new IOException(message);
    }
}

/// <summary>
/// A source that writes the bytes it has for a file (optionally gzip-compressed, or with a byte flipped, or cut short
/// before failing), after an optional delay.
/// </summary>
internal sealed class BytesSource(string name, IReadOnlyDictionary<string, byte[]> files) : IMnistSource
{
    private int calls;

    public string Name => name;

    public int Calls => calls;

    public List<string> Requested { get; } = [];

    public bool Gzip { get; init; }

    public bool Corrupt { get; init; }

    /// <summary>Writes half the file and then fails, like a dropped connection.</summary>
    public bool FailHalfway { get; init; }

    /// <summary>Writes half the file and then waits until cancelled.</summary>
    public bool HangHalfway { get; init; }

    public TimeSpan Delay { get; init; }

    public async Task FetchAsync(string fileName, string destinationPath, IProgress<MnistDownloadProgress>? progress, ILogger logger, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref calls);
        lock (Requested)
        {
            Requested.Add(fileName);
        }

        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay, cancellationToken);
        }

        if (!files.TryGetValue(fileName, out var raw))
        {
            throw new FileNotFoundException($"{name} has no {fileName}");
        }

        var content = raw.ToArray();
        if (Corrupt)
        {
            content[content.Length / 2] ^= 0xff;
        }

        if (Gzip)
        {
            content = IdxTestFiles.Gzip(content);
        }

        if (FailHalfway || HangHalfway)
        {
            await File.WriteAllBytesAsync(destinationPath, content[..(content.Length / 2)], CancellationToken.None);
            if (HangHalfway)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            throw new IOException("connection dropped halfway");
        }

        await File.WriteAllBytesAsync(destinationPath, content, cancellationToken);
        progress?.Report(new(name, fileName, content.Length, content.Length));
    }
}
