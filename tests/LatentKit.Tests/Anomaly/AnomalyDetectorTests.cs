using LatentKit.Tests.Persistence;
using LatentKit.Tests.Support;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace LatentKit.Tests.Anomaly;

/// <summary>The detector on synthetic digits: pattern 0 is normal, the other nine patterns are anomalies.</summary>
public class AnomalyDetectorTests
{
    private static readonly TrainingOptions Quick = new() { Epochs = 6, BatchSize = 20, LearningRate = 3e-3 };

    private static (MnistDataset Normal, MnistDataset Test, bool[] IsAnomaly) Data()
    {
        var all = Synthetic.Digits(600, seed: 3);
        var normal = all.Subset(Enumerable.Range(0, all.Count).Where(i => all.GetLabel(i) == 0).ToArray());
        var test = Synthetic.Digits(200, seed: 4);
        var isAnomaly = Enumerable.Range(0, test.Count).Select(i => test.GetLabel(i) != 0).ToArray();
        return (normal, test, isAnomaly);
    }

    private static IAutoencoder Trained(AutoencoderKind kind, MnistDataset normal)
    {
        var model = SmallModels.Build(kind);
        model.Train(normal, Quick, new TrainingRun { Threads = 1 });
        return model;
    }

    [Theory]
    [InlineData(AutoencoderKind.Dense)]
    [InlineData(AutoencoderKind.Convolutional)]
    [InlineData(AutoencoderKind.Variational)]
    public void Every_score_kind_separates_unseen_patterns(AutoencoderKind kind)
    {
        var (normal, test, isAnomaly) = Data();
        using var model = Trained(kind, normal);
        using var detector = AnomalyDetector.Fit(model, normal);
        var scores = detector.ScoreAll(test);
        AnomalyMetrics.RocAuc(scores.Reconstruction, isAnomaly).Should().BeGreaterThan(0.9);
        AnomalyMetrics.RocAuc(scores.Combined, isAnomaly).Should().BeGreaterThan(0.9);
        (scores.NegativeElbo is not null).Should().Be(kind == AutoencoderKind.Variational);
        if (scores.NegativeElbo is { } elbo)
        {
            AnomalyMetrics.RocAuc(elbo, isAnomaly).Should().BeGreaterThan(0.9);
            elbo.Zip(scores.Reconstruction).Should().OnlyContain(p => p.First >= p.Second - 1e-6, "the KL term is not negative");
        }

        // At most 5 % of the normal training set lies above the calibrated threshold.
        detector.Score(normal).Count(s => s > detector.Threshold.Value).Should().BeLessThanOrEqualTo((int)(0.05 * normal.Count));
        var predictions = detector.Predict(test);
        predictions.Should().HaveCount(test.Count);
        predictions.Should().OnlyContain(p => p.IsAnomaly == (p.Score > detector.Threshold.Value) && p.Threshold == detector.Threshold.Value);
        AnomalyMetrics.AtThreshold(scores.Combined, isAnomaly, detector.Threshold.Value).Recall.Should().BeGreaterThan(0.8);
    }

    [Fact]
    public void Combined_score_is_the_sum_of_parts_standardised_on_normal_data()
    {
        var (normal, test, _) = Data();
        using var model = Trained(AutoencoderKind.Dense, normal);
        using var detector = AnomalyDetector.Fit(model, normal);
        var onNormal = detector.ScoreAll(normal);
        onNormal.Combined.Average().Should().BeApproximately(0, 1e-6);
        detector.FittedScores!.Combined.Should().Equal(onNormal.Combined, (a, b) => Math.Abs(a - b) < 1e-9);
        detector.FittedScores.Latent.Should().Equal(onNormal.Latent, (a, b) => Math.Abs(a - b) < 1e-9);
        var s = detector.ScoreAll(test);
        for (var i = 0; i < 5; i++)
        {
            var expected = ((s.Reconstruction[i] - detector.Standardizer.Means[0]) / detector.Standardizer.StandardDeviations[0])
                + ((s.Latent[i] - detector.Standardizer.Means[1]) / detector.Standardizer.StandardDeviations[1]);
            s.Combined[i].Should().BeApproximately(expected, 1e-9);
        }
    }

