using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;

namespace LatentKit;

/// <summary>
/// Reads MNIST-format IDX files: a big-endian header (magic 2051 = 0x00000803, count, 28, 28 for images; magic
/// 2049 = 0x00000801, count for labels) followed by one byte per pixel or label. Files may be raw or gzip-compressed
/// (recognised by the bytes 1f 8b). Everything is validated and any problem throws a <see cref="MnistFormatException"/>
/// naming the file; nothing partial is ever returned. A header may announce at most
/// <see cref="MnistDataset.MaxImageCount"/> images or labels; a larger count is rejected before anything is allocated.
/// Memory is allocated only for data that is there: the payload array of a raw file of known length is allocated once
/// its length is checked against the header, and that of a gzip file or a stream of unknown length grows (from 64 KiB,
/// doubling) as data arrives, so a lying header cannot make the reader allocate more than about four times the data
/// actually read.
/// </summary>
internal static partial class IdxReader
{
    /// <summary>Magic number of an IDX file of unsigned-byte images with three dimensions (2051).</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>Magic number of an IDX file of unsigned-byte labels with one dimension (2049).</summary>
    public const int LabelsMagic = 0x00000801;

    private const int ImagesHeaderSize = 16;
    private const int LabelsHeaderSize = 8;
    private const int InitialGrowingBuffer = 1 << 16;

    /// <summary>The largest valid IDX file: an images file of <see cref="MnistDataset.MaxImageCount"/> images (784,000,016 bytes).</summary>
    internal const long MaxFileSize = ImagesHeaderSize + ((long)MnistDataset.MaxImageCount * MnistDataset.PixelsPerImage);

    /// <summary>Reads an images file (raw or gzip): all pixels, 784 bytes per image, row-major.</summary>
    /// <exception cref="MnistFormatException">The file is not a valid IDX images file of 28 x 28 images.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist, or the path is a folder.</exception>
    public static byte[] ReadImages(string path) => ReadFile(path, IdxKind.Images, expected: null);

    /// <summary>Reads an images stream (raw or gzip) to its end: all pixels, 784 bytes per image, row-major.</summary>
    /// <param name="stream">The stream, positioned at the start of the file.</param>
    /// <param name="fileName">The name to use in error messages.</param>
    /// <exception cref="MnistFormatException">The content is not a valid IDX images file of 28 x 28 images.</exception>
    public static byte[] ReadImages(Stream stream, string fileName) => ReadStream(stream, fileName, IdxKind.Images);

    /// <summary>Reads a labels file (raw or gzip): one digit 0..9 per image.</summary>
    /// <exception cref="MnistFormatException">The file is not a valid IDX labels file or holds a label above 9.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist, or the path is a folder.</exception>
    public static byte[] ReadLabels(string path) => ReadFile(path, IdxKind.Labels, expected: null);

    /// <summary>Reads a labels stream (raw or gzip) to its end: one digit 0..9 per image.</summary>
    /// <param name="stream">The stream, positioned at the start of the file.</param>
    /// <param name="fileName">The name to use in error messages.</param>
    /// <exception cref="MnistFormatException">The content is not a valid IDX labels file or holds a label above 9.</exception>
    public static byte[] ReadLabels(Stream stream, string fileName) => ReadStream(stream, fileName, IdxKind.Labels);

