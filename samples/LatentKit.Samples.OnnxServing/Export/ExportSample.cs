using LatentKit.Onnx;

namespace LatentKit.Samples.OnnxServing.Export;

/// <summary>Trains (or takes) a classifier, measures it with LatentKit and exports it with its encoder to ONNX.</summary>
internal static class ExportSample
{
    /// <summary>Trains a dense autoencoder and a classifier on its codes, the quick-start recipe (<paramref name="epochs"/> each).</summary>
    public static LatentClassifier Train(MnistDataset training, int epochs, TextWriter output)
    {
        var options = new TrainingOptions { Epochs = epochs, BatchSize = 128 };
        var autoencoder = Autoencoders.Dense().WithHiddenLayers(256, 128).WithLatentSize(49).WithSeed(1).Build();
        output.WriteLine($"Training the dense autoencoder ({epochs} epochs on {training.Count:N0} images)...");
        autoencoder.Train(training, options);
        var classifier = LatentClassifier.For(autoencoder).WithSeed(2).Build();
        output.WriteLine($"Training the classifier on its codes ({epochs} epochs)...");
        classifier.Train(training, options);
        return classifier;
    }

    /// <summary>Prints LatentKit's test accuracy, exports the classifier to <paramref name="onnxPath"/> and returns the accuracy.</summary>
    public static double Export(LatentClassifier classifier, MnistDataset test, string onnxPath, TextWriter output)
    {
        var metrics = classifier.Evaluate(test);
        var correct = (int)Math.Round(metrics.Accuracy * test.Count);
        output.WriteLine($"LatentKit accuracy: {metrics.Accuracy:F4} ({correct} / {test.Count})");
        var info = OnnxExport.Classifier(classifier, onnxPath);
        output.WriteLine($"Wrote {info.Path} (opset {info.Opset})");
        output.WriteLine($"  input:   {info.Inputs[0]}");
        foreach (var o in info.Outputs)
        {
            output.WriteLine($"  output:  {o}");
        }

        output.WriteLine($"  classes: {info.Metadata[OnnxMetadataKeys.ClassNames]}");
        return metrics.Accuracy;
    }
}
