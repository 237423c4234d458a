using LatentKit.Imaging;

namespace LatentKit.Samples.OwnData;

/// <summary>
/// The README's non-MNIST example, line for line, with the folder, epochs, threads, model path and output as
/// parameters so that the samples' smoke test runs the same code on a small generated folder (a test checks the README
/// still matches this file).
/// </summary>
internal static class ReadmeExample
{
    /// <summary>Trains the README's autoencoder and classifier on <paramref name="folder"/> and saves the classifier.</summary>
    /// <returns>The test BCE and accuracy.</returns>
    public static (double Loss, double Accuracy) Run(string folder, string modelPath, TextWriter output, int epochs = 10, int? threads = null)
    {
        // photos/cat/*.jpg, photos/dog/*.png, ...: one subfolder per class; every image resized to 32 x 32 colour.
        var photos = ImageFolder.Load(folder, new ImageFolderOptions { Width = 32, Height = 32, Channels = 3 });
        var (training, test) = photos.SplitForValidation(0.2, seed: 1);

        // A convolutional autoencoder shaped for the data (3 x 32 x 32, an 8 x 8 code map: sigmoid output, BCE), then a classifier on its codes.
        using var autoencoder = Autoencoders.Convolutional().ForData(training).WithLatentSize(64).Build();
        autoencoder.Train(training, new TrainingOptions { Epochs = epochs, BatchSize = 32 }, new TrainingRun { Threads = threads });
        using var classifier = LatentClassifier.For(autoencoder).ForData(training).Build();
        classifier.Train(training, new TrainingOptions { Epochs = epochs, BatchSize = 32 }, new TrainingRun { Threads = threads });

        var loss = autoencoder.Evaluate(test).BinaryCrossEntropy;
        var accuracy = classifier.Evaluate(test).Accuracy;
        output.WriteLine($"Test BCE {loss:0.0000}, accuracy {accuracy:P1} over {string.Join(", ", photos.ClassNames)}");
        classifier.Save(modelPath);
        return (loss, accuracy);
    }
}
