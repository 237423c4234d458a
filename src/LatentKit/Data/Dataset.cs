using TorchSharp;

namespace LatentKit;

/// <summary>
/// A dataset of samples of one shape: images <c>C x H x W</c> or feature vectors <c>F</c>, with optional labels of
/// <see cref="ClassCount"/> classes. Make one with <see cref="FromImages(ReadOnlySpan{byte}, int, int, int, ReadOnlySpan{int}, int, IReadOnlyList{string}?, string)"/>,
/// <see cref="FromFeatures(ReadOnlySpan{float}, int, ReadOnlySpan{int}, int, IReadOnlyList{string}?, string)"/> or
/// <see cref="FromSource"/> (samples read on demand) or <see cref="MnistDataset"/>. Instances are immutable; the view operations (<see cref="Subset"/>, <see cref="Take"/>,
/// <see cref="Shuffle"/>, <see cref="TakePerClass"/>, <see cref="SplitForValidation"/>) return new datasets (in-memory
/// datasets copy the selected samples; streaming datasets made by <see cref="FromSource"/> keep indices only). Unlabelled datasets work wherever no label is needed (autoencoders); where one
/// is (classifiers) they are refused with an <see cref="ArgumentException"/>.
/// </summary>
public abstract partial class Dataset
{
    /// <summary>The most samples a dataset made in memory may hold: 10,000,000.</summary>
    public const int MaxSampleCount = 10_000_000;

    /// <summary>The most values one sample may hold: 16,777,216 (for example 4 x 2048 x 2048).</summary>
    public const int MaxSampleSize = 1 << 24;

    /// <summary>The most classes a labelled dataset may have: 100,000.</summary>
    public const int MaxClassCount = 100_000;

    private protected Dataset()
    {
    }

    /// <summary>A name for messages and logs: the file or source it came from, or how it was derived.</summary>
    public abstract string Name { get; }

    /// <summary>Number of samples.</summary>
    public abstract int Count { get; }

    /// <summary>The shape of one sample: <c>[C, H, W]</c> for images, <c>[F]</c> for feature vectors.</summary>
    public IReadOnlyList<int> SampleShape => Store.Shape;

    /// <summary>Values per sample: the product of <see cref="SampleShape"/>.</summary>
    public int SampleSize => Store.SampleSize;

    /// <summary>The range of the values as models see them (bytes are scaled to [0, 1]).</summary>
    public SampleRange ValueRange => Store.Range;

    /// <summary>Whether every sample has a label.</summary>
    public bool HasLabels => Store.Labels is not null;

    /// <summary>Number of classes; 0 when the dataset has no labels.</summary>
    public int ClassCount => Store.ClassCount;

    /// <summary>One name per class (by default "0", "1", ...); empty when the dataset has no labels.</summary>
    public IReadOnlyList<string> ClassNames => Store.ClassNames;

    /// <summary>The storage: samples in memory, or a streaming source and indices into it.</summary>
    internal abstract SampleStore Store { get; }

    /// <summary>
    /// A dataset of byte images <c>channels x height x width</c> (row-major per channel, 0..255, scaled to [0, 1] when
    /// read), unlabelled. The bytes are copied.
    /// </summary>
    /// <param name="pixels">All images, <c>count * channels * height * width</c> bytes.</param>
    /// <param name="channels">Channels per image (1 for grey, 3 for colour).</param>
    /// <param name="height">Image height in pixels.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="name">A name for messages and logs.</param>
    /// <exception cref="ArgumentException">The byte count is not a whole number of images, or a size is out of range.</exception>
    public static Dataset FromImages(ReadOnlySpan<byte> pixels, int channels, int height, int width, string name = "in-memory images") =>
        new InMemoryDataset(SampleStore.FromBytes(pixels, [channels, height, width], default, labelled: false, 0, null, name), name);

