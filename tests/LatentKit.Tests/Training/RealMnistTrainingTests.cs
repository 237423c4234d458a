using LatentKit.Building;
using LatentKit.Data;
using LatentKit.Models;
using LatentKit.Persistence;
using LatentKit.Tests.Support;
using LatentKit.Training;
using static TorchSharp.torch;

namespace LatentKit.Tests.Training;

/// <summary>Short runs on small real-MNIST subsets: the loss falls, classifiers beat 0.8, and every preset trains, evaluates and round-trips.</summary>
[Collection(RealMnistFixture.Collection)]
public sealed class RealMnistTrainingTests(RealMnistFixture mnist) : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("latentkit-real-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void A_short_run_lowers_the_loss_and_a_classifier_on_the_codes_beats_80_percent()
    {
        var train = mnist.Train.TakePerClass(500, seed: 1);
        var test = mnist.Test.Take(2000);
        using var autoencoder = Autoencoders.Dense().WithSeed(1).Build();
        var before = autoencoder.Evaluate(test).BinaryCrossEntropy;

        var history = autoencoder.Train(train, new TrainingOptions { Epochs = 5, BatchSize = 64, LearningRate = 2e-3, Threads = 2 });

        history.Epochs[^1].TrainingLoss.Should().BeLessThan(history.Epochs[0].TrainingLoss);
        var after = autoencoder.Evaluate(test).BinaryCrossEntropy;
        after.Should().BeLessThan(before).And.BeLessThan(0.2);

        using var classifier = LatentClassifier.For(autoencoder).WithSeed(1).Build();
        classifier.Train(train, new TrainingOptions { Epochs = 30, BatchSize = 64, LearningRate = 3e-3, Threads = 2 });
        var metrics = classifier.Evaluate(test);
        metrics.Accuracy.Should().BeGreaterThan(0.8);
        metrics.PerClassRecall.Should().OnlyContain(r => r > 0.4);
    }

    /// <summary>
    /// A smoke run of each preset from user code. Two or three epochs on 3,000 images leave some presets' codes too
    /// poor for the sigmoid head to beat chance, so accuracy is only checked to be a valid fraction here; the
    /// classifier's quality is checked above and the presets' full runs are in the benchmark note.
    /// </summary>
    [Fact]
    public void Every_preset_builds_trains_evaluates_and_round_trips_on_a_subset()
    {
        var train = mnist.Train.TakePerClass(300, seed: 2);
        var test = mnist.Test.Take(500);
        foreach (var scenario in ReferenceScenarios.All)
        {
            using var autoencoder = scenario.CreateAutoencoderBuilder().Build();
            var before = autoencoder.Evaluate(test).BinaryCrossEntropy;
            var history = autoencoder.Train(train, scenario.AutoencoderTraining with { Epochs = 3, BatchSize = 64, Threads = 2 });
            history.Epochs.Should().HaveCount(3, scenario.Name);
            var reconstruction = autoencoder.Evaluate(test);
            reconstruction.BinaryCrossEntropy.Should().BeLessThan(before, scenario.Name);

            using var classifier = scenario.CreateClassifierBuilder(autoencoder).Build();
            classifier.Train(train, scenario.ClassifierTraining with { Epochs = 20, BatchSize = 64, Threads = 2 });
            var accuracy = classifier.Evaluate(test).Accuracy;
            accuracy.Should().BeInRange(0, 1, scenario.Name);

            var path = Path.Combine(folder, $"scenario{scenario.Number}.lkm");
            classifier.Save(path);
            using var loaded = LatentClassifier.Load(path);
            loaded.Evaluate(test).Accuracy.Should().Be(accuracy, scenario.Name);
            loaded.Autoencoder.Evaluate(test).Should().Be(reconstruction, scenario.Name);

            autoencoder.Save(path);
            using var loadedAutoencoder = AutoencoderFile.Load(path);
            loadedAutoencoder.GetType().Should().Be(autoencoder.GetType());
            loadedAutoencoder.Evaluate(test).Should().Be(reconstruction, scenario.Name);
        }
    }
}
