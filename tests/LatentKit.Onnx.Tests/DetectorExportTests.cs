using System.Globalization;
using LatentKit.Onnx.Tests.Support;
using LatentKit.Tests.Support;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LatentKit.Onnx.Tests;

/// <summary>
/// Anomaly detectors exported with <see cref="OnnxExport.Detector"/>: for every score kind a dense, a convolutional and a
/// variational detector support, ONNX Runtime's <c>score</c> equals <see cref="AnomalyDetector.ScoreAll(Tensor)"/> within
/// 1e-5, relative where the score is larger than 1 (|onnx - latentkit| ≤ 1e-5 · max(1, |latentkit|)); the combined
/// score, a sum of centred parts that can be near 0 while the parts are large, within the parts' tolerances carried
/// through the standardisation (Σ_k 1e-5 · max(1, |part_k|) / sd_k). Its <c>is_anomaly</c> equals <see cref="AnomalyDetector.Predict(Tensor)"/>'s flags exactly, on synthetic data and on real
/// MNIST test images.
/// </summary>
[Collection(RealMnistFixture.Collection)]
public sealed class DetectorExportTests(RealMnistFixture mnist, ITestOutputHelper output) : IDisposable
{
    private const double Tolerance = 1e-5;
    private static readonly TrainingRun OneThread = new() { Threads = 1 };
    private readonly TempDirectory folder = new();

