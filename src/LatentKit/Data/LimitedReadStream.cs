namespace LatentKit;

/// <summary>
/// A read-only stream over another that throws an <see cref="InvalidDataException"/> as soon as more than a limit of
/// bytes has been read through it, so nothing downstream (a file, a buffer, a tar reader) grows past the limit.
/// </summary>
/// <param name="inner">The stream to read.</param>
/// <param name="maxBytes">The most bytes that may be read.</param>
/// <param name="describe">The error message, given the number of bytes read when the limit was passed.</param>
internal sealed class LimitedReadStream(Stream inner, long maxBytes, Func<long, string> describe) : Stream
{
    /// <summary>The bytes read so far.</summary>
    public long BytesRead { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer) => Count(inner.Read(buffer));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private int Count(int n)
    {
        BytesRead += n;
        if (BytesRead > maxBytes)
        {
            throw new InvalidDataException(describe(BytesRead));
        }

        return n;
    }
}