    /// <summary>
    /// A dataset of labelled byte images <c>channels x height x width</c> (0..255, scaled to [0, 1] when read). The
    /// arrays are copied; everything is checked before anything is allocated.
    /// </summary>
    /// <param name="pixels">All images, <c>count * channels * height * width</c> bytes.</param>
    /// <param name="channels">Channels per image.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="labels">One label in [0, <paramref name="classCount"/>) per image.</param>
    /// <param name="classCount">Number of classes, 1..<see cref="MaxClassCount"/>.</param>
    /// <param name="classNames">One distinct name per class, or <see langword="null"/> for "0", "1", ...</param>
    /// <param name="name">A name for messages and logs.</param>
    /// <exception cref="ArgumentException">A length, label, class count, class name or size is invalid.</exception>
    public static Dataset FromImages(ReadOnlySpan<byte> pixels, int channels, int height, int width, ReadOnlySpan<int> labels, int classCount, IReadOnlyList<string>? classNames = null, string name = "in-memory images") =>
        new InMemoryDataset(SampleStore.FromBytes(pixels, [channels, height, width], labels, labelled: true, classCount, classNames, name), name);

    /// <summary>A dataset of float images <c>channels x height x width</c> with values in [0, 1], unlabelled. The values are copied.</summary>
    /// <param name="pixels">All images, <c>count * channels * height * width</c> finite values in [0, 1].</param>
    /// <param name="channels">Channels per image.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="name">A name for messages and logs.</param>
    /// <exception cref="ArgumentException">A value is not finite or outside [0, 1], or a length or size is invalid.</exception>
    public static Dataset FromImages(ReadOnlySpan<float> pixels, int channels, int height, int width, string name = "in-memory images") =>
        new InMemoryDataset(SampleStore.FromFloats(pixels, [channels, height, width], default, labelled: false, 0, null, name, SampleRange.ZeroToOne), name);

    /// <summary>A dataset of labelled float images <c>channels x height x width</c> with values in [0, 1]. The arrays are copied.</summary>
    /// <param name="pixels">All images, <c>count * channels * height * width</c> finite values in [0, 1].</param>
    /// <param name="channels">Channels per image.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="labels">One label in [0, <paramref name="classCount"/>) per image.</param>
    /// <param name="classCount">Number of classes, 1..<see cref="MaxClassCount"/>.</param>
    /// <param name="classNames">One distinct name per class, or <see langword="null"/> for "0", "1", ...</param>
    /// <param name="name">A name for messages and logs.</param>
    /// <exception cref="ArgumentException">A value, length, label, class count, class name or size is invalid.</exception>
    public static Dataset FromImages(ReadOnlySpan<float> pixels, int channels, int height, int width, ReadOnlySpan<int> labels, int classCount, IReadOnlyList<string>? classNames = null, string name = "in-memory images") =>
        new InMemoryDataset(SampleStore.FromFloats(pixels, [channels, height, width], labels, labelled: true, classCount, classNames, name, SampleRange.ZeroToOne), name);

    /// <summary>A dataset of unlabelled feature vectors of <paramref name="width"/> values (rows one after the other). The values are copied.</summary>
    /// <param name="rows">All rows, <c>count * width</c> finite values.</param>
    /// <param name="width">Values per row.</param>
    /// <param name="range">The range the values lie in; <see cref="SampleRange.ZeroToOne"/> is checked.</param>
    /// <param name="name">A name for messages and logs.</param>
    /// <exception cref="ArgumentException">A value is not finite (or outside [0, 1] for <see cref="SampleRange.ZeroToOne"/>), or a length or size is invalid.</exception>
    public static Dataset FromFeatures(ReadOnlySpan<float> rows, int width, SampleRange range = SampleRange.Unbounded, string name = "in-memory features") =>
        new InMemoryDataset(SampleStore.FromFloats(rows, [width], default, labelled: false, 0, null, name, range), name);

    /// <summary>A dataset of labelled feature vectors of <paramref name="width"/> values (rows one after the other). The arrays are copied.</summary>
    /// <param name="rows">All rows, <c>count * width</c> finite values.</param>
    /// <param name="width">Values per row.</param>
    /// <param name="labels">One label in [0, <paramref name="classCount"/>) per row.</param>
    /// <param name="classCount">Number of classes, 1..<see cref="MaxClassCount"/>.</param>
    /// <param name="classNames">One distinct name per class, or <see langword="null"/> for "0", "1", ...</param>
    /// <param name="name">A name for messages and logs.</param>
    /// <exception cref="ArgumentException">A value, length, label, class count, class name or size is invalid.</exception>
    public static Dataset FromFeatures(ReadOnlySpan<float> rows, int width, ReadOnlySpan<int> labels, int classCount, IReadOnlyList<string>? classNames = null, string name = "in-memory features") =>
        new InMemoryDataset(SampleStore.FromFloats(rows, [width], labels, labelled: true, classCount, classNames, name, SampleRange.Unbounded), name);

