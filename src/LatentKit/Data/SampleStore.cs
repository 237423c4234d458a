using TorchSharp;

namespace LatentKit;

/// <summary>
/// The in-memory storage of a dataset: samples as bytes (scaled by 1/255 when read) or float32, row-major, one row of
/// <see cref="SampleSize"/> values per sample, and optional labels. Shared by <see cref="Dataset.FromImages(ReadOnlySpan{byte}, int, int, int, ReadOnlySpan{int}, int, IReadOnlyList{string}?, string)"/>,
/// <see cref="Dataset.FromFeatures(ReadOnlySpan{float}, int, ReadOnlySpan{int}, int, IReadOnlyList{string}?, string)"/> and <see cref="MnistDataset"/>.
/// Immutable; every check runs before anything is allocated.
/// </summary>
internal sealed class SampleStore
{
    private SampleStore(byte[]? bytes, float[]? floats, int[] shape, int count, int[]? labels, int classCount, string[] classNames, SampleRange range, ISampleSource? source = null, int[]? sourceIndices = null)
    {
        Source = source;
        SourceIndices = sourceIndices;
        Bytes = bytes;
        Floats = floats;
        Shape = shape;
        SampleSize = Product(shape);
        Count = count;
        Labels = labels;
        ClassCount = classCount;
        ClassNames = classNames;
        Range = range;
    }

    public byte[]? Bytes { get; }

    /// <summary>The source of a streaming dataset (samples read on demand), or <see langword="null"/> for data in memory.</summary>
    public ISampleSource? Source { get; }

    /// <summary>For a streaming dataset, the source index of each sample (<see langword="null"/>: sample i is source sample i).</summary>
    public int[]? SourceIndices { get; }

    /// <summary>The index in <see cref="Source"/> of sample <paramref name="index"/>.</summary>
    public int SourceIndex(int index) => SourceIndices?[index] ?? index;

    public float[]? Floats { get; }

    public int[] Shape { get; }

    public int SampleSize { get; }

    public int Count { get; }

    public int[]? Labels { get; }

    public int ClassCount { get; }

    public string[] ClassNames { get; }

    public SampleRange Range { get; }

    /// <summary>Validates and copies byte samples (row-major, <c>Count x product(shape)</c>) and optional labels.</summary>
    public static SampleStore FromBytes(ReadOnlySpan<byte> values, int[] shape, ReadOnlySpan<int> labels, bool labelled, int classCount, IReadOnlyList<string>? classNames, string name)
    {
        var count = CheckLayout(values.Length, shape, labels, labelled, classCount, classNames, name, "values");
        return new SampleStore(values.ToArray(), null, shape, count, labelled ? labels.ToArray() : null, labelled ? classCount : 0, Names(classNames, labelled ? classCount : 0), SampleRange.ZeroToOne);
    }

    /// <summary>As <see cref="FromBytes"/>, but keeps <paramref name="values"/> and <paramref name="labels"/> (arrays a loader made and nobody else holds) instead of copying them.</summary>
    public static SampleStore AdoptBytes(byte[] values, int[] shape, int[]? labels, int classCount, IReadOnlyList<string>? classNames, string name)
    {
        var labelled = labels is not null;
        var count = CheckLayout(values.Length, shape, labels, labelled, classCount, classNames, name, "values");
        return new SampleStore(values, null, shape, count, labels, labelled ? classCount : 0, Names(classNames, labelled ? classCount : 0), SampleRange.ZeroToOne);
    }

    /// <summary>As <see cref="FromFloats"/>, but keeps the arrays (made by a loader that has checked every value is finite and in <paramref name="range"/>) instead of copying them.</summary>
    public static SampleStore AdoptFloats(float[] values, int[] shape, int[]? labels, int classCount, IReadOnlyList<string>? classNames, string name, SampleRange range)
    {
        CheckRange(range, $"Dataset '{name}'", nameof(range));
        var labelled = labels is not null;
        var count = CheckLayout(values.Length, shape, labels, labelled, classCount, classNames, name, "values");
        return new SampleStore(null, values, shape, count, labels, labelled ? classCount : 0, Names(classNames, labelled ? classCount : 0), range);
    }

