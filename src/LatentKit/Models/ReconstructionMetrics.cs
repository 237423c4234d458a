using System.Globalization;
using System.Text;

namespace LatentKit;

/// <summary>
/// How well an autoencoder reconstructs a dataset. Both losses are means per value (per pixel of an image, per feature
/// of a vector), not sums per sample, so figures are comparable across image sizes and match the MNIST figures
/// LatentKit has always reported; multiply by the sample size for the per-sample sum. A model with a
/// <see cref="AutoencoderBase.Standardizer"/> is measured in standardised units (what it trains on).
/// </summary>
/// <param name="BinaryCrossEntropy">
/// Mean per-value binary cross-entropy between the samples and their reconstructions. Only meaningful for a sigmoid
/// output on data in [0, 1] (<see cref="SampleRange.ZeroToOne"/>, no standardizer); <see cref="double.NaN"/> otherwise.
/// </param>
/// <param name="MeanSquaredError">Mean per-value squared error between the samples and their reconstructions (always reported).</param>
/// <param name="KlDivergence">
/// For a variational autoencoder, the mean KL divergence per sample between the latent distribution and the standard
/// normal prior (summed over the latent dimensions); <see langword="null"/> for other autoencoders.
/// </param>
/// <param name="Count">Number of samples evaluated.</param>
public sealed record ReconstructionMetrics(double BinaryCrossEntropy, double MeanSquaredError, double? KlDivergence, int Count)
{
    /// <summary>The loss the model trains with (and so the figure to compare across its runs).</summary>
    public ReconstructionLoss Loss { get; init; } = ReconstructionLoss.BinaryCrossEntropy;

    /// <summary>The figure of <see cref="Loss"/>: <see cref="BinaryCrossEntropy"/> or <see cref="MeanSquaredError"/>.</summary>
    public double TrainingLossFigure => Loss == ReconstructionLoss.BinaryCrossEntropy ? BinaryCrossEntropy : MeanSquaredError;
}

/// <summary>How well a classifier labels a dataset.</summary>
public sealed class ClassificationMetrics
{
    internal ClassificationMetrics(int[,] confusionMatrix, IReadOnlyList<string>? classNames = null)
    {
        ConfusionMatrix = confusionMatrix;
        var classes = confusionMatrix.GetLength(0);
        ClassNames = classNames?.ToArray() ?? Enumerable.Range(0, classes).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var correct = 0;
        var total = 0;
        var recall = new double[classes];
        for (var t = 0; t < classes; t++)
        {
            var row = 0;
            for (var p = 0; p < classes; p++)
            {
                row += confusionMatrix[t, p];
            }

            correct += confusionMatrix[t, t];
            total += row;
            recall[t] = row == 0 ? double.NaN : (double)confusionMatrix[t, t] / row;
        }

        Count = total;
        Accuracy = total == 0 ? double.NaN : (double)correct / total;
        PerClassRecall = recall;
        RecallByClass = ClassNames.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => recall[p.i]);
    }

    /// <summary>Fraction of samples whose predicted class equals the true class (top-1 accuracy).</summary>
    public double Accuracy { get; }

    /// <summary>Class count x class count counts: row = true class, column = predicted class (in the order of <see cref="ClassNames"/>).</summary>
    public int[,] ConfusionMatrix { get; }

    /// <summary>The classifier's class names, in class order (the rows and columns of <see cref="ConfusionMatrix"/>).</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>For each class, the fraction of its samples predicted correctly (NaN for a class with no samples).</summary>
    public IReadOnlyList<double> PerClassRecall { get; }

    /// <summary><see cref="PerClassRecall"/> by class name.</summary>
    public IReadOnlyDictionary<string, double> RecallByClass { get; }

    /// <summary>Number of samples evaluated.</summary>
    public int Count { get; }

    /// <summary>The confusion matrix as text: a header row of predicted class names, then one row per true class with its name.</summary>
    public string FormatConfusionMatrix()
    {
        var classes = ClassNames.Count;
        var cells = new string[classes + 1, classes + 1];
        cells[0, 0] = "true \\ predicted";
        for (var i = 0; i < classes; i++)
        {
            cells[0, i + 1] = ClassNames[i];
            cells[i + 1, 0] = ClassNames[i];
            for (var j = 0; j < classes; j++)
            {
                cells[i + 1, j + 1] = ConfusionMatrix[i, j].ToString(CultureInfo.InvariantCulture);
            }
        }

        var widths = Enumerable.Range(0, classes + 1).Select(c => Enumerable.Range(0, classes + 1).Max(r => cells[r, c].Length)).ToArray();
        var text = new StringBuilder();
        for (var r = 0; r <= classes; r++)
        {
            for (var c = 0; c <= classes; c++)
            {
                text.Append(c == 0 ? cells[r, c].PadRight(widths[c]) : "  " + cells[r, c].PadLeft(widths[c]));
            }

            text.AppendLine();
        }

        return text.ToString();
    }
}
