using LatentKit.Tests.Support;

namespace LatentKit.Tests.Anomaly;

/// <summary>The detector on data of other shapes: colour images and unbounded feature rows (unlabelled normal data).</summary>
public class AnomalyOtherShapesTests
{
    private static (Dataset Normal, Dataset Test, bool[] IsAnomaly) Split(Dataset train, Dataset test)
    {
        var normal = train.Subset(Enumerable.Range(0, train.Count).Where(i => train.GetLabel(i) == 0).ToArray());
        return (normal, test, Enumerable.Range(0, test.Count).Select(i => test.GetLabel(i) != 0).ToArray());
    }

    [Fact]
    public void Colour_images_get_colour_error_maps_and_separate_other_classes()
    {
        var (normal, test, isAnomaly) = Split(SyntheticShapes.Colour(160, seed: 1), SyntheticShapes.Colour(80, seed: 2));
        using var model = Autoencoders.Convolutional().ForData(normal).WithChannels(4, 8).WithLatentSize(64).WithSeed(1).Build();
        model.Train(normal, new TrainingOptions { Epochs = 8, BatchSize = 10, LearningRate = 3e-3 }, new TrainingRun { Threads = 1 });
        using var detector = AnomalyDetector.Fit(model, normal);
        var scores = detector.ScoreAll(test);
        AnomalyMetrics.RocAuc(scores.Combined, isAnomaly).Should().BeGreaterThan(0.9);
        detector.ErrorMap(test, 0).Should().HaveCount(3 * 32 * 32);
    }

    [Fact]
    public void Feature_rows_use_squared_error_and_separate_the_other_class()
    {
        var (normal, test, isAnomaly) = Split(SyntheticShapes.Vectors(400, seed: 1), SyntheticShapes.Vectors(200, seed: 2));
        using var model = Autoencoders.Dense().ForData(normal).WithHiddenLayers(16).WithLatentSize(4).WithSeed(1).Build();
        model.Train(normal, new TrainingOptions { Epochs = 20, BatchSize = 20, LearningRate = 3e-3 }, new TrainingRun { Threads = 1 });
        using var detector = AnomalyDetector.Fit(model, normal, new AnomalyDetectorOptions { ReconstructionError = ReconstructionLoss.MeanSquaredError });
        var scores = detector.ScoreAll(test);
        AnomalyMetrics.RocAuc(scores.Combined, isAnomaly).Should().BeGreaterThan(0.9);
        detector.ErrorMap(test, 0).Should().HaveCount(30);
        using var temp = new TempDirectory();
        detector.Save(temp.Combine("vectors.lkd"));
        using var loaded = AnomalyDetector.Load(temp.Combine("vectors.lkd"));
        loaded.Score(test).Should().Equal(detector.Score(test), (a, b) => Math.Abs(a - b) < 1e-9);
    }
}