    /// <summary>The one rule for a <see cref="SampleRange"/> given by a caller: one of the named values.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="range"/> is not a named value.</exception>
    public static void CheckRange(SampleRange range, string owner, string parameter)
    {
        if (range is not (SampleRange.ZeroToOne or SampleRange.Unbounded))
        {
            throw new ArgumentOutOfRangeException(parameter, range, $"{owner} has an unknown value range ({(int)range}); use SampleRange.ZeroToOne or SampleRange.Unbounded.");
        }
    }

    /// <summary>Validates (finite values, and in [0, 1] when <paramref name="range"/> says so) and copies float samples and optional labels.</summary>
    public static SampleStore FromFloats(ReadOnlySpan<float> values, int[] shape, ReadOnlySpan<int> labels, bool labelled, int classCount, IReadOnlyList<string>? classNames, string name, SampleRange range)
    {
        CheckRange(range, $"Dataset '{name}'", nameof(range));
        var count = CheckLayout(values.Length, shape, labels, labelled, classCount, classNames, name, "values");
        var size = Product(shape);
        for (var i = 0; i < values.Length; i++)
        {
            var v = values[i];
            if (!float.IsFinite(v) || (range == SampleRange.ZeroToOne && (v < 0 || v > 1)))
            {
                throw new ArgumentException(
                    $"Dataset '{name}': value {v} at sample {i / size}, position {i % size} is {(float.IsFinite(v) ? "outside [0, 1] (pass SampleRange.Unbounded for other values)" : "not finite")}.",
                    "values");
            }
        }

        return new SampleStore(null, values.ToArray(), shape, count, labelled ? labels.ToArray() : null, labelled ? classCount : 0, Names(classNames, labelled ? classCount : 0), range);
    }

    /// <summary>Wraps byte arrays that the caller has validated and will not change (no copy).</summary>
    public static SampleStore WrapBytes(byte[] values, int[] shape, int[]? labels, int classCount, string[]? classNames) =>
        new(values, null, shape, values.Length / Product(shape), labels, labels is null ? 0 : classCount, classNames ?? Names(null, labels is null ? 0 : classCount), SampleRange.ZeroToOne);

    /// <summary>
    /// Wraps a streaming source: checks its description (shape, count, class count and names) and reads and checks every
    /// label once; samples stay in the source.
    /// </summary>
    public static SampleStore FromSource(ISampleSource source, string name)
    {
        ArgumentNullException.ThrowIfNull(source);
        var shape = (source.SampleShape ?? throw new ArgumentException($"Sample source '{name}' has no sample shape.", nameof(source))).ToArray();
        var count = source.Count;
        if (count < 0 || count > Dataset.MaxSampleCount)
        {
            throw new ArgumentOutOfRangeException(nameof(source), count, $"Sample source '{name}' has {count} samples; the count must be 0..{Dataset.MaxSampleCount} (Dataset.MaxSampleCount).");
        }

        CheckRange(source.ValueRange, $"Sample source '{name}'", nameof(source));

        var labelled = source.ClassCount != 0;
        var classCount = source.ClassCount;
        var classNames = labelled ? source.ClassNames : null;
        if (classCount < 0 || classCount > Dataset.MaxClassCount)
        {
            throw new ArgumentOutOfRangeException(nameof(source), classCount, $"Sample source '{name}' has {classCount} classes; the class count must be 0 (unlabelled) or 1..{Dataset.MaxClassCount}.");
        }

        CheckShape(shape, name);
        var labels = labelled ? new int[count] : null;
        if (labels is not null)
        {
            for (var i = 0; i < count; i++)
            {
                labels[i] = source.GetLabel(i);
            }
        }

        CheckLayout((long)count * SampleStore.Product(shape), shape, labels, labelled, classCount, classNames, name, nameof(source));
        return new SampleStore(null, null, shape, count, labels, labelled ? classCount : 0, Names(classNames, labelled ? classCount : 0), source.ValueRange, source);
    }

