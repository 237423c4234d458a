using LatentKit.Tests.Support;

namespace LatentKit.Tests.Data;

public sealed class StreamingDatasetTests
{
    private static readonly TrainingOptions Quick = new() { Epochs = 2, BatchSize = 16, LearningRate = 3e-3, Seed = 5, ValidationFraction = null };
    private static readonly TrainingRun OneThread = new() { Threads = 1 };

    /// <summary>A source over managed floats that records which samples were read.</summary>
    private sealed class ArraySource(float[] values, int[] shape, int[]? labels, int classCount, IReadOnlyList<string>? classNames = null) : ISampleSource
    {
        public List<int> Reads { get; } = [];

        public int Count => values.Length / Math.Max(1, SampleStoreSize);

        public IReadOnlyList<int> SampleShape => shape;

        public SampleRange ValueRange { get; init; } = SampleRange.ZeroToOne;

        public int ClassCount => classCount;

        public IReadOnlyList<string>? ClassNames => classNames;

        private int SampleStoreSize => shape.Aggregate(1, (a, b) => a * b);

        public int GetLabel(int index) => labels![index];

        public void ReadSample(int index, Span<float> destination)
        {
            Reads.Add(index);
            values.AsSpan(index * SampleStoreSize, SampleStoreSize).CopyTo(destination);
        }
    }

    private static (ArraySource Source, float[] Values, int[] Labels) Digits(int count)
    {
        var digits = Synthetic.Digits(count);
        var values = digits.Pixels.ToArray().Select(b => b / 255f).ToArray();
        var labels = Enumerable.Range(0, count).Select(i => (int)digits.GetLabel(i)).ToArray();
        return (new ArraySource(values, [1, 28, 28], labels, 10), values, labels);
    }