    [Fact]
    public void Error_maps_sum_to_the_reconstruction_score_and_tensor_scores_equal_dataset_scores()
    {
        var (normal, test, _) = Data();
        using var model = Trained(AutoencoderKind.Convolutional, normal);
        using var detector = AnomalyDetector.Fit(model, normal, new AnomalyDetectorOptions { Score = AnomalyScoreKind.Reconstruction, ReconstructionError = ReconstructionLoss.MeanSquaredError });
        var scores = detector.Score(test);
        var map = detector.ErrorMap(test, 7);
        map.Should().HaveCount(784).And.OnlyContain(v => v >= 0);
        map.Sum(v => (double)v).Should().BeApproximately(scores[7], 1e-3);

        using var images = test.ImagesToTensor(ImageLayout.Image);
        detector.Score(images).Should().Equal(scores, (a, b) => Math.Abs(a - b) < 1e-6);
        using var maps = detector.ErrorMaps(images);
        maps.shape.Should().Equal(test.Count, 1, 28, 28);
    }

    [Fact]
    public void Save_and_load_give_the_same_scores_and_threshold()
    {
        var (normal, test, _) = Data();
        using var model = Trained(AutoencoderKind.Variational, normal);
        using var detector = AnomalyDetector.Fit(model, normal, new AnomalyDetectorOptions { Score = AnomalyScoreKind.NegativeElbo, Contamination = 0.1 });
        using var temp = new TempDirectory();
        var path = temp.Combine("detector.lkd");
        detector.Save(path);
        Directory.GetFiles(temp.Path).Should().Equal(path);

        using var loaded = AnomalyDetector.Load(path);
        loaded.ScoreKind.Should().Be(AnomalyScoreKind.NegativeElbo);
        loaded.Threshold.Should().Be(detector.Threshold);
        loaded.Threshold.Rule.Should().Be(ThresholdRule.Contamination);
        loaded.Options.CombinedScores.Should().Equal(detector.Options.CombinedScores);
        loaded.FittedCount.Should().Be(normal.Count);
        loaded.FittedScores.Should().BeNull();
        loaded.Model.Should().BeOfType<VariationalAutoencoder>();
        loaded.Score(test).Should().Equal(detector.Score(test), (a, b) => Math.Abs(a - b) < 1e-9);
        loaded.ScoreAll(test).Combined.Should().Equal(detector.ScoreAll(test).Combined, (a, b) => Math.Abs(a - b) < 1e-9);
    }

    [Fact]
    public void Detector_and_model_files_are_not_mistaken_for_each_other()
    {
        var (normal, _, _) = Data();
        using var model = Trained(AutoencoderKind.Dense, normal);
        using var detector = AnomalyDetector.Fit(model, normal);
        using var temp = new TempDirectory();
        detector.Save(temp.Combine("d.lkd"));
        model.Save(temp.Combine("m.lkm"));

        FluentActions.Invoking(() => AutoencoderFile.Load(temp.Combine("d.lkd"))).Should().Throw<ModelFileException>()
            .Where(e => e.Error == ModelFileError.WrongKind && e.Message.Contains("AnomalyDetector.Load"));
        FluentActions.Invoking(() => LatentClassifier.Load(temp.Combine("d.lkd"))).Should().Throw<ModelFileException>()
            .Where(e => e.Error == ModelFileError.WrongKind && e.Message.Contains("AnomalyDetector.Load"));
        FluentActions.Invoking(() => AnomalyDetector.Load(temp.Combine("m.lkm"))).Should().Throw<ModelFileException>()
            .Where(e => e.Error == ModelFileError.WrongKind && e.Message.Contains("AutoencoderFile.Load"));
        FluentActions.Invoking(() => AnomalyDetector.Load(temp.Combine("none.lkd"))).Should().Throw<ModelFileException>()
            .Where(e => e.Error == ModelFileError.Missing);
    }

    public static TheoryData<string, string, string> DamagedStates => new()
    {
        { "threshold", "\"NaN\"", "threshold" },
        { "standardizerDeviations", "[0, 1]", "standardDeviations" },
        { "latentMean", "[0, 0]", "covariance" },
        { "combinedScores", "[\"Combined\"]", "CombinedScores" },
        { "batchSize", "0", "BatchSize" },
        { "fittedCount", "1", "fittedCount" },
    };