    /// <summary>
    /// The samples at <paramref name="indices"/> (in that order, repeats allowed) as a new store. Every index is checked
    /// before anything is allocated; offsets are computed in 64 bits. A streaming store gives a streaming store (indices
    /// into the same source, no sample copied).
    /// </summary>
    public SampleStore Subset(IReadOnlyList<int> indices, string name, string parameter)
    {
        ArgumentNullException.ThrowIfNull(indices, parameter);
        for (var i = 0; i < indices.Count; i++)
        {
            CheckIndex(indices[i], name, parameter);
        }

        if (Source is not null)
        {
            var sourceIndices = new int[indices.Count];
            var subsetLabels = Labels is null ? null : new int[indices.Count];
            for (var i = 0; i < indices.Count; i++)
            {
                sourceIndices[i] = SourceIndex(indices[i]);
                if (subsetLabels is not null)
                {
                    subsetLabels[i] = Labels![indices[i]];
                }
            }

            return new SampleStore(null, null, Shape, indices.Count, subsetLabels, ClassCount, ClassNames, Range, Source, sourceIndices);
        }

        var newLabels = Labels is null ? null : new int[indices.Count];
        var length = checked((long)indices.Count * SampleSize);
        if (length > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(parameter, indices.Count, $"A subset of {indices.Count} samples of {SampleSize} values would exceed the largest array .NET can hold.");
        }

        byte[]? bytes = Bytes is null ? null : new byte[length];
        float[]? floats = Floats is null ? null : new float[length];
        for (var i = 0; i < indices.Count; i++)
        {
            var from = (long)indices[i] * SampleSize;
            var to = (long)i * SampleSize;
            if (bytes is not null)
            {
                Array.Copy(Bytes!, from, bytes, to, SampleSize);
            }
            else
            {
                Array.Copy(Floats!, from, floats!, to, SampleSize);
            }

            if (newLabels is not null)
            {
                newLabels[i] = Labels![indices[i]];
            }
        }

        return new SampleStore(bytes, floats, Shape, indices.Count, newLabels, ClassCount, ClassNames, Range);
    }

    /// <summary>
    /// All samples as one CPU tensor <c>Count x SampleSize</c>: uint8 for byte data (scaled per batch by the reader,
    /// natively), float32 otherwise.
    /// </summary>
    public torch.Tensor RawTensor() => NativeTensors.Over(
        (Array?)Bytes ?? Floats ?? throw new InvalidOperationException("A streaming dataset has no tensor of all its samples; read it in batches."),
        [Count, SampleSize]);

    /// <summary>
    /// Reads the samples at <paramref name="indices"/> (dataset indices) of a streaming store into
    /// <paramref name="destination"/> (<c>indices.Length * SampleSize</c> values), checking every value: finite, and in
    /// [0, 1] for <see cref="SampleRange.ZeroToOne"/>.
    /// </summary>
    public void ReadSamples(ReadOnlySpan<long> indices, Span<float> destination, string name)
    {
        var source = Source ?? throw new InvalidOperationException("Not a streaming dataset.");
        for (var i = 0; i < indices.Length; i++)
        {
            var sourceIndex = SourceIndex(checked((int)indices[i]));
            var row = destination.Slice(i * SampleSize, SampleSize);
            source.ReadSample(sourceIndex, row);
            for (var j = 0; j < row.Length; j++)
            {
                var v = row[j];
                if (!float.IsFinite(v) || (Range == SampleRange.ZeroToOne && (v < 0 || v > 1)))
                {
                    throw new DatasetFormatException(
                        name,
                        $"value {v} at position {j} is {(float.IsFinite(v) ? "outside [0, 1], the source's value range" : "not finite")}.",
                        sampleIndex: sourceIndex);
                }
            }
        }
    }

    /// <summary>All labels as an int64 CPU tensor.</summary>
    public torch.Tensor LabelsTensor() => NativeTensors.Indices(Labels ?? throw new InvalidOperationException("The dataset has no labels."));

    /// <summary>Samples <paramref name="start"/>.. as float32 <c>count x ..Shape</c> (bytes scaled by 1/255).</summary>
    public torch.Tensor ToFloat(int start, int count, long[] shape)
    {
        if (Bytes is not null)
        {
            using var bytes = NativeTensors.CopyOf<byte>(Bytes.AsSpan((int)((long)start * SampleSize), checked(count * SampleSize)), shape, torch.ScalarType.Byte);
            using var floats = bytes.to_type(torch.ScalarType.Float32);
            return floats.div(Scalars.ByteScale);
        }

        return NativeTensors.CopyOf<float>(Floats.AsSpan((int)((long)start * SampleSize), checked(count * SampleSize)), shape, torch.ScalarType.Float32);
    }