    /// <summary>
    /// A dataset of unlabelled float samples of any shape (samples one after the other, each row-major), for example
    /// <c>[F]</c>, <c>[C, H, W]</c> or <c>[T, F]</c>. The values are copied. Loaders in other packages (such as
    /// LatentKit.Csv) make their datasets with this.
    /// </summary>
    /// <param name="values">All samples, <c>count * product(sampleShape)</c> finite values.</param>
    /// <param name="sampleShape">The shape of one sample: every dimension at least 1, at most <see cref="MaxSampleSize"/> values in all.</param>
    /// <param name="range">The range the values lie in; <see cref="SampleRange.ZeroToOne"/> is checked.</param>
    /// <param name="name">A name for messages and logs.</param>
    /// <exception cref="ArgumentException">A value is not finite (or outside [0, 1] for <see cref="SampleRange.ZeroToOne"/>), or the shape, a length or a size is invalid.</exception>
    public static Dataset FromSamples(ReadOnlySpan<float> values, IReadOnlyList<int> sampleShape, SampleRange range = SampleRange.Unbounded, string name = "in-memory samples")
    {
        ArgumentNullException.ThrowIfNull(sampleShape);
        return new InMemoryDataset(SampleStore.FromFloats(values, sampleShape.ToArray(), default, labelled: false, 0, null, name, range), name);
    }

    /// <summary>A dataset of labelled float samples of any shape (samples one after the other, each row-major). The arrays are copied.</summary>
    /// <param name="values">All samples, <c>count * product(sampleShape)</c> finite values.</param>
    /// <param name="sampleShape">The shape of one sample: every dimension at least 1, at most <see cref="MaxSampleSize"/> values in all.</param>
    /// <param name="labels">One label in [0, <paramref name="classCount"/>) per sample.</param>
    /// <param name="classCount">Number of classes, 1..<see cref="MaxClassCount"/>.</param>
    /// <param name="classNames">One distinct name per class, or <see langword="null"/> for "0", "1", ...</param>
    /// <param name="range">The range the values lie in; <see cref="SampleRange.ZeroToOne"/> is checked.</param>
    /// <param name="name">A name for messages and logs.</param>
    /// <exception cref="ArgumentException">A value, the shape, a length, label, class count, class name or size is invalid.</exception>
    public static Dataset FromSamples(ReadOnlySpan<float> values, IReadOnlyList<int> sampleShape, ReadOnlySpan<int> labels, int classCount, IReadOnlyList<string>? classNames = null, SampleRange range = SampleRange.Unbounded, string name = "in-memory samples")
    {
        ArgumentNullException.ThrowIfNull(sampleShape);
        return new InMemoryDataset(SampleStore.FromFloats(values, sampleShape.ToArray(), labels, labelled: true, classCount, classNames, name, range), name);
    }

    /// <summary>
    /// A streaming dataset over <paramref name="source"/>: samples are read on demand, batch by batch, so training and
    /// evaluation hold only a few batches in memory whatever the source's size (labels are read once, 4 bytes per
    /// sample). Views of it (<see cref="Subset"/>, <see cref="Take"/>, <see cref="Shuffle"/>, <see cref="TakePerClass"/>,
    /// <see cref="SplitForValidation"/>) stay streaming: they hold indices into the source, not copies of samples. Every
    /// value read is checked (finite, and in [0, 1] when the source says <see cref="SampleRange.ZeroToOne"/>); a bad one
    /// throws a <see cref="DatasetFormatException"/> naming the sample.
    /// </summary>
    /// <param name="source">The samples; see <see cref="ISampleSource"/> for what it must guarantee.</param>
    /// <param name="name">A name for messages and logs (default: the source's type name).</param>
    /// <exception cref="ArgumentException">The source's shape, count, class count, class names or a label is invalid.</exception>
    public static Dataset FromSource(ISampleSource source, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        name ??= source.GetType().Name;
        return new InMemoryDataset(SampleStore.FromSource(source, name), name);
    }

    /// <summary>Whether samples are read on demand from an <see cref="ISampleSource"/> (see <see cref="FromSource"/>) rather than held in memory.</summary>
    public bool IsStreaming => Store.Source is not null;