    [Fact]
    public void GetSample_returns_one_samples_values_as_the_models_see_them_for_every_kind_of_dataset()
    {
        // For array inference on a dataset's own samples: bytes come back scaled to [0, 1] as training scales them,
        // a streaming source reads only that sample, and the values encode as EncodeDataset's row does.
        var (source, values, labels) = Digits(12);
        var streaming = Dataset.FromSource(source, "streamed digits");
        var floats = Dataset.FromImages(values, 1, 28, 28, labels, 10);
        var bytes = Synthetic.Digits(12);
        var subset = floats.Subset([7, 3]);

        streaming.GetSample(5).Should().Equal(values.AsSpan(5 * 784, 784).ToArray());
        source.Reads.Should().Equal(5);
        floats.GetSample(11).Should().Equal(values.AsSpan(11 * 784, 784).ToArray());
        bytes.GetSample(2).Should().Equal(bytes.Pixels.Slice(2 * 784, 784).ToArray().Select(b => b / 255f));
        subset.GetSample(1).Should().Equal(values.AsSpan(3 * 784, 784).ToArray());

        using var model = SmallModels.Build(AutoencoderKind.Dense);
        using var codes = model.EncodeDataset(bytes);
        model.Encode(bytes.GetSample(4)).Should().Equal(codes[4].data<float>().ToArray(), (a, b) => Math.Abs(a - b) <= 1e-6f);

        var outside = () => floats.GetSample(12);
        outside.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "index").WithMessage("*12*");
        var negative = () => streaming.GetSample(-1);
        negative.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "index");
    }

    [Fact]
    public void A_streaming_dataset_trains_like_the_same_data_in_memory_and_reads_only_batches()
    {
        var (source, values, labels) = Digits(48);
        var streaming = Dataset.FromSource(source, "streamed digits");
        var inMemory = Dataset.FromImages(values, 1, 28, 28, labels, 10);
        streaming.IsStreaming.Should().BeTrue();
        inMemory.IsStreaming.Should().BeFalse();
        streaming.SampleShape.Should().Equal(1, 28, 28);
        streaming.Count.Should().Be(48);
        streaming.CountPerClass().Should().Equal(inMemory.CountPerClass());
        source.Reads.Should().BeEmpty("making the dataset reads labels only");

        using var model = SmallModels.Build(AutoencoderKind.Dense);
        using var twin = SmallModels.Build(AutoencoderKind.Dense);
        var streamed = model.Train(streaming, Quick, OneThread);
        var held = twin.Train(inMemory, Quick, OneThread);

        for (var e = 0; e < 2; e++)
        {
            streamed.Epochs[e].TrainingLoss.Should().BeApproximately(held.Epochs[e].TrainingLoss, 1e-5);
        }

        model.Evaluate(streaming).BinaryCrossEntropy.Should().BeApproximately(twin.Evaluate(inMemory).BinaryCrossEntropy, 1e-4);
        using var codes = model.EncodeDataset(streaming, batchSize: 7);
        using var twinCodes = twin.EncodeDataset(inMemory);
        codes.shape.Should().Equal(48, 16);
        codes.allclose(twinCodes, rtol: 1e-4, atol: 1e-5).Should().BeTrue();
    }

    [Fact]
    public void Views_of_a_streaming_dataset_stay_streaming_and_read_the_right_samples()
    {
        var (source, values, labels) = Digits(40);
        var streaming = Dataset.FromSource(source, "streamed digits");
        var inMemory = Dataset.FromImages(values, 1, 28, 28, labels, 10);

        var views = new (Dataset Streamed, Dataset Held)[]
        {
            (streaming.Subset([5, 3, 5]), inMemory.Subset([5, 3, 5])),
            (streaming.Take(7), inMemory.Take(7)),
            (streaming.Shuffle(3).Take(9), inMemory.Shuffle(3).Take(9)),
            (streaming.TakePerClass(2, 4), inMemory.TakePerClass(2, 4)),
            (streaming.SplitForValidation(0.25, 1).Validation, inMemory.SplitForValidation(0.25, 1).Validation),
        };

        foreach (var (streamed, held) in views)
        {
            streamed.IsStreaming.Should().BeTrue(streamed.Name);
            streamed.Count.Should().Be(held.Count);
            Enumerable.Range(0, held.Count).Select(streamed.GetLabel).Should().Equal(Enumerable.Range(0, held.Count).Select(held.GetLabel));
            source.Reads.Clear();
            foreach (var (a, b) in streamed.GetBatches(4).Zip(held.GetBatches(4)))
            {
                using (a)
                using (b)
                {
                    a.Samples.shape.Should().Equal(b.Samples.shape);
                    a.Samples.data<float>().ToArray().Should().Equal(b.Samples.data<float>().ToArray(), streamed.Name);
                    a.Labels!.data<long>().ToArray().Should().Equal(b.Labels!.data<long>().ToArray());
                }
            }

            source.Reads.Should().HaveCount(held.Count, "each sample of the view is read once, and nothing else");
        }

        source.Reads.Clear();
        streaming.Subset([9, 2]).GetBatches(8).Single().Dispose();
        source.Reads.Should().Equal(9, 2);
    }

    [Fact]
    public void An_unlabelled_feature_source_trains_an_autoencoder()
    {
        var random = new Random(2);
        var values = Enumerable.Range(0, 30 * 784).Select(_ => (float)random.NextDouble()).ToArray();
        var data = Dataset.FromSource(new ArraySource(values, [784], null, 0), "unlabelled rows");
        data.HasLabels.Should().BeFalse();
        data.ClassNames.Should().BeEmpty();
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        model.Train(data, Quick with { Epochs = 1 }, OneThread).Epochs.Should().ContainSingle();
    }

    [Fact]
    public void A_bad_value_from_a_source_names_the_sample()
    {
        var values = new float[4 * 3];
        values[2 * 3 + 1] = float.NaN;
        values[3 * 3] = 1.5f;
        var data = Dataset.FromSource(new ArraySource(values, [3], null, 0), "rows");
        var nan = Assert.Throws<DatasetFormatException>(() => data.Take(3).GetBatches(3).ToList());
        nan.SampleIndex.Should().Be(2);
        nan.Message.Should().Contain("Data file 'rows (first 3)', sample 2: value NaN at position 1 is not finite.");
        var range = Assert.Throws<DatasetFormatException>(() => data.Subset([3]).GetBatches(3).ToList());
        range.SampleIndex.Should().Be(3);
        range.Message.Should().Contain("value 1.5 at position 0 is outside [0, 1]");

        var unbounded = Dataset.FromSource(new ArraySource(values, [3], null, 0) { ValueRange = SampleRange.Unbounded }, "rows");
        unbounded.Subset([3]).GetBatches(1).Single().Dispose();
    }

    public static TheoryData<string, Func<ISampleSource>, string> BadSources => new()
    {
        { "label outside", () => new ArraySource(new float[6], [3], [0, 2], 2), "label 2 at index 1 is outside 0..1 (class count 2)" },
        { "class count", () => new ArraySource(new float[6], [3], [0, 0], -1), "the class count must be 0 (unlabelled) or 1..100000" },
        { "empty shape", () => new ArraySource(new float[6], [], null, 0), "the sample shape is empty" },
        { "zero dimension", () => new ArraySource(new float[6], [3, 0], null, 0), "every dimension of the sample shape [3, 0] must be 1.." },
        { "class names", () => new ArraySource(new float[6], [3], [0, 1], 2, ["a"]), "1 class names for 2 classes" },
    };

    [Theory]
    [MemberData(nameof(BadSources))]
    public void A_bad_source_is_refused_when_the_dataset_is_made(string why, Func<ISampleSource> source, string message)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => Dataset.FromSource(source(), "bad source"));
        error.Message.Should().Contain(message, why);
    }
}