    public void CheckIndex(int index, string name, string parameter)
    {
        if ((uint)index >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(parameter, index, $"Index {index} is outside dataset '{name}' of {Count} samples.");
        }
    }

    public static int Product(IReadOnlyList<int> shape)
    {
        long product = 1;
        foreach (var d in shape)
        {
            product *= d;
        }

        return (int)product;
    }

    /// <summary>Checks every dimension of a sample shape and its size; returns the size (values per sample).</summary>
    public static int CheckShape(int[] shape, string name)
    {
        if (shape.Length == 0)
        {
            throw new ArgumentException($"Dataset '{name}': the sample shape is empty; give [C, H, W] or [F].", "shape");
        }

        long size = 1;
        foreach (var d in shape)
        {
            if (d < 1 || d > Dataset.MaxSampleSize)
            {
                throw new ArgumentOutOfRangeException("shape", d, $"Dataset '{name}': every dimension of the sample shape [{string.Join(", ", shape)}] must be 1..{Dataset.MaxSampleSize}.");
            }

            size *= d;
        }

        if (size > Dataset.MaxSampleSize)
        {
            throw new ArgumentOutOfRangeException("shape", size, $"Dataset '{name}': a sample of shape [{string.Join(", ", shape)}] holds {size} values, more than Dataset.MaxSampleSize ({Dataset.MaxSampleSize}).");
        }

        return (int)size;
    }

    /// <summary>Checks the shape, the value count against the sample count, the labels against the class count and the class names; returns the sample count.</summary>
    private static int CheckLayout(long valueCount, int[] shape, ReadOnlySpan<int> labels, bool labelled, int classCount, IReadOnlyList<string>? classNames, string name, string valuesParameter)
    {
        ArgumentNullException.ThrowIfNull(name);
        var size = CheckShape(shape, name);
        if (valueCount % size != 0)
        {
            throw new ArgumentException($"Dataset '{name}': {valueCount} values do not make whole samples of shape [{string.Join(", ", shape)}] ({size} values each).", valuesParameter);
        }

        var count = valueCount / size;
        if (count > Dataset.MaxSampleCount)
        {
            throw new ArgumentOutOfRangeException(valuesParameter, count, $"Dataset '{name}': {count} samples, more than Dataset.MaxSampleCount ({Dataset.MaxSampleCount}).");
        }

        if (!labelled)
        {
            if (classNames is not null)
            {
                throw new ArgumentException($"Dataset '{name}': class names were given without labels.", nameof(classNames));
            }

            return (int)count;
        }

        if (labels.Length != count)
        {
            throw new ArgumentException($"Dataset '{name}': {labels.Length} labels for {count} samples; give one label per sample.", nameof(labels));
        }

        if (classCount < 1 || classCount > Dataset.MaxClassCount)
        {
            throw new ArgumentOutOfRangeException(nameof(classCount), classCount, $"Dataset '{name}': the class count must be 1..{Dataset.MaxClassCount}.");
        }

        for (var i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classCount)
            {
                throw new ArgumentException($"Dataset '{name}': label {labels[i]} at index {i} is outside 0..{classCount - 1} (class count {classCount}).", nameof(labels));
            }
        }

        if (classNames is not null)
        {
            if (classNames.Count != classCount)
            {
                throw new ArgumentException($"Dataset '{name}': {classNames.Count} class names for {classCount} classes; give one name per class.", nameof(classNames));
            }

            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < classNames.Count; i++)
            {
                if (string.IsNullOrWhiteSpace(classNames[i]) || !seen.Add(classNames[i]))
                {
                    throw new ArgumentException($"Dataset '{name}': class name {i} ('{classNames[i]}') is empty or repeated; class names must be distinct and not empty.", nameof(classNames));
                }
            }
        }

        return (int)count;
    }

    private static string[] Names(IReadOnlyList<string>? names, int classCount) =>
        names?.ToArray() ?? Enumerable.Range(0, classCount).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
}
