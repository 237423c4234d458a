using System.Buffers;
using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;

namespace LatentKit;

public abstract partial class Dataset
{
    /// <summary>
    /// A dataset from IDX files (the format of MNIST) of any dimensions, raw or gzip-compressed. The images file holds
    /// unsigned bytes (type 0x08, scaled to [0, 1]) or big-endian float32 (type 0x0D, every value checked finite) with
    /// 2 to 4 dimensions, the first being the sample count: <c>[N, F]</c> gives feature vectors <c>[F]</c>,
    /// <c>[N, H, W]</c> grey images <c>[1, H, W]</c>, <c>[N, C, H, W]</c> images <c>[C, H, W]</c>. The optional
    /// labels file is a one-dimensional unsigned-byte IDX file with one label per sample. Header, length (no truncation,
    /// no trailing data), count and size limits are checked as for MNIST's files, before anything large is allocated;
    /// nothing partial is returned. With <see cref="IdxLoadOptions.Streaming"/> the (uncompressed) images file is
    /// memory-mapped and read batch by batch.
    /// </summary>
    /// <param name="imagesPath">The samples file.</param>
    /// <param name="labelsPath">The labels file, or <see langword="null"/> for an unlabelled dataset.</param>
    /// <param name="options">Streaming, class count and names, float range (default: in memory).</param>
    /// <exception cref="DatasetFormatException">A file is not a valid IDX file of that kind, the counts differ, a label is outside the class count, a float is not finite, or a gzip file was asked to stream.</exception>
    /// <exception cref="FileNotFoundException">A file does not exist, or a path is a folder.</exception>
    /// <exception cref="ArgumentException">The options are invalid (class count, class names).</exception>
    public static Dataset FromIdx(string imagesPath, string? labelsPath = null, IdxLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(imagesPath);
        options ??= new IdxLoadOptions();
        if (options.ClassCount is { } given && (given < 1 || given > MaxClassCount))
        {
            throw new ArgumentOutOfRangeException(nameof(options), given, $"IdxLoadOptions.ClassCount must be 1..{MaxClassCount}.");
        }

        if (labelsPath is null && (options.ClassCount is not null || options.ClassNames is not null))
        {
            throw new ArgumentException("IdxLoadOptions.ClassCount or ClassNames were given without a labels file.", nameof(options));
        }

        var name = Path.GetFileName(imagesPath);
        return options.Streaming ? IdxMappedSource.Open(imagesPath, labelsPath, options, name) : LoadIdxInMemory(imagesPath, labelsPath, options, name);
    }

    /// <summary>The sample shape of an IDX file's dimensions after the count: <c>[F]</c>, <c>[1, H, W]</c> or <c>[C, H, W]</c>.</summary>
    private static int[] IdxSampleShape(IdxHeader header) => header.Dimensions.Length == 3
        ? [1, header.Dimensions[1], header.Dimensions[2]]
        : header.Dimensions[1..];

    private static Dataset LoadIdxInMemory(string imagesPath, string? labelsPath, IdxLoadOptions options, string name)
    {
        var (header, payload) = IdxReader.ReadGeneralFile(imagesPath, 2, "images");
        var (labels, classCount) = ReadIdxLabels(labelsPath, header.Count, options);
        var shape = IdxSampleShape(header);
        if (header.ElementType == IdxHeader.UnsignedByte)
        {
            return new InMemoryDataset(SampleStore.AdoptBytes(payload, shape, labels, classCount, options.ClassNames, name), name);
        }

        var values = new float[payload.Length / 4];
        var size = header.SampleSize;
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleBigEndian(payload.AsSpan(i * 4, 4));
            CheckIdxFloat(values[i], imagesPath, i / size, i % size, options.FloatRange);
        }

