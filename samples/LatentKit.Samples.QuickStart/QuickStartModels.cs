using Microsoft.Extensions.Logging;

namespace LatentKit.Samples.QuickStart;

/// <summary>
/// The quick start's models: Program.cs runs them on all of MNIST with the defaults; the samples' smoke test runs them
/// on a few synthetic digits, with its own epochs, threads and model path.
/// </summary>
internal static class QuickStartModels
{
    /// <summary>Where Program.cs saves the classifier (relative to the working directory).</summary>
    public const string DefaultModelPath = "output/quick-start.lkm";

    /// <summary>Trains both models, writes the test figures to <paramref name="output"/> and saves the classifier.</summary>
    /// <returns>The test loss (mean per-pixel BCE) and the test accuracy.</returns>
    public static (double Loss, double Accuracy) Run(
        MnistDataset training, MnistDataset test, ILogger log, TextWriter output, int epochs = 5, int? threads = null, string modelPath = DefaultModelPath)
    {
        // A dense autoencoder: 784 -> 256 -> 128 -> 49 and back, ReLU, sigmoid output, binary cross-entropy.
        using var autoencoder = Autoencoders.Dense()
            .WithHiddenLayers(256, 128)
            .WithLatentSize(49)
            .WithActivation(Activation.ReLU)
            .WithSeed(1)            // the same initial weights, and so the same figures, every run
            .Build();
        var run = new TrainingRun { Threads = threads, Logger = log };
        autoencoder.Train(training, new TrainingOptions { Epochs = epochs }, run);

        // A classifier on the latent codes of the frozen encoder.
        using var classifier = LatentClassifier.For(autoencoder).WithHiddenLayers(128).WithSeed(2).Build();
        classifier.Train(training, new TrainingOptions { Epochs = epochs }, run);

        var loss = autoencoder.Evaluate(test).BinaryCrossEntropy;
        var accuracy = classifier.Evaluate(test).Accuracy;
        output.WriteLine($"Test loss (mean per-pixel BCE) {loss:0.0000}, test accuracy {accuracy:P2}");

        // One file holds the classifier and its autoencoder: LatentClassifier.Load("output/quick-start.lkm").
        classifier.Save(modelPath);
        return (loss, accuracy);
    }
}
