namespace LatentKit;

/// <summary>How an <see cref="AnomalyDetector"/> scores samples and chooses its threshold. Checked by <see cref="Validate"/> (at <see cref="AnomalyDetector.Fit"/>).</summary>
public sealed record AnomalyDetectorOptions
{
    /// <summary>
    /// The score that <see cref="AnomalyDetector.Score(Dataset)"/> and <see cref="AnomalyDetector.Predict(Dataset)"/>
    /// use. Default <see cref="AnomalyScoreKind.Combined"/>: on one-class MNIST it was the one score that is good for
    /// dense, convolutional and variational models alike; for a convolutional autoencoder <see cref="AnomalyScoreKind.Latent"/>
    /// is clearly better (docs/articles/anomaly-detection.md has the measurements).
    /// </summary>
    public AnomalyScoreKind Score { get; init; } = AnomalyScoreKind.Combined;

    /// <summary>The scores that <see cref="AnomalyScoreKind.Combined"/> adds after standardising; default reconstruction and latent. Not <see cref="AnomalyScoreKind.Combined"/> itself.</summary>
    public IReadOnlyList<AnomalyScoreKind> CombinedScores { get; init; } = [AnomalyScoreKind.Reconstruction, AnomalyScoreKind.Latent];

    /// <summary>The reconstruction error: summed binary cross-entropy (values in [0, 1]) or summed squared error. Default binary cross-entropy.</summary>
    public ReconstructionLoss ReconstructionError { get; init; } = ReconstructionLoss.BinaryCrossEntropy;

    /// <summary>The expected false-positive rate the threshold is calibrated for on the normal data; default 0.05. Ignored when <see cref="Contamination"/> is set.</summary>
    public double FalsePositiveRate { get; init; } = 0.05;

    /// <summary>When set, the data given to <see cref="AnomalyDetector.Fit"/> is taken to hold this fraction of anomalies and the threshold flags that fraction of it.</summary>
    public double? Contamination { get; init; }

    /// <summary>The covariance shrinkage of the latent Gaussian, in [0, 1]; default <see cref="GaussianLatentModel.DefaultShrinkage"/>.</summary>
    public double LatentShrinkage { get; init; } = GaussianLatentModel.DefaultShrinkage;

    /// <summary>Samples per inference batch; default 500.</summary>
    public int BatchSize { get; init; } = 500;

    /// <summary>Checks every setting (the one place these rules live; loading a detector file uses it too).</summary>
    /// <exception cref="ArgumentException">A setting is invalid; the parameter name is the setting's name.</exception>
    public void Validate()
    {
        if (!Enum.IsDefined(Score))
        {
            throw new ArgumentOutOfRangeException(nameof(Score), Score, "Unknown score kind.");
        }

        ArgumentNullException.ThrowIfNull(CombinedScores, nameof(CombinedScores));
        if (CombinedScores.Count == 0 || CombinedScores.Any(k => k == AnomalyScoreKind.Combined || !Enum.IsDefined(k)) || CombinedScores.Distinct().Count() != CombinedScores.Count)
        {
            throw new ArgumentException($"CombinedScores must list one or more distinct kinds among Reconstruction, NegativeElbo and Latent; got [{string.Join(", ", CombinedScores)}].", nameof(CombinedScores));
        }

        if (!Enum.IsDefined(ReconstructionError))
        {
            throw new ArgumentOutOfRangeException(nameof(ReconstructionError), ReconstructionError, "Unknown reconstruction error.");
        }

        AnomalyThreshold.CheckFraction(FalsePositiveRate, nameof(FalsePositiveRate));
        if (Contamination is { } c)
        {
            AnomalyThreshold.CheckFraction(c, nameof(Contamination));
        }

        if (!(LatentShrinkage >= 0 && LatentShrinkage <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(LatentShrinkage), LatentShrinkage, $"LatentShrinkage must be in [0, 1]; got {LatentShrinkage}.");
        }

        if (BatchSize <= 0 || BatchSize > 100_000)
        {
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, $"BatchSize must be in [1, 100000]; got {BatchSize}.");
        }
    }

    /// <summary>True when <paramref name="kind"/> is scored (alone or in the combination).</summary>
    internal bool Uses(AnomalyScoreKind kind) => Score == kind || (Score == AnomalyScoreKind.Combined && CombinedScores.Contains(kind));
}