    [Theory]
    [MemberData(nameof(DamagedStates))]
    public void A_damaged_detector_state_is_refused_naming_the_field(string field, string json, string named)
    {
        var (normal, _, _) = Data();
        using var model = Trained(AutoencoderKind.Dense, normal);
        using var detector = AnomalyDetector.Fit(model, normal);
        using var temp = new TempDirectory();
        var path = temp.Combine("d.lkd");
        detector.Save(path);
        var entries = ModelFileEditor.Entries(path);
        var state = JsonNode.Parse(entries.Single(e => e.Name == "detector.json").Bytes)!.AsObject();
        state[field] = JsonNode.Parse(json);
        var bytes = System.Text.Encoding.UTF8.GetBytes(state.ToJsonString());
        var manifest = ModelFileEditor.Manifest(path);
        ModelFileEditor.Describe(manifest, "detector.json", bytes);
        var edited = temp.Combine("edited.lkd");
        ModelFileEditor.Write(edited, [("manifest.json", System.Text.Encoding.UTF8.GetBytes(manifest.ToJsonString())), .. entries.Where(e => e.Name is not ("manifest.json" or "detector.json")), ("detector.json", bytes)]);

        var e = FluentActions.Invoking(() => AnomalyDetector.Load(edited)).Should().Throw<ModelFileException>().Which;
        e.Error.Should().Be(ModelFileError.Damaged);
        e.Message.Should().Contain("detector.json").And.Contain(named);
    }

    [Fact]
    public void A_tampered_or_oversized_state_entry_is_refused_before_it_is_parsed()
    {
        var (normal, _, _) = Data();
        using var model = Trained(AutoencoderKind.Dense, normal);
        using var detector = AnomalyDetector.Fit(model, normal);
        using var temp = new TempDirectory();
        var path = temp.Combine("d.lkd");
        detector.Save(path);
        var entries = ModelFileEditor.Entries(path);

        var tampered = temp.Combine("tampered.lkd");
        ModelFileEditor.Write(tampered, entries.Select(e => e.Name == "detector.json" ? (e.Name, e.Bytes.Select(b => b == (byte)'1' ? (byte)'2' : b).ToArray()) : e));
        FluentActions.Invoking(() => AnomalyDetector.Load(tampered)).Should().Throw<ModelFileException>()
            .Where(e => e.Error == ModelFileError.Damaged && e.Message.Contains("checksum"));

        var huge = new byte[(int)AnomalyDetectorFile.MaxStateBytes(model.LatentSize) + 1];
        var manifest = ModelFileEditor.Manifest(path);
        ModelFileEditor.Describe(manifest, "detector.json", huge);
        var oversized = temp.Combine("oversized.lkd");
        ModelFileEditor.Write(oversized, [("manifest.json", System.Text.Encoding.UTF8.GetBytes(manifest.ToJsonString())), .. entries.Where(e => e.Name is not ("manifest.json" or "detector.json")), ("detector.json", huge)]);
        FluentActions.Invoking(() => AnomalyDetector.Load(oversized)).Should().Throw<ModelFileException>()
            .Where(e => e.Error == ModelFileError.Damaged && e.Message.Contains("latent size of 16"));
    }

    [Fact]
    public void Degenerate_normal_sets_and_wrong_options_are_named()
    {
        var (normal, _, _) = Data();
        using var model = Trained(AutoencoderKind.Dense, normal);
        FluentActions.Invoking(() => AnomalyDetector.Fit(model, normal.Take(0))).Should().Throw<AnomalyDataException>()
            .Where(e => e.Error == AnomalyDataError.Empty && e.ParamName == "normal");
        var constant = new MnistDataset(new byte[784 * 20], new byte[20]);
        FluentActions.Invoking(() => AnomalyDetector.Fit(model, constant)).Should().Throw<AnomalyDataException>()
            .Where(e => e.Error == AnomalyDataError.Constant && e.Message.Contains("constant"));
        FluentActions.Invoking(() => AnomalyDetector.Fit(model, normal, new AnomalyDetectorOptions { Score = AnomalyScoreKind.NegativeElbo })).Should().Throw<ArgumentException>()
            .Where(e => e.ParamName == "options" && e.Message.Contains("variational"));
        FluentActions.Invoking(() => AnomalyDetector.Fit(model, normal, new AnomalyDetectorOptions { FalsePositiveRate = 1.5 })).Should().Throw<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == "FalsePositiveRate");
        FluentActions.Invoking(() => AnomalyDetector.Fit(model, normal, new AnomalyDetectorOptions { CombinedScores = [] })).Should().Throw<ArgumentException>()
            .Where(e => e.ParamName == "CombinedScores");

