using LatentKit.Tests.Support;
using Xunit.Abstractions;

namespace LatentKit.Tests.Training;

/// <summary>
/// Short runs on small real-MNIST subsets, one thread: the loss falls below what predicting the mean image gives,
/// classifiers beat chance by far, and every preset trains, evaluates and round-trips.
/// </summary>
[Collection(RealMnistFixture.Collection)]
public sealed class RealMnistTrainingTests(RealMnistFixture mnist, ITestOutputHelper output) : IDisposable
{
    // The preset run: measured (one thread) at test BCE 0.131 / 0.082 / 0.182 / 0.161 for presets 1-4 against the mean
    // image's 0.253, and accuracies 0.918 / 0.944 / 0.746 / 0.876. Preset 3 (Tanh) sits on the mean-image plateau
    // (train loss 0.265) for about 700 steps at its learning rate, hence batches of 16 (1,500 steps).
    private const int AutoencoderEpochs = 8;
    private const int AutoencoderBatchSize = 16;
    private const int ClassifierEpochs = 20;
    private const double ClassifierLearningRate = 1e-2;
    private const double ReconstructionMargin = 0.04;
    private const double MinimumPresetAccuracy = 0.6;

    private readonly string folder = Directory.CreateTempSubdirectory("latentkit-real-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void A_short_run_lowers_the_loss_and_a_classifier_on_the_codes_beats_80_percent()
    {
        var train = mnist.Train.TakePerClass(500, seed: 1);
        var test = mnist.Test.Take(2000);
        using var autoencoder = Autoencoders.Dense().WithSeed(1).Build();
        var before = autoencoder.Evaluate(test).BinaryCrossEntropy;

        var history = autoencoder.Train(train, new TrainingOptions { Epochs = 5, BatchSize = 64, LearningRate = 2e-3 }, new TrainingRun { Threads = 1 });

        history.Epochs[^1].TrainingLoss.Should().BeLessThan(history.Epochs[0].TrainingLoss);
        var after = autoencoder.Evaluate(test).BinaryCrossEntropy;
        var meanImage = Baselines.MeanImageBinaryCrossEntropy(train, test);
        output.WriteLine($"dense: test BCE {before:F4} -> {after:F4} (mean image {meanImage:F4})");
        after.Should().BeLessThan(before).And.BeLessThan(0.2).And.BeLessThan(meanImage - 0.05);

        using var classifier = LatentClassifier.For(autoencoder).WithSeed(1).Build();
        classifier.Train(train, new TrainingOptions { Epochs = 30, BatchSize = 64, LearningRate = 3e-3 }, new TrainingRun { Threads = 1 });
        var metrics = classifier.Evaluate(test);
        output.WriteLine($"dense: classifier accuracy {metrics.Accuracy:F4}");
        metrics.Accuracy.Should().BeGreaterThan(0.8);
        metrics.PerClassRecall.Should().OnlyContain(r => r > 0.4);
        AssertDiagonalDominates(metrics.ConfusionMatrix, "dense");
    }

    /// <summary>
    /// A short run of each preset from user code, on 3,000 training images with one thread. The presets' own epoch
    /// counts are for 60,000 images; here the autoencoders take small batches (more steps per epoch) and the
    /// classifiers a higher learning rate, so that every preset learns something real in seconds, and each figure is
    /// checked against what a model that learned nothing gets: the reconstruction against predicting the mean training
    /// image, the classifier against chance (0.1), its confusion matrix for a dominant diagonal.
    /// </summary>
    [Fact]
    public void Every_preset_learns_more_than_the_mean_image_and_chance_and_round_trips_on_a_subset()
    {
        var train = mnist.Train.TakePerClass(300, seed: 2);
        var test = mnist.Test.Take(500);
        var meanImage = Baselines.MeanImageBinaryCrossEntropy(train, test);
        foreach (var scenario in ReferenceScenarios.All)
        {
            using var autoencoder = scenario.CreateAutoencoderBuilder().Build();
            var before = autoencoder.Evaluate(test).BinaryCrossEntropy;
            var history = autoencoder.Train(train, scenario.AutoencoderTraining with { Epochs = AutoencoderEpochs, BatchSize = AutoencoderBatchSize }, new TrainingRun { Threads = 1 });
            history.Epochs.Should().HaveCount(AutoencoderEpochs, scenario.Name);
            var reconstruction = autoencoder.Evaluate(test);
            output.WriteLine($"{scenario.Name}: test BCE {before:F4} -> {reconstruction.BinaryCrossEntropy:F4} (mean image {meanImage:F4})");
            reconstruction.BinaryCrossEntropy.Should().BeLessThan(before, scenario.Name)
                .And.BeLessThan(meanImage - ReconstructionMargin, "{0} must reconstruct better than predicting the mean training image", scenario.Name);

            using var classifier = scenario.CreateClassifierBuilder(autoencoder).Build();
            classifier.Train(train, scenario.ClassifierTraining with { Epochs = ClassifierEpochs, BatchSize = 64, LearningRate = ClassifierLearningRate }, new TrainingRun { Threads = 1 });
            var metrics = classifier.Evaluate(test);
            output.WriteLine($"{scenario.Name}: accuracy {metrics.Accuracy:F4}, recall {string.Join(" ", metrics.PerClassRecall.Select(r => r.ToString("F2")))}");
            metrics.Accuracy.Should().BeGreaterThan(MinimumPresetAccuracy, "{0}'s classifier must beat chance (0.1) by far", scenario.Name);
            AssertDiagonalDominates(metrics.ConfusionMatrix, scenario.Name);

            var path = Path.Combine(folder, $"scenario{scenario.Number}.lkm");
            classifier.Save(path);
            using var loaded = LatentClassifier.Load(path);
            loaded.Evaluate(test).Accuracy.Should().Be(metrics.Accuracy, scenario.Name);
            loaded.Autoencoder.Evaluate(test).Should().Be(reconstruction, scenario.Name);

            autoencoder.Save(path);
            using var loadedAutoencoder = AutoencoderFile.Load(path);
            loadedAutoencoder.GetType().Should().Be(autoencoder.GetType());
            loadedAutoencoder.Evaluate(test).Should().Be(reconstruction, scenario.Name);
        }
    }

    /// <summary>Every class is recognised more often than it is mistaken for any single other class.</summary>
    internal static void AssertDiagonalDominates(int[,] confusion, string because)
    {
        for (var actual = 0; actual < MnistDataset.ClassCount; actual++)
        {
            for (var predicted = 0; predicted < MnistDataset.ClassCount; predicted++)
            {
                if (predicted != actual)
                {
                    confusion[actual, predicted].Should().BeLessThan(confusion[actual, actual], "{0}: digit {1} must be predicted as itself more often than as {2}", because, actual, predicted);
                }
            }
        }
    }
}