    public static TheoryData<AutoencoderKind> Kinds => new() { AutoencoderKind.Dense, AutoencoderKind.Convolutional, AutoencoderKind.Variational };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Every_score_kind_matches_LatentKit_on_synthetic_data(AutoencoderKind kind)
    {
        using IAutoencoder model = kind switch
        {
            AutoencoderKind.Dense => Autoencoders.Dense().WithInputShape(1, 10, 10).WithHiddenLayers(16).WithLatentSize(4).WithSeed(1).Build(),
            AutoencoderKind.Convolutional => Autoencoders.Convolutional().WithInputShape(1, 12, 12).WithChannels(4, 8).WithLatentSize(18).WithSeed(1).Build(),
            _ => Autoencoders.Variational().WithInputShape(1, 10, 10).WithHiddenLayers(16).WithLatentSize(4).WithSeed(1).Build(),
        };
        var normal = Synthetic(model.InputShape, 160, seed: 1, anomalous: false);
        model.Train(normal, new TrainingOptions { Epochs = 2, BatchSize = 20 }, OneThread);
        using var scope = NewDisposeScope();
        var samples = cat([SyntheticTensor(model.InputShape, 40, seed: 2, anomalous: false), SyntheticTensor(model.InputShape, 20, seed: 3, anomalous: true)]);

        foreach (var options in OptionsFor(model))
        {
            using var detector = AnomalyDetector.Fit(model, normal, options);
            var flagged = AssertDetectorMatches(detector, samples, $"{kind} {Describe(options)}");
            flagged.Should().BeGreaterThan(0, "the shifted samples must be flagged for the flag comparison to mean something").And.BeLessThan(60);
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Every_score_kind_matches_LatentKit_on_real_MNIST_test_images(AutoencoderKind kind)
    {
        using IAutoencoder model = kind switch
        {
            AutoencoderKind.Dense => Autoencoders.Dense().WithHiddenLayers(64, 32).WithLatentSize(16).WithSeed(1).Build(),
            AutoencoderKind.Convolutional => Autoencoders.Convolutional().WithChannels(4, 8).WithLatentSize(49).WithSeed(1).Build(),
            _ => Autoencoders.Variational().WithHiddenLayers(64, 32).WithLatentSize(8).WithSeed(1).Build(),
        };
        model.Train(mnist.Train.Take(2000), new TrainingOptions { Epochs = 1, BatchSize = 50, LearningRate = 3e-3 }, OneThread);
        using var scope = NewDisposeScope();
        var images = mnist.Test.ImagesToTensor(0, 300, model.InputShape.Count == 1 ? ImageLayout.Flat : ImageLayout.Image);

        foreach (var options in OptionsFor(model))
        {
            using var detector = AnomalyDetector.Fit(model, mnist.Train.Take(1000), options);

            // A threshold between two neighbouring test scores near the median: about half flagged, none on the threshold.
            var sorted = detector.Score(images).Order().ToArray();
            detector.Threshold = AnomalyThreshold.Fixed((sorted[149] + sorted[150]) / 2);
            var flagged = AssertDetectorMatches(detector, images, $"{kind} {Describe(options)} on MNIST");
            flagged.Should().BeInRange(100, 200);
        }
    }

    [Fact]
    public void The_metadata_carries_the_score_kind_and_the_threshold_and_the_batch_is_dynamic()
    {
        using var model = Autoencoders.Variational().WithInputShape(1, 10, 10).WithHiddenLayers(16).WithLatentSize(4).WithSeed(1).Build();
        var normal = Synthetic(model.InputShape, 120, seed: 1, anomalous: false);
        model.Train(normal, new TrainingOptions { Epochs = 1, BatchSize = 20 }, OneThread);
        using var detector = AnomalyDetector.Fit(model, normal, new AnomalyDetectorOptions { Score = AnomalyScoreKind.NegativeElbo, Contamination = 0.1 });

        var file = OnnxExport.Detector(detector, folder.Combine("detector.onnx"));

        file.Metadata[OnnxMetadataKeys.Graph].Should().Be("detector");
        file.Metadata[OnnxMetadataKeys.ScoreKind].Should().Be("NegativeElbo");
        double.Parse(file.Metadata[OnnxMetadataKeys.Threshold], CultureInfo.InvariantCulture).Should().Be(detector.Threshold.Value, "the threshold round-trips exactly");
        file.Metadata[OnnxMetadataKeys.ThresholdRule].Should().Be("Contamination");
        file.Metadata[OnnxMetadataKeys.ReconstructionError].Should().Be("BinaryCrossEntropy");
        file.Metadata[OnnxMetadataKeys.ModelKind].Should().Be("Variational");
        file.Inputs.Single().Should().Be(new OnnxTensorInfo(OnnxNames.Images, "float32", [-1, .. model.InputShape]));
        file.Outputs.Should().Equal(new OnnxTensorInfo(OnnxNames.Score, "float64", [-1]), new OnnxTensorInfo(OnnxNames.IsAnomaly, "bool", [-1]));

        using var scope = NewDisposeScope();
        var one = SyntheticTensor(model.InputShape, 1, seed: 4, anomalous: true);
        var outputs = Ort.Run(file.Path, OnnxNames.Images, one);
        outputs[OnnxNames.Score].Shape.Should().Equal([1]);
        ((double[])outputs[OnnxNames.Score].Values)[0].Should().BeApproximately(detector.Score(one)[0], Tolerance * Math.Max(1, Math.Abs(detector.Score(one)[0])));
    }

    [Fact]
    public void A_detector_whose_model_has_an_unsupported_layer_is_refused_by_the_layer_name_and_nothing_is_written()
    {
        torch.manual_seed(5);
        var encoder = nn.Sequential(("hidden", nn.Linear(20, 8)), ("double", new Doubler()), ("code", nn.Linear(8, 3)));
        var decoder = nn.Sequential(("hidden", nn.Linear(3, 8)), ("act", nn.ReLU()), ("out", nn.Linear(8, 20)));
        using var model = Autoencoders.Custom(encoder, decoder, [20], latentSize: 3);
        var normal = Synthetic(model.InputShape, 60, seed: 1, anomalous: false);
        using var detector = AnomalyDetector.Fit(model, normal, new AnomalyDetectorOptions { ReconstructionError = ReconstructionLoss.MeanSquaredError });
        var path = folder.Combine("refused.onnx");

        var act = () => OnnxExport.Detector(detector, path);

        var error = act.Should().Throw<UnsupportedLayerException>().Which;
        error.LayerPath.Should().Be("encoder.double");
        error.LayerType.Should().Be(nameof(Doubler));
        Directory.GetFiles(folder.Path).Should().BeEmpty("nothing, not even a temporary file, is left behind");
    }

    public void Dispose() => folder.Dispose();

    /// <summary>Every score kind the model supports, with both reconstruction errors where they differ.</summary>
    private static IEnumerable<AnomalyDetectorOptions> OptionsFor(IAutoencoder model)
    {
        yield return new AnomalyDetectorOptions { Score = AnomalyScoreKind.Reconstruction };
        yield return new AnomalyDetectorOptions { Score = AnomalyScoreKind.Reconstruction, ReconstructionError = ReconstructionLoss.MeanSquaredError };
        yield return new AnomalyDetectorOptions { Score = AnomalyScoreKind.Latent };
        yield return new AnomalyDetectorOptions { Score = AnomalyScoreKind.Combined };
        if (model is IVariationalAutoencoder)
        {
            yield return new AnomalyDetectorOptions { Score = AnomalyScoreKind.NegativeElbo };
            yield return new AnomalyDetectorOptions { Score = AnomalyScoreKind.Combined, CombinedScores = [AnomalyScoreKind.Reconstruction, AnomalyScoreKind.NegativeElbo, AnomalyScoreKind.Latent], ReconstructionError = ReconstructionLoss.MeanSquaredError };
        }
    }

    private static string Describe(AnomalyDetectorOptions options) =>
        $"{options.Score} ({options.ReconstructionError}; combined {string.Join("+", options.CombinedScores)})";

    /// <summary>Smooth random blobs in [0, 1]; anomalous samples are inverted (1 - x) with noise added.</summary>
    private static float[] SyntheticValues(IReadOnlyList<long> shape, int count, int seed, bool anomalous)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        var size = (int)shape.Aggregate(1L, (a, b) => a * b);
        using var shared = new Generator(20_251_129);
        var basis = rand([4, size], generator: shared);
        var weights = rand([count, 4], generator: generator).mul(4).softmax(1);
        var values = weights.matmul(basis);
        if (anomalous)
        {
            values = (1 - values + (0.3 * rand([count, size], generator: generator))).clamp(0, 1);
        }

        return values.contiguous().data<float>().ToArray();
    }

    private static Dataset Synthetic(IReadOnlyList<long> shape, int count, int seed, bool anomalous)
    {
        var data = SyntheticValues(shape, count, seed, anomalous);
        return shape.Count == 3 ? Dataset.FromImages(data, (int)shape[0], (int)shape[1], (int)shape[2]) : Dataset.FromFeatures(data, (int)shape[0], SampleRange.ZeroToOne);
    }

    private static Tensor SyntheticTensor(IReadOnlyList<long> shape, int count, int seed, bool anomalous) =>
        tensor(SyntheticValues(shape, count, seed, anomalous)).reshape([count, .. shape]);

    /// <summary>Asserts the exported scores and flags equal the detector's; returns how many were flagged.</summary>
    private int AssertDetectorMatches(AnomalyDetector detector, Tensor samples, string what)
    {
        var file = OnnxExport.Detector(detector, folder.Combine("detector.onnx"));
        var all = detector.ScoreAll(samples);
        var expected = all.Get(detector.ScoreKind);
        var expectedFlags = detector.Predict(samples).Select(p => p.IsAnomaly).ToArray();
        var outputs = Ort.Run(file.Path, OnnxNames.Images, samples);
        var scores = (double[])outputs[OnnxNames.Score].Values;
        var flags = (bool[])outputs[OnnxNames.IsAnomaly].Values;

        scores.Should().HaveCount(expected.Length);
        var worstAbsolute = 0.0;
        var worstRatio = 0.0;
        for (var i = 0; i < expected.Length; i++)
        {
            var difference = Math.Abs(scores[i] - expected[i]);
            worstAbsolute = Math.Max(worstAbsolute, difference);
            worstRatio = Math.Max(worstRatio, difference / AllowedDifference(detector, all, i));
        }

        output.WriteLine($"{what}: {expected.Length} samples, scores {expected.Min():G4} to {expected.Max():G4}, largest difference {worstAbsolute:E2} ({worstRatio:P1} of the tolerance), {flags.Count(f => f)} flagged");
        worstRatio.Should().BeLessThanOrEqualTo(1, $"{what}: the largest difference of ONNX Runtime's score from LatentKit's ({worstAbsolute:E2}) must be within the tolerance");
        flags.Should().Equal(expectedFlags, $"{what}: the flags");
        file.Metadata[OnnxMetadataKeys.ScoreKind].Should().Be(detector.ScoreKind.ToString());
        return flags.Count(f => f);
    }

    /// <summary>
    /// The tolerance of sample <paramref name="i"/>'s score: 1e-5 · max(1, |score|); for the combined score, the parts'
    /// tolerances divided by their standard deviations and added, as the standardisation carries them.
    /// </summary>
    private static double AllowedDifference(AnomalyDetector detector, AnomalyScoreSet all, int i)
    {
        if (detector.ScoreKind != AnomalyScoreKind.Combined)
        {
            return Tolerance * Math.Max(1, Math.Abs(all.Get(detector.ScoreKind)[i]));
        }

        var parts = detector.Options.CombinedScores;
        return parts.Select((kind, k) => Tolerance * Math.Max(1, Math.Abs(all.Get(kind)[i])) / detector.Standardizer.StandardDeviations[k]).Sum();
    }

    private sealed class Doubler() : nn.Module<Tensor, Tensor>(nameof(Doubler))
    {
        public override Tensor forward(Tensor input) => input * 2;
    }
}
