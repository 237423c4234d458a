using LatentKit.Samples.Common.Analysis;
using LatentKit.Samples.Common.Imaging;
using LatentKit.Samples.Common.Plotting;
using LatentKit.Samples.Common.Results;
using TorchSharp;

namespace LatentKit.Samples.ResultTable.Report;

/// <summary>
/// The pictures of one scenario: test digits above their reconstructions, loss curves, the test codes projected to
/// 2-D by PCA and coloured by digit, and for a VAE a grid of digits decoded from the prior.
/// </summary>
public static class ScenarioPictures
{
    /// <summary>Test digits shown above their reconstructions.</summary>
    public const int ReconstructionCount = 16;

    /// <summary>Rows and columns of the prior-sample grid of a VAE.</summary>
    public const int SampleGridSide = 8;

    /// <summary>Seed of the prior samples (the same seed, the same digits).</summary>
    public const int SampleSeed = 2024;

    /// <summary>File name of the reconstructions picture of scenario <paramref name="scenario"/>.</summary>
    public static string ReconstructionsFile(int scenario) => $"scenario-{scenario}-reconstructions.png";

    /// <summary>File name of the autoencoder's loss curves.</summary>
    public static string AutoencoderLossFile(int scenario) => $"scenario-{scenario}-autoencoder-loss.png";

    /// <summary>File name of the classifier's loss curves.</summary>
    public static string ClassifierLossFile(int scenario) => $"scenario-{scenario}-classifier-loss.png";

    /// <summary>File name of the PCA scatter of the test codes.</summary>
    public static string LatentFile(int scenario) => $"scenario-{scenario}-latent-pca.png";

    /// <summary>File name of the VAE's prior samples.</summary>
    public static string SamplesFile(int scenario) => $"scenario-{scenario}-prior-samples.png";

    /// <summary>Writes every picture of a scenario into <paramref name="directory"/> and returns the file names written.</summary>
    public static IReadOnlyList<string> Write(
        string directory,
        int scenario,
        string name,
        IAutoencoder autoencoder,
        MnistDataset test,
        TrainingHistory autoencoderHistory,
        TrainingHistory classifierHistory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(autoencoder);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(autoencoderHistory);
        ArgumentNullException.ThrowIfNull(classifierHistory);
        var written = new List<string>();
        using var scope = torch.NewDisposeScope();

        // Originals above reconstructions, the same 16 test digits (the first 16 of the test set).
        var count = Math.Min(ReconstructionCount, test.Count);
        var originals = test.ImagesToTensor(0, count);
        var originalPixels = originals.data<float>().ToArray();
        var reconstructed = autoencoder.Reconstruct(originals).reshape(count, MnistDataset.PixelsPerImage).data<float>().ToArray();
        DigitGrid.SavePng(
            Path.Combine(directory, ReconstructionsFile(scenario)),
            [Split(originalPixels, count), Split(reconstructed, count)]);
        written.Add(ReconstructionsFile(scenario));

        LossCurvePlot.SavePng(
            Path.Combine(directory, AutoencoderLossFile(scenario)),
            $"Scenario {scenario}: {name}",
            autoencoderHistory.Epochs.Select(e => e.TrainingLoss).ToArray(),
            autoencoderHistory.Epochs.Select(e => e.ValidationLoss ?? double.NaN).ToArray(),
            autoencoder is IVariationalAutoencoder ? "loss per image (BCE summed over pixels + KL)" : "loss (mean per-pixel BCE)",
            validationLabel: "test");
        written.Add(AutoencoderLossFile(scenario));

        LossCurvePlot.SavePng(
            Path.Combine(directory, ClassifierLossFile(scenario)),
            $"Scenario {scenario}: classifier on the latent codes",
            classifierHistory.Epochs.Select(e => e.TrainingLoss).ToArray(),
            classifierHistory.Epochs.Select(e => e.ValidationLoss ?? double.NaN).ToArray(),
            "classifier loss",
            validationLabel: "test");
        written.Add(ClassifierLossFile(scenario));

        // The test set's codes (a VAE's Encode gives the mean), projected to their two principal components.
        var codes = autoencoder.EncodeDataset(test);
        var codeValues = codes.data<float>().ToArray();
        var pca = Pca.Fit(codeValues, test.Count, autoencoder.LatentSize);
        var ratios = pca.ExplainedVarianceRatio;
        LatentScatterPlot.SavePng(
            Path.Combine(directory, LatentFile(scenario)),
            $"Scenario {scenario}: test codes{(autoencoder is IVariationalAutoencoder ? " (means)" : string.Empty)}, PCA",
            pca.Transform(codeValues),
            test.Labels.Span,
            FormattableString.Invariant($"component 1 ({ratios[0]:P0} of the variance)"),
            FormattableString.Invariant($"component 2 ({ratios[1]:P0})"));
        written.Add(LatentFile(scenario));

        if (autoencoder is IVariationalAutoencoder vae)
        {
            var samples = vae.Sample(SampleGridSide * SampleGridSide, SampleSeed)
                .reshape(SampleGridSide * SampleGridSide, MnistDataset.PixelsPerImage)
                .data<float>()
                .ToArray();
            AtomicFile.WriteAllBytes(Path.Combine(directory, SamplesFile(scenario)), DigitGrid.RenderGridPng(samples, SampleGridSide));
            written.Add(SamplesFile(scenario));
        }

        return written;
    }

    private static IReadOnlyList<ReadOnlyMemory<float>> Split(float[] pixels, int count) =>
        Enumerable.Range(0, count)
            .Select(i => new ReadOnlyMemory<float>(pixels, i * MnistDataset.PixelsPerImage, MnistDataset.PixelsPerImage))
            .ToArray();
}
