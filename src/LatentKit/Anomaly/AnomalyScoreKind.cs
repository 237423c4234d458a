namespace LatentKit;

/// <summary>The per-sample anomaly scores an <see cref="AnomalyDetector"/> offers; higher means more anomalous.</summary>
public enum AnomalyScoreKind
{
    /// <summary>Reconstruction error summed over the sample's values: binary cross-entropy or squared error (<see cref="AnomalyDetectorOptions.ReconstructionError"/>).</summary>
    Reconstruction,

    /// <summary>
    /// A variational autoencoder's negative evidence lower bound with the code at the mean of its distribution: summed
    /// binary cross-entropy of the reconstruction from the mean plus the KL divergence from the prior. Variational models only.
    /// </summary>
    NegativeElbo,

    /// <summary>The Mahalanobis distance of the sample's latent code to a Gaussian fitted on the codes of the normal data (<see cref="GaussianLatentModel"/>).</summary>
    Latent,

    /// <summary>The sum of the scores in <see cref="AnomalyDetectorOptions.CombinedScores"/>, each standardised on the normal data (<see cref="ScoreStandardizer"/>).</summary>
    Combined,
}

/// <summary>One sample's verdict: its score, the threshold, and whether the score is above it.</summary>
/// <param name="Score">The sample's anomaly score (the detector's <see cref="AnomalyDetector.ScoreKind"/>).</param>
/// <param name="IsAnomaly">True when <paramref name="Score"/> is strictly above <paramref name="Threshold"/>.</param>
/// <param name="Threshold">The threshold the score was compared with.</param>
public readonly record struct AnomalyPrediction(double Score, bool IsAnomaly, double Threshold);

/// <summary>Every score kind for a set of samples, one array per kind, in sample order.</summary>
/// <param name="Reconstruction">The reconstruction error of each sample.</param>
/// <param name="NegativeElbo">The negative ELBO of each sample; null for models that are not variational.</param>
/// <param name="Latent">The Mahalanobis distance of each sample's code.</param>
/// <param name="Combined">The combined standardised score of each sample.</param>
public sealed record AnomalyScoreSet(double[] Reconstruction, double[]? NegativeElbo, double[] Latent, double[] Combined)
{
    /// <summary>The scores of one kind.</summary>
    /// <exception cref="ArgumentException">The kind is <see cref="AnomalyScoreKind.NegativeElbo"/> and the model is not variational.</exception>
    public double[] Get(AnomalyScoreKind kind) => kind switch
    {
        AnomalyScoreKind.Reconstruction => Reconstruction,
        AnomalyScoreKind.NegativeElbo => NegativeElbo ?? throw new ArgumentException("The negative ELBO exists only for variational autoencoders.", nameof(kind)),
        AnomalyScoreKind.Latent => Latent,
        AnomalyScoreKind.Combined => Combined,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown score kind."),
    };
}
