namespace LatentKit.Samples.ResultTable.Report;

/// <summary>One row of the result table: what a scenario measured, beside the original study's figures.</summary>
/// <param name="Scenario">The scenario number, 1..4.</param>
/// <param name="Name">A short name, for example "dense, ReLU".</param>
/// <param name="AutoencoderLoss">Mean per-pixel binary cross-entropy of the reconstructions on the test images.</param>
/// <param name="KlDivergence">For a variational autoencoder, the mean KL term on the test images; otherwise null.</param>
/// <param name="ClassifierAccuracy">Top-1 accuracy of the classifier on the test images, 0..1.</param>
/// <param name="OriginalLoss">The original study's autoencoder loss for this scenario.</param>
/// <param name="OriginalAccuracy">The original study's classifier accuracy for this scenario.</param>
/// <param name="LossComparable">
/// Whether our loss measures the same quantity as the original's, so that "at most the original's" is a fair test
/// (false for the VAE, whose original figure is probably another quantity).
/// </param>
/// <param name="AutoencoderEpochs">Epochs the autoencoder was trained.</param>
/// <param name="ClassifierEpochs">Epochs the classifier was trained.</param>
/// <param name="WallTime">Wall-clock time of the whole scenario: both trainings and the evaluation.</param>
public sealed record ScenarioOutcome(
    int Scenario,
    string Name,
    double AutoencoderLoss,
    double? KlDivergence,
    double ClassifierAccuracy,
    double OriginalLoss,
    double OriginalAccuracy,
    bool LossComparable,
    int AutoencoderEpochs,
    int ClassifierEpochs,
    TimeSpan WallTime)
{
    /// <summary>Whether the loss is at most the original's (null when the two are not the same quantity).</summary>
    public bool? LossMeetsOriginal => LossComparable ? AutoencoderLoss <= OriginalLoss : null;

    /// <summary>Whether the accuracy is at least the original's.</summary>
    public bool AccuracyMeetsOriginal => ClassifierAccuracy >= OriginalAccuracy;

    /// <summary>Whether the row meets the reference: accuracy at least the original's, and loss at most it where comparable.</summary>
    public bool MeetsReference => AccuracyMeetsOriginal && LossMeetsOriginal != false;
}