    /// <summary>
    /// Reads a file (raw or gzip) and, when <paramref name="expected"/> is given, checks the size that its header
    /// announces against the expected size before reading the payload, and the size and SHA-256 of its uncompressed
    /// content in the same pass.
    /// </summary>
    internal static byte[] ReadFile(string path, IdxKind kind, MnistFileInfo? expected)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var gzip = IsGzip(file);
        Stream content = gzip ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true) : file;
        using var hashing = expected is null ? null : new HashingReadStream(content);
        try
        {
            var data = ReadCore(hashing ?? content, path, kind, gzip ? null : file.Length, expected);
            if (expected is not null)
            {
                CheckChecksum(path, hashing!.BytesRead, hashing.GetHashHex(), expected);
            }

            return data;
        }
        finally
        {
            if (gzip)
            {
                content.Dispose();
            }
        }
    }

    /// <summary>Compares a size and SHA-256 with the expected ones.</summary>
    internal static void CheckChecksum(string path, long size, string sha256, MnistFileInfo expected)
    {
        if (size != expected.Size)
        {
            throw new MnistFormatException(path, $"uncompressed size {size} bytes differs from the {expected.Size} bytes of the known '{expected.FileName}'; the file is corrupt or not the expected one.");
        }

        if (!string.Equals(sha256, expected.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new MnistFormatException(path, $"SHA-256 {sha256} differs from the known {expected.Sha256} of '{expected.FileName}'; the file is corrupt or not the expected one.");
        }
    }

    /// <summary>
    /// Checks the structure of a raw (uncompressed) IDX file without reading its payload: a known magic, 28 x 28 images,
    /// and a length that matches the header. Returns the problem, or null when the file looks right.
    /// </summary>
    internal static string? CheckRawStructure(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        Span<byte> header = stackalloc byte[ImagesHeaderSize];
        var read = file.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        if (read < LabelsHeaderSize)
        {
            return $"truncated: only {read} bytes, shorter than an IDX header.";
        }

        var magic = BinaryPrimitives.ReadInt32BigEndian(header);
        IdxKind kind;
        if (magic == LabelsMagic)
        {
            kind = IdxKind.Labels;
        }
        else if (magic == ImagesMagic)
        {
            kind = IdxKind.Images;
            if (read < ImagesHeaderSize)
            {
                return $"truncated: only {read} bytes, shorter than the 16-byte header of an IDX images file.";
            }
        }
        else
        {
            return $"wrong magic number 0x{magic:X8}: expected 0x{ImagesMagic:X8} (images) or 0x{LabelsMagic:X8} (labels).";
        }

        var (problem, payload, _) = CheckHeader(header, kind);
        if (problem is not null)
        {
            return problem;
        }

        var expectedLength = HeaderSize(kind) + payload;
        return file.Length == expectedLength ? null : $"length {file.Length} bytes does not match the {expectedLength} bytes its header announces.";
    }

    /// <summary>True when the stream starts with the gzip magic bytes 1f 8b; the stream is left at its start.</summary>
    internal static bool IsGzip(FileStream file)
    {
        Span<byte> magic = stackalloc byte[2];
        var read = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        file.Position = 0;
        return read == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    }

    private static byte[] ReadStream(Stream stream, string fileName, IdxKind kind)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(fileName);
        Span<byte> start = stackalloc byte[2];
        var read = stream.ReadAtLeast(start, 2, throwOnEndOfStream: false);
        var prefixed = new PrefixedReadStream(start[..read].ToArray(), stream);
        long? length = null;
        if (stream.CanSeek)
        {
            length = stream.Length - stream.Position + read;
        }

        if (read == 2 && start[0] == 0x1f && start[1] == 0x8b)
        {
            using var gzip = new GZipStream(prefixed, CompressionMode.Decompress, leaveOpen: true);
            return ReadCore(gzip, fileName, kind, null, null);
        }

        return ReadCore(prefixed, fileName, kind, length, null);
    }

    /// <summary>Reads and validates the uncompressed content of an IDX file, to its end.</summary>
    /// <param name="stream">The uncompressed content.</param>
    /// <param name="name">The file name for messages.</param>
    /// <param name="kind">Images or labels.</param>
    /// <param name="totalLength">The content's total length when known (raw files), for a check before allocating.</param>
    /// <param name="expected">The known file it must be, if any: its size is checked against the header before allocating.</param>
    private static byte[] ReadCore(Stream stream, string name, IdxKind kind, long? totalLength, MnistFileInfo? expected)
    {
        try
        {
            var headerSize = HeaderSize(kind);
            Span<byte> header = stackalloc byte[headerSize];
            ReadHeader(stream, header, name, kind == IdxKind.Images ? ImagesMagic : LabelsMagic);
            var (problem, payload, what) = CheckHeader(header, kind);
            if (problem is not null)
            {
                throw new MnistFormatException(name, problem);
            }

            if (expected is not null && headerSize + payload != expected.Size)
            {
                throw new MnistFormatException(name, $"the header announces {what} ({headerSize + payload} bytes in all) but the known '{expected.FileName}' has {expected.Size} bytes; the file is corrupt or not the expected one.");
            }

            var data = ReadPayload(stream, name, payload, what, totalLength - headerSize);
            if (kind == IdxKind.Labels)
            {
                var bad = data.AsSpan().IndexOfAnyInRange((byte)MnistDataset.ClassCount, byte.MaxValue);
                if (bad >= 0)
                {
                    throw new MnistFormatException(name, $"label {data[bad]} at index {bad} is not a digit 0..9.");
                }
            }

            return data;
        }
        catch (MnistFormatException)
        {
            throw;
        }
        catch (InvalidDataException e)
        {
            throw new MnistFormatException(name, $"is not valid gzip data: {e.Message}", e);
        }
        catch (EndOfStreamException e)
        {
            throw new MnistFormatException(name, $"truncated: {e.Message}", e);
        }
    }

    private static int HeaderSize(IdxKind kind) => kind == IdxKind.Images ? ImagesHeaderSize : LabelsHeaderSize;

    /// <summary>
    /// The rules for a header whose magic number is right: 28 x 28 images, a count in 0..<see cref="MnistDataset.MaxImageCount"/>.
    /// Returns the problem (or null), the payload size it announces, and a description of that payload for messages.
    /// </summary>
    private static (string? Problem, long Payload, string What) CheckHeader(ReadOnlySpan<byte> header, IdxKind kind)
    {
        var count = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        var noun = kind == IdxKind.Images ? "image" : "label";
        if (kind == IdxKind.Images)
        {
            var rows = BinaryPrimitives.ReadInt32BigEndian(header[8..]);
            var columns = BinaryPrimitives.ReadInt32BigEndian(header[12..]);
            if (rows != MnistDataset.ImageHeight || columns != MnistDataset.ImageWidth)
            {
                return ($"wrong dimensions: the header says {rows} x {columns} images, expected 28 x 28.", 0, string.Empty);
            }
        }

        if (count < 0)
        {
            return ($"the header announces a negative {noun} count ({count}).", 0, string.Empty);
        }

        if (count > MnistDataset.MaxImageCount)
        {
            return ($"the header announces {count} {noun}s, more than the {MnistDataset.MaxImageCount} that LatentKit reads (MnistDataset.MaxImageCount); the file is corrupt or not an MNIST-format dataset.", 0, string.Empty);
        }

        return kind == IdxKind.Images
            ? (null, (long)count * MnistDataset.PixelsPerImage, $"{count} images of 28 x 28")
            : (null, count, $"{count} labels");
    }

    /// <summary>Reads the header, checking the magic number before anything else.</summary>
    private static void ReadHeader(Stream stream, Span<byte> header, string name, int magic)
    {
        var what = magic == ImagesMagic ? "images" : "labels";
        var read = stream.ReadAtLeast(header[..4], 4, throwOnEndOfStream: false);
        if (read == 4)
        {
            CheckMagic(BinaryPrimitives.ReadInt32BigEndian(header), magic, name);
            read += stream.ReadAtLeast(header[4..], header.Length - 4, throwOnEndOfStream: false);
        }

        if (read < header.Length)
        {
            throw new MnistFormatException(name, $"truncated: the content ends after {read} bytes, inside the {header.Length}-byte header of an IDX {what} file.");
        }
    }

    private static void CheckMagic(int magic, int expected, string name)
    {
        if (magic == expected)
        {
            return;
        }

        var expectedWhat = expected == ImagesMagic ? "images" : "labels";
        var hint = magic switch
        {
            ImagesMagic => " (that of an images file)",
            LabelsMagic => " (that of a labels file)",
            _ => string.Empty,
        };
        throw new MnistFormatException(name, $"wrong magic number 0x{magic:X8} ({magic}){hint}: expected 0x{expected:X8} ({expected}) for IDX {expectedWhat}.");
    }

    private static byte[] ReadPayload(Stream stream, string name, long payload, string what, long? available, Func<string, string, IOException>? error = null)
    {
        error ??= static (file, problem) => new MnistFormatException(file, problem);
        if (available is { } known && known < payload)
        {
            throw error(name, $"truncated: the header announces {what} ({payload} bytes) but only {known} bytes follow it.");
        }

        // The header rules cap the payload: MaxImageCount images for MNIST, Array.MaxLength for general in-memory files.
        byte[] data;
        long read;
        if (available is not null)
        {
            // The length is known to be enough: read straight into the final array.
            data = new byte[payload];
            read = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
        }
        else
        {
            // Unknown length (gzip): grow the array as data arrives, so a lying header cannot make us allocate much.
            data = new byte[Math.Min(payload, InitialGrowingBuffer)];
            read = 0;
            while (read < payload)
            {
                if (read == data.Length)
                {
                    Array.Resize(ref data, (int)Math.Min(payload, (long)data.Length * 2));
                }

                var n = stream.Read(data, (int)read, data.Length - (int)read);
                if (n == 0)
                {
                    break;
                }

                read += n;
            }
        }

        if (read < payload)
        {
            throw error(name, $"truncated: the header announces {what} ({payload} bytes) but the content ends after {read} of them.");
        }

        Span<byte> probe = stackalloc byte[1];
        if (stream.Read(probe) != 0)
        {
            var extra = available is { } total ? $"{total - payload} bytes" : "bytes";
            throw error(name, $"{extra} of unexpected data follow the {what} that the header announces.");
        }

        return data;
    }

    /// <summary>A read-only stream that first returns a few bytes already read, then the rest of another stream.</summary>
    private sealed class PrefixedReadStream(byte[] prefix, Stream rest) : Stream
    {
        private int position;

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

        public override int Read(Span<byte> buffer)
        {
            if (position < prefix.Length)
            {
                var n = Math.Min(buffer.Length, prefix.Length - position);
                prefix.AsSpan(position, n).CopyTo(buffer);
                position += n;
                return n;
            }

            return rest.Read(buffer);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>Which of the two IDX file kinds of MNIST a file is.</summary>
internal enum IdxKind
{
    Images,
    Labels,
}

/// <summary>A read-only stream that computes the SHA-256 and length of everything read through it.</summary>
internal sealed class HashingReadStream(Stream inner) : Stream
{
    private readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

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

    public string GetHashHex() => Convert.ToHexString(hash.GetCurrentHash()).ToLowerInvariant();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = inner.Read(buffer);
        hash.AppendData(buffer[..n]);
        BytesRead += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            hash.Dispose();
        }

        base.Dispose(disposing);
    }
}