        payload = null!;
        return new InMemoryDataset(SampleStore.AdoptFloats(values, shape, labels, classCount, options.ClassNames, name, options.FloatRange), name);
    }

    private static void CheckIdxFloat(float value, string path, int sample, int position, SampleRange range)
    {
        if (!float.IsFinite(value) || (range == SampleRange.ZeroToOne && (value < 0 || value > 1)))
        {
            throw new DatasetFormatException(path, $"value {value} at position {position} is {(float.IsFinite(value) ? "outside [0, 1] (IdxLoadOptions.FloatRange is ZeroToOne)" : "not finite")}.", sampleIndex: sample);
        }
    }

    /// <summary>Reads and checks a labels file: one dimension, unsigned bytes, <paramref name="count"/> labels, each below the class count.</summary>
    private static (int[]? Labels, int ClassCount) ReadIdxLabels(string? labelsPath, int count, IdxLoadOptions options)
    {
        if (labelsPath is null)
        {
            return (null, 0);
        }

        var (header, payload) = IdxReader.ReadGeneralFile(labelsPath, 1, "labels");
        if (header.Dimensions.Length != 1 || header.ElementType != IdxHeader.UnsignedByte)
        {
            throw new DatasetFormatException(labelsPath, $"a labels file must have one dimension of unsigned bytes; this one holds {header.Describe()}.");
        }

        if (header.Count != count)
        {
            throw new DatasetFormatException(labelsPath, $"holds {header.Count} labels but the images file holds {count} samples.");
        }

        var classCount = options.ClassCount ?? options.ClassNames?.Count ?? (payload.Length == 0 ? 1 : payload.Max() + 1);
        var labels = new int[payload.Length];
        for (var i = 0; i < labels.Length; i++)
        {
            if (payload[i] >= classCount)
            {
                throw new DatasetFormatException(labelsPath, $"label {payload[i]} is outside 0..{classCount - 1} (class count {classCount}).", sampleIndex: i);
            }

            labels[i] = payload[i];
        }

        return (labels, classCount);
    }

    /// <summary>
    /// A memory-mapped, uncompressed IDX images file read sample by sample (thread-safe: reads only). The file stays
    /// mapped (and open) while the dataset or a view of it is reachable; the mapping's handles release it when collected.
    /// </summary>
    private sealed class IdxMappedSource : ISampleSource
    {
        private readonly MemoryMappedViewAccessor view;

        // Kept reachable with the view (never disposed: the dataset has no end of life).
        private readonly MemoryMappedFile file;
        private readonly IdxHeader header;
        private readonly string path;
        private readonly int[]? labels;

        private IdxMappedSource(MemoryMappedFile file, MemoryMappedViewAccessor view, IdxHeader header, string path, int[]? labels, int classCount, IdxLoadOptions options)
        {
            this.view = view;
            this.file = file;
            this.header = header;
            this.path = path;
            this.labels = labels;
            ClassCount = classCount;
            ClassNames = options.ClassNames;
            SampleShape = IdxSampleShape(header);
            ValueRange = header.ElementType == IdxHeader.UnsignedByte ? SampleRange.ZeroToOne : options.FloatRange;
        }

        public int Count => header.Count;

        public IReadOnlyList<int> SampleShape { get; }

        public SampleRange ValueRange { get; }

        public int ClassCount { get; }

        public IReadOnlyList<string>? ClassNames { get; }

        public static Dataset Open(string imagesPath, string? labelsPath, IdxLoadOptions options, string name)
        {
            IdxHeader header;
            using (var stream = IdxReader.OpenForReading(imagesPath))
            {
                if (IdxReader.IsGzip(stream))
                {
                    throw new DatasetFormatException(imagesPath, "is gzip-compressed, and compressed data cannot be memory-mapped: IdxLoadOptions.Streaming needs the uncompressed file (decompress it, for example with gunzip), or load it without Streaming.");
                }

                header = IdxReader.ReadGeneralHeader(stream, imagesPath, 2, "images");
                var expected = header.HeaderSize + header.PayloadBytes;
                if (stream.Length != expected)
                {
                    throw new DatasetFormatException(imagesPath, stream.Length < expected
                        ? $"truncated: the header announces {header.Describe()} ({expected} bytes in all) but the file has {stream.Length} bytes."
                        : $"{stream.Length - expected} bytes of unexpected data follow the {header.Describe()} that the header announces.");
                }
            }

            var (labels, classCount) = ReadIdxLabels(labelsPath, header.Count, options);
            if (header.PayloadBytes == 0)
            {
                // An empty file cannot be mapped; an empty dataset needs no samples.
                var shape = IdxSampleShape(header);
                return new InMemoryDataset(SampleStore.AdoptFloats([], shape, labels, classCount, options.ClassNames, name, SampleRange.Unbounded), name);
            }

            var file = MemoryMappedFile.CreateFromFile(imagesPath, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            try
            {
                var view = file.CreateViewAccessor(header.HeaderSize, header.PayloadBytes, MemoryMappedFileAccess.Read);
                return FromSource(new IdxMappedSource(file, view, header, imagesPath, labels, classCount, options), name);
            }
            catch
            {
                file.Dispose();
                throw;
            }
        }

        public int GetLabel(int index) => labels![index];

        public void ReadSample(int index, Span<float> destination)
        {
            var size = header.SampleSize;
            var bytes = size * header.ElementSize;
            var buffer = ArrayPool<byte>.Shared.Rent(bytes);
            try
            {
                var read = view.ReadArray((long)index * bytes, buffer, 0, bytes);
                if (read != bytes)
                {
                    throw new DatasetFormatException(path, $"only {read} of the sample's {bytes} bytes could be read; the file changed after it was opened.", sampleIndex: index);
                }

                if (header.ElementType == IdxHeader.UnsignedByte)
                {
                    for (var i = 0; i < size; i++)
                    {
                        destination[i] = buffer[i] / 255f;
                    }
                }
                else
                {
                    for (var i = 0; i < size; i++)
                    {
                        destination[i] = BinaryPrimitives.ReadSingleBigEndian(buffer.AsSpan(i * 4, 4));
                        CheckIdxFloat(destination[i], path, index, i, ValueRange);
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
