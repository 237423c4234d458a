using System.Globalization;
using LatentKit.Samples.QuickStart;
using LatentKit.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace LatentKit.Samples.Tests.Smoke;

/// <summary>The quick start's models (what its Program.cs runs on all of MNIST) on a few synthetic digits.</summary>
public class QuickStartSmokeTests
{
    [Fact]
    public void The_quick_start_learns_prints_its_figures_and_saves_a_classifier_that_loads()
    {
        using var folder = new TempDirectory();
        var train = Synthetic.Digits(600, 1);
        var test = Synthetic.Digits(200, 2);
        var modelPath = Path.Combine(folder.Path, "output", "quick-start.lkm");
        var printed = new StringWriter(CultureInfo.CurrentCulture);

        var (loss, accuracy) = QuickStartModels.Run(train, test, NullLogger.Instance, printed, epochs: 40, threads: 1, modelPath: modelPath);

        printed.ToString().Should().Be($"Test loss (mean per-pixel BCE) {loss:0.0000}, test accuracy {accuracy:P2}{Environment.NewLine}");
        loss.Should().BeLessThan(Baselines.MeanImageBinaryCrossEntropy(train, test) - 0.1, "the autoencoder must reconstruct better than the mean image");
        accuracy.Should().BeGreaterThan(Baselines.Chance + 0.8, "the classifier must learn the synthetic digits");
        using var loaded = LatentClassifier.Load(modelPath);
        loaded.Evaluate(test).Accuracy.Should().Be(accuracy);
        loaded.Autoencoder.Evaluate(test).BinaryCrossEntropy.Should().Be(loss);
    }
}
