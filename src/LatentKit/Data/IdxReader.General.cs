using System.Buffers.Binary;
using System.IO.Compression;

namespace LatentKit;

/// <summary>The header of a general IDX file: element type and dimensions (the first is the sample count).</summary>
/// <param name="ElementType">0x08 (unsigned byte) or 0x0D (float32, big-endian).</param>
/// <param name="Dimensions">The dimensions, the first being the number of samples.</param>
/// <param name="HeaderSize">Bytes before the payload: 4 + 4 per dimension.</param>
internal sealed record IdxHeader(byte ElementType, int[] Dimensions, int HeaderSize)
{
    public const byte UnsignedByte = 0x08;
    public const byte Float32 = 0x0D;

    public int Count => Dimensions[0];

    public int ElementSize => ElementType == Float32 ? 4 : 1;

    /// <summary>Values per sample: the product of the dimensions after the first (at most <see cref="Dataset.MaxSampleSize"/>, checked).</summary>
    public int SampleSize => SampleStore.Product(Dimensions[1..]);

    public long PayloadBytes => (long)Count * SampleSize * ElementSize;

    public string TypeName => ElementType == Float32 ? "float32" : "unsigned byte";

    public string Describe() => $"{Count} {TypeName} sample{(Count == 1 ? string.Empty : "s")} of [{string.Join(", ", Dimensions[1..])}]";
}

/// <summary>
/// General IDX files (any number of dimensions, unsigned bytes or float32) for <see cref="Dataset.FromIdx"/>, with the
/// same payload rules as MNIST's files (truncation, trailing data, a gzip payload that grows only as data arrives);
/// errors are <see cref="DatasetFormatException"/>s naming the file.
/// </summary>
internal static partial class IdxReader
{
    /// <summary>The most dimensions a general IDX file may have (the count plus up to three sample dimensions).</summary>
    internal const int MaxDimensions = 4;

    private static readonly Func<string, string, IOException> DatasetError = static (file, problem) => new DatasetFormatException(file, problem);

    /// <summary>
    /// Reads the header of a general IDX file: magic 00 00 type ndims, then ndims big-endian dimensions. Checks the
    /// type (u8 or float32), 1..<see cref="MaxDimensions"/> dimensions (at least <paramref name="minimumDimensions"/>),
    /// every dimension (count 0..<see cref="Dataset.MaxSampleCount"/>, others 1..), and the sample size
    /// (at most <see cref="Dataset.MaxSampleSize"/>) before anything is allocated.
    /// </summary>
    internal static IdxHeader ReadGeneralHeader(Stream stream, string name, int minimumDimensions, string what)
    {
        Span<byte> magic = stackalloc byte[4];
        var read = stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        if (read < 4)
        {
            throw new DatasetFormatException(name, $"truncated: {read} bytes, shorter than an IDX header.");
        }

        var type = magic[2];
        var dimensions = magic[3];
        if (magic[0] != 0 || magic[1] != 0 || (type != IdxHeader.UnsignedByte && type != IdxHeader.Float32))
        {
            throw new DatasetFormatException(name, $"wrong magic number 0x{BinaryPrimitives.ReadInt32BigEndian(magic):X8}: an IDX {what} file starts with 00 00, a type byte (08 for unsigned bytes, 0D for float32) and the number of dimensions.");
        }

        if (dimensions < minimumDimensions || dimensions > MaxDimensions)
        {
            throw new DatasetFormatException(name, $"the header has {dimensions} dimensions; an IDX {what} file needs {minimumDimensions}..{MaxDimensions} (the count, then the sample's dimensions).");
        }

        var dims = new int[dimensions];
        Span<byte> raw = stackalloc byte[4];
        for (var i = 0; i < dimensions; i++)
        {
            if (stream.ReadAtLeast(raw, 4, throwOnEndOfStream: false) < 4)
            {
                throw new DatasetFormatException(name, $"truncated: the content ends inside the {4 + (4 * dimensions)}-byte header.");
            }

            dims[i] = BinaryPrimitives.ReadInt32BigEndian(raw);
        }

        if (dims[0] < 0 || dims[0] > Dataset.MaxSampleCount)
        {
            throw new DatasetFormatException(name, $"the header announces {dims[0]} samples; the count must be 0..{Dataset.MaxSampleCount} (Dataset.MaxSampleCount).");
        }

        long size = 1;
        for (var i = 1; i < dimensions; i++)
        {
            if (dims[i] < 1)
            {
                throw new DatasetFormatException(name, $"dimension {i + 1} of the header is {dims[i]}; sample dimensions must be at least 1.");
            }

            size *= dims[i];
            if (size > Dataset.MaxSampleSize)
            {
                throw new DatasetFormatException(name, $"a sample of [{string.Join(", ", dims[1..])}] holds more than Dataset.MaxSampleSize ({Dataset.MaxSampleSize}) values.");
            }
        }

        return new IdxHeader(type, dims, 4 + (4 * dimensions));
    }

    /// <summary>
    /// Reads a whole general IDX file (raw or gzip) into memory: its header and payload, with the payload's length
    /// checked (no truncation, no trailing data). A payload larger than the largest .NET array is refused before
    /// anything is allocated (read such files with streaming).
    /// </summary>
    internal static (IdxHeader Header, byte[] Payload) ReadGeneralFile(string path, int minimumDimensions, string what)
    {
        using var file = OpenForReading(path);
        var gzip = IsGzip(file);
        using var content = gzip ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true) : (Stream)file;
        try
        {
            var header = ReadGeneralHeader(content, path, minimumDimensions, what);
            if (header.PayloadBytes > Array.MaxLength)
            {
                throw new DatasetFormatException(path, $"{header.Describe()} take {header.PayloadBytes} bytes, more than one .NET array holds; load it with IdxLoadOptions.Streaming (from an uncompressed file).");
            }

            var payload = ReadPayload(content, path, header.PayloadBytes, header.Describe(), gzip ? null : file.Length - header.HeaderSize, DatasetError);
            return (header, payload);
        }
        catch (InvalidDataException e)
        {
            throw new DatasetFormatException(path, $"is not valid gzip data: {e.Message}", innerException: e);
        }
    }

    /// <summary>Opens a file for reading, naming it when it is missing or a folder (<see cref="FilePaths.FileProblem"/>).</summary>
    internal static FileStream OpenForReading(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (FilePaths.FileProblem(path) is { } problem)
        {
            throw new FileNotFoundException($"Data file '{path}' {problem}", path);
        }

        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
    }
}