    /// <summary>The label of one sample, in [0, <see cref="ClassCount"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not in [0, <see cref="Count"/>).</exception>
    /// <exception cref="InvalidOperationException">The dataset has no labels.</exception>
    public int GetLabel(int index)
    {
        Store.CheckIndex(index, Name, nameof(index));
        return Store.Labels?[index] ?? throw new InvalidOperationException($"Dataset '{Name}' has no labels.");
    }

    /// <summary>
    /// The values of one sample as the models see them: <see cref="SampleSize"/> float32 values in row-major order
    /// (channel, row, column for images), byte pixels scaled to [0, 1]. For the array methods of models (such as
    /// <c>autoencoder.Encode(data.GetSample(0))</c>); a streaming dataset reads only that sample.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not in [0, <see cref="Count"/>).</exception>
    public float[] GetSample(int index)
    {
        Store.CheckIndex(index, Name, nameof(index));
        using var reader = OpenReader(withLabels: false);
        using var scope = torch.NewDisposeScope();
        return TrainingData.ToFloat(reader.ReadRange(index, 1).Inputs).contiguous().data<float>().ToArray();
    }

    /// <summary>How many samples of each class the dataset holds (<see cref="ClassCount"/> counts).</summary>
    /// <exception cref="InvalidOperationException">The dataset has no labels.</exception>
    public int[] CountPerClass()
    {
        var labels = Store.Labels ?? throw new InvalidOperationException($"Dataset '{Name}' has no labels.");
        var counts = new int[ClassCount];
        foreach (var label in labels)
        {
            counts[label]++;
        }

        return counts;
    }

    /// <summary>A new dataset of the samples at the given indices, in that order (indices may repeat). Every index is checked before anything is allocated.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is not in [0, <see cref="Count"/>).</exception>
    public abstract Dataset Subset(IReadOnlyList<int> indices, string? name = null);

