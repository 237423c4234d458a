namespace LatentKit;

/// <summary>How well an autoencoder reconstructs a dataset.</summary>
/// <param name="BinaryCrossEntropy">Mean per-pixel binary cross-entropy between images and reconstructions.</param>
/// <param name="MeanSquaredError">Mean per-pixel squared error between images and reconstructions.</param>
/// <param name="KlDivergence">
/// For a variational autoencoder, the mean KL divergence per image between the latent distribution and the standard
/// normal prior (summed over the latent dimensions); <see langword="null"/> for other autoencoders.
/// </param>
/// <param name="Count">Number of images evaluated.</param>
public sealed record ReconstructionMetrics(double BinaryCrossEntropy, double MeanSquaredError, double? KlDivergence, int Count);

/// <summary>How well a classifier labels a dataset.</summary>
public sealed class ClassificationMetrics
{
    internal ClassificationMetrics(int[,] confusionMatrix)
    {
        ConfusionMatrix = confusionMatrix;
        var classes = confusionMatrix.GetLength(0);
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
    }

    /// <summary>Fraction of images whose predicted label equals the true label (top-1 accuracy).</summary>
    public double Accuracy { get; }

    /// <summary>10 x 10 counts: row = true digit, column = predicted digit.</summary>
    public int[,] ConfusionMatrix { get; }

    /// <summary>For each digit, the fraction of its images predicted correctly (NaN for a digit with no images).</summary>
    public IReadOnlyList<double> PerClassRecall { get; }

    /// <summary>Number of images evaluated.</summary>
    public int Count { get; }
}