        using var detector = AnomalyDetector.Fit(model, normal);
        using var wrong = zeros(3, 100);
        FluentActions.Invoking(() => detector.Score(wrong)).Should().Throw<ArgumentException>().Where(e => e.Message.Contains("784"));
        FluentActions.Invoking(() => detector.Threshold = AnomalyThreshold.Fixed(double.PositiveInfinity)).Should().Throw<AnomalyDataException>();
    }

    [Fact]
    public void Calibrate_sets_the_threshold_on_held_out_normal_data()
    {
        var (normal, test, _) = Data();
        using var model = Trained(AutoencoderKind.Dense, normal);
        using var detector = AnomalyDetector.Fit(model, normal);
        var heldOut = test.Subset(Enumerable.Range(0, test.Count).Where(i => test.GetLabel(i) == 0).ToArray());
        var t = detector.Calibrate(heldOut, 0.1);
        t.Rule.Should().Be(ThresholdRule.FalsePositiveRate);
        detector.Threshold.Should().Be(t);
        detector.Predict(heldOut).Count(p => p.IsAnomaly).Should().BeLessThanOrEqualTo((int)(0.1 * heldOut.Count));
    }

    [Fact]
    public void Unlabelled_normal_data_fits_and_unbounded_features_need_squared_error()
    {
        var (normal, test, isAnomaly) = Data();
        using var model = Trained(AutoencoderKind.Dense, normal);
        var pixels = Enumerable.Range(0, normal.Count).SelectMany(i => normal.GetImage(i).ToArray()).ToArray();
        var unlabelled = Dataset.FromImages(pixels, 1, 28, 28, name: "unlabelled normal images");
        unlabelled.HasLabels.Should().BeFalse();
        using var detector = AnomalyDetector.Fit(model, unlabelled);
        AnomalyMetrics.RocAuc(detector.Score(test), isAnomaly).Should().BeGreaterThan(0.9);
        detector.Score(unlabelled).Should().Equal(AnomalyDetector.Fit(model, normal).Score(normal), (a, b) => Math.Abs(a - b) < 1e-9);

        var features = Dataset.FromFeatures(pixels.Select(p => p / 255f).ToArray(), 784, name: "features");
        FluentActions.Invoking(() => AnomalyDetector.Fit(model, features)).Should().Throw<ArgumentException>()
            .Where(e => e.ParamName == "options" && e.Message.Contains("MeanSquaredError") && e.Message.Contains("'features'"));
        using var mse = AnomalyDetector.Fit(model, features, new AnomalyDetectorOptions { ReconstructionError = ReconstructionLoss.MeanSquaredError });
        mse.ErrorMap(features, 3).Should().HaveCount(784);
    }

    [Fact]
    public void Any_autoencoder_scores_but_only_LatentKit_models_save()
    {
        var (normal, test, isAnomaly) = Data();
        using var pixels = new PixelEncoder();
        using var detector = AnomalyDetector.Fit(pixels, normal, new AnomalyDetectorOptions { Score = AnomalyScoreKind.Latent });
        AnomalyMetrics.RocAuc(detector.Score(test), isAnomaly).Should().BeGreaterThan(0.9, "the Mahalanobis distance of raw pixels separates the synthetic patterns");
        using var temp = new TempDirectory();
        FluentActions.Invoking(() => detector.Save(temp.Combine("d.lkd"))).Should().Throw<NotSupportedException>().Where(e => e.Message.Contains("PixelEncoder"));
        Directory.GetFiles(temp.Path).Should().BeEmpty();
    }

    [Fact]
    public void Fit_refuses_a_model_whose_latent_size_is_above_the_gaussian_bound_before_scoring()
    {
        // A latent size of 4,097: its covariance would take 4,097^2 doubles (the audit's 30,000 took 7.2 GB).
        using var model = Autoencoders.Dense().WithInputShape(4).WithHiddenLayers(2).WithLatentSize(4_097).WithSeed(1).Build();
        var normal = Dataset.FromFeatures([0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.2f, 0.1f, 0.4f, 0.3f], 4, SampleRange.ZeroToOne);

        var act = () => AnomalyDetector.Fit(model, normal);

        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "model").WithMessage("*4,097*4,096*GaussianLatentModel.MaxDimensions*");
    }

    [Fact]
    public void Data_of_another_width_is_refused_naming_the_methods_own_parameter()
    {
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        var wrong = Dataset.FromFeatures(new float[30], 10, SampleRange.ZeroToOne);
        FluentActions.Invoking(() => AnomalyDetector.Fit(model, wrong)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("normal");
        using var detector = AnomalyDetector.Fit(model, Synthetic.Digits(30, seed: 3));
        FluentActions.Invoking(() => detector.Score(wrong)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("data");
        FluentActions.Invoking(() => detector.Calibrate(wrong, 0.1)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("normal");
        using var narrow = zeros(3, 10);
        FluentActions.Invoking(() => detector.Score(narrow)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("samples");
        FluentActions.Invoking(() => detector.ErrorMaps(narrow)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("samples");
    }
}