    /// <summary>The first <paramref name="count"/> samples (all of them when <paramref name="count"/> is at least <see cref="Count"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    public virtual Dataset Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var n = Math.Min(count, Count);
        return Subset(Enumerable.Range(0, n).ToArray(), $"{Name} (first {n})");
    }

    /// <summary>All samples in an order shuffled by <paramref name="seed"/> (the same seed gives the same order).</summary>
    public virtual Dataset Shuffle(int seed) => Subset(ShuffledIndices(Count, seed), $"{Name} (shuffled, seed {seed})");

    /// <summary>
    /// A balanced subset: <paramref name="countPerClass"/> samples of each class, chosen at random with
    /// <paramref name="seed"/> (the same seed chooses the same samples), returned in shuffled order.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="countPerClass"/> is not positive.</exception>
    /// <exception cref="ArgumentException">A class has fewer than <paramref name="countPerClass"/> samples, or the dataset has no labels.</exception>
    public virtual Dataset TakePerClass(int countPerClass, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(countPerClass);
        RequireLabels(nameof(countPerClass));
        var available = CountPerClass();
        for (var c = 0; c < ClassCount; c++)
        {
            if (available[c] < countPerClass)
            {
                throw new ArgumentException(
                    $"Dataset '{Name}' has {available[c]} samples of class {ClassNames[c]}, fewer than the {countPerClass} per class asked for.",
                    nameof(countPerClass));
            }
        }

        var labels = Store.Labels!;
        var taken = new int[ClassCount];
        var chosen = new List<int>(checked(countPerClass * ClassCount));
        foreach (var index in ShuffledIndices(Count, seed))
        {
            if (taken[labels[index]] < countPerClass)
            {
                taken[labels[index]]++;
                chosen.Add(index);
            }
        }

        return Subset(chosen, $"{Name} ({countPerClass} per class, seed {seed})");
    }

    /// <summary>
    /// Splits the dataset at random into a training part and a validation part of
    /// <c>round(Count * validationFraction)</c> samples; the same seed gives the same split.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="validationFraction"/> is not in (0, 1), or leaves a part empty.</exception>
    public (Dataset Training, Dataset Validation) SplitForValidation(double validationFraction, int seed)
    {
        var (training, validation) = SplitIndices(validationFraction, seed);
        return (Subset(training, $"{Name} (training part, seed {seed})"), Subset(validation, $"{Name} (validation part, seed {seed})"));
    }

    /// <summary>
    /// The dataset in batches of <paramref name="batchSize"/> (the last one may be smaller), in order or shuffled by
    /// <paramref name="seed"/>: float32 samples <c>[N, ..SampleShape]</c> and, when labelled, int64 labels. Each batch
    /// owns its tensors; dispose it when done.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is not positive.</exception>
    public IEnumerable<DatasetBatch> GetBatches(int batchSize, bool shuffle = false, int seed = 0, torch.Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        return Batches(batchSize, shuffle ? ShuffledIndices(Count, seed) : null, device);
    }

    /// <summary>The batch reader models train and infer from: the raw samples as one CPU tensor (see <see cref="TrainingData"/>).</summary>
    internal TrainingData OpenReader(bool withLabels)
    {
        if (withLabels)
        {
            RequireLabels("data");
        }

        var targets = withLabels ? Store.LabelsTensor() : null;
        return Store.Source is null ? new TrainingData(Store.RawTensor(), targets) : new TrainingData(Store, targets, Name);
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the dataset when it has no labels.</summary>
    internal void RequireLabels(string parameter)
    {
        if (!HasLabels)
        {
            throw new ArgumentException($"Dataset '{Name}' has no labels; this needs a labelled dataset (give labels and a class count when making it).", parameter);
        }
    }

    /// <summary>
    /// The indices 0..<paramref name="count"/>-1 in an order shuffled by <paramref name="seed"/> (Fisher-Yates with
    /// <see cref="Random"/>, whose seeded sequence is stable across .NET versions).
    /// </summary>
    internal static int[] ShuffledIndices(int count, int seed)
    {
        var order = Enumerable.Range(0, count).ToArray();
        var random = new Random(seed);
        for (var i = count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }

        return order;
    }

    internal (int[] Training, int[] Validation) SplitIndices(double validationFraction, int seed)
    {
        if (!(validationFraction > 0 && validationFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "The validation fraction must be between 0 and 1 (exclusive).");
        }

        var validationCount = (int)Math.Round(Count * validationFraction);
        if (validationCount == 0 || validationCount == Count)
        {
            throw new ArgumentOutOfRangeException(
                nameof(validationFraction),
                validationFraction,
                $"A validation fraction of {validationFraction} of {Count} samples leaves the training or the validation part empty.");
        }

        var order = ShuffledIndices(Count, seed);
        return (order[validationCount..], order[..validationCount]);
    }

    private IEnumerable<DatasetBatch> Batches(int batchSize, int[]? order, torch.Device? device)
    {
        using var reader = OpenReader(HasLabels);
        for (var start = 0; start < Count; start += batchSize)
        {
            yield return ReadBatch(reader, order, start, Math.Min(batchSize, Count - start), device);
        }
    }

    private DatasetBatch ReadBatch(TrainingData reader, int[]? order, int start, int count, torch.Device? device)
    {
        using var scope = torch.NewDisposeScope();
        var (raw, labels) = order is null
            ? reader.ReadRange(start, count)
            : reader.ReadBatch(NativeTensors.Indices(order.AsSpan(start, count)));
        var samples = TrainingData.ToFloat(raw).view([count, .. SampleShape.Select(d => (long)d)]);
        if (device is not null && device.type != DeviceType.CPU)
        {
            samples = samples.to(device);
            labels = labels?.to(device);
        }

        return new DatasetBatch(samples.MoveToOuterDisposeScope(), labels?.MoveToOuterDisposeScope(), count);
    }
}

/// <summary>
/// A general dataset over a <see cref="SampleStore"/>: held in memory (made by <see cref="Dataset.FromImages(ReadOnlySpan{byte}, int, int, int, string)"/>
/// or <see cref="Dataset.FromFeatures(ReadOnlySpan{float}, int, SampleRange, string)"/>) or streaming (made by <see cref="Dataset.FromSource"/>).
/// </summary>
internal sealed class InMemoryDataset(SampleStore store, string name) : Dataset
{
    public override string Name { get; } = name ?? throw new ArgumentNullException(nameof(name));

    public override int Count => store.Count;

    internal override SampleStore Store => store;

    public override Dataset Subset(IReadOnlyList<int> indices, string? name = null) =>
        new InMemoryDataset(store.Subset(indices, Name, nameof(indices)), name ?? $"{Name} (subset of {indices?.Count})");
}
