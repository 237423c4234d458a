using LatentKit.Tests.Support;

namespace LatentKit.Tests.Training;

/// <summary>
/// <see cref="TrainingOptions.ValidationFraction"/> reads its two parts as row views of the training data: the same
/// parts as <see cref="Dataset.SplitForValidation"/>, without copying them.
/// </summary>
public sealed class ValidationSplitTests
{
    private static readonly TrainingRun OneThread = new() { Threads = 1 };

    public static TheoryData<string> Models => ["autoencoder", "variational", "frozen classifier", "fine-tuned classifier", "streaming autoencoder"];

    [Theory]
    [MemberData(nameof(Models))]
    public void A_validation_fraction_trains_exactly_as_the_split_parts_given_as_training_and_validation_sets(string model)
    {
        var data = model.StartsWith("streaming", StringComparison.Ordinal) ? Streaming(Synthetic.Digits(90)) : Synthetic.Digits(90);
        var options = new TrainingOptions { Epochs = 3, BatchSize = 16, LearningRate = 3e-3, Seed = 4, ValidationFraction = 0.3 };

        var withFraction = Train(model, data, options, OneThread);
        var (training, validation) = data.SplitForValidation(0.3, options.Seed);
        var withParts = Train(model, training, options with { ValidationFraction = null }, new TrainingRun { Threads = 1, ValidationSet = validation });

        withFraction.Select(e => e.TrainingLoss).Should().Equal(withParts.Select(e => e.TrainingLoss));
        withFraction.Select(e => e.ValidationLoss).Should().Equal(withParts.Select(e => e.ValidationLoss));
        withFraction.Should().OnlyContain(e => e.ValidationLoss != null);
    }

    [Fact]
    public void A_validation_fraction_copies_no_samples()
    {
        var pixels = new byte[20_000 * 784];
        new Random(5).NextBytes(pixels);
        var data = Dataset.FromImages(pixels, 1, 28, 28);
        using var model = Autoencoders.Dense().WithHiddenLayers(16).WithLatentSize(4).WithSeed(1).Build();
        var options = new TrainingOptions { Epochs = 1, BatchSize = 1_000, Seed = 1, ValidationFraction = 0.1 };
        model.Train(data.Take(2_000), options, OneThread);

        var before = GC.GetAllocatedBytesForCurrentThread();
        model.Train(data, options, OneThread);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        allocated.Should().BeLessThan(4 << 20, "the 15.7 MB of pixels are read through row views, not copied into two parts");
    }

    private static List<EpochResult> Train(string model, Dataset data, TrainingOptions options, TrainingRun run)
    {
        switch (model)
        {
            case "autoencoder" or "streaming autoencoder":
            {
                using var autoencoder = SmallModels.Build(AutoencoderKind.Dense);
                return [.. autoencoder.Train(data, options, run).Epochs];
            }

            case "variational":
            {
                using var vae = SmallModels.Build(AutoencoderKind.Variational);
                return [.. vae.Train(data, options, run).Epochs];
            }

            default:
            {
                using var encoder = SmallModels.Build(AutoencoderKind.Dense);
                var builder = LatentClassifier.For(encoder).WithHiddenLayers(16).WithDropout(0.2).WithSeed(3);
                using var classifier = (model == "fine-tuned classifier" ? builder.WithFineTuning(1e-3) : builder).Build();
                return [.. classifier.Train(data, options, run).Epochs];
            }
        }
    }

    /// <summary>The same digits as a streaming dataset.</summary>
    private static Dataset Streaming(MnistDataset digits)
    {
        var values = digits.Pixels.ToArray().Select(b => b / 255f).ToArray();
        var labels = Enumerable.Range(0, digits.Count).Select(digits.GetLabel).ToArray();
        return Dataset.FromSource(new FloatSource(values, labels));
    }

    private sealed class FloatSource(float[] values, int[] labels) : ISampleSource
    {
        public int Count => labels.Length;

        public IReadOnlyList<int> SampleShape => [1, 28, 28];

        public SampleRange ValueRange => SampleRange.ZeroToOne;

        public int ClassCount => 10;

        public IReadOnlyList<string>? ClassNames => null;

        public int GetLabel(int index) => labels[index];

        public void ReadSample(int index, Span<float> destination) => values.AsSpan(index * 784, 784).CopyTo(destination);
    }
}
