namespace LatentKit;

/// <summary>How an anomaly threshold was chosen.</summary>
public enum ThresholdRule
{
    /// <summary>
    /// A quantile of the scores of normal data: at most the given fraction of those scores lies above the threshold,
    /// which is the expected false-positive rate on new normal data.
    /// </summary>
    FalsePositiveRate,

    /// <summary>
    /// The training data is expected to hold the given fraction of anomalies: the threshold flags at most that fraction
    /// of its scores (the same order statistic as <see cref="FalsePositiveRate"/>, read as contamination).
    /// </summary>
    Contamination,

    /// <summary>A threshold the user set.</summary>
    Fixed,
}

/// <summary>
/// A calibrated threshold: a sample is flagged as an anomaly when its score is strictly above <see cref="Value"/>.
/// </summary>
/// <param name="Value">The threshold.</param>
/// <param name="Rule">How it was chosen.</param>
/// <param name="Fraction">The false-positive rate or contamination it was calibrated for (0 for a fixed threshold).</param>
public sealed record AnomalyThreshold(double Value, ThresholdRule Rule, double Fraction)
{
    /// <summary>
    /// The threshold above which at most <paramref name="falsePositiveRate"/> of <paramref name="normalScores"/> lie:
    /// with the scores sorted ascending, the one at position <c>n - 1 - floor(rate x n)</c> (so 0 gives the largest
    /// normal score). Ties make the fraction above it smaller, never larger.
    /// </summary>
    /// <exception cref="AnomalyDataException">The scores are empty or hold a non-finite value.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The rate is not in [0, 1).</exception>
    public static AnomalyThreshold FromFalsePositiveRate(IReadOnlyList<double> normalScores, double falsePositiveRate) =>
        new(Quantile(normalScores, falsePositiveRate, nameof(falsePositiveRate)), ThresholdRule.FalsePositiveRate, falsePositiveRate);

    /// <summary>
    /// The threshold for training data expected to hold <paramref name="contamination"/> anomalies: at most that fraction
    /// of <paramref name="trainingScores"/> lies above it (the order statistic of <see cref="FromFalsePositiveRate"/>).
    /// </summary>
    /// <exception cref="AnomalyDataException">The scores are empty or hold a non-finite value.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The fraction is not in [0, 1).</exception>
    public static AnomalyThreshold FromContamination(IReadOnlyList<double> trainingScores, double contamination) =>
        new(Quantile(trainingScores, contamination, nameof(contamination)), ThresholdRule.Contamination, contamination);

    /// <summary>A threshold set by hand.</summary>
    /// <exception cref="AnomalyDataException">The value is not finite.</exception>
    public static AnomalyThreshold Fixed(double value)
    {
        AnomalyDataException.ThrowIfNonFinite([value], nameof(value), "The threshold");
        return new AnomalyThreshold(value, ThresholdRule.Fixed, 0);
    }

    /// <summary>Checks a fraction (false-positive rate or contamination) is in [0, 1).</summary>
    internal static void CheckFraction(double fraction, string paramName)
    {
        if (!(fraction >= 0 && fraction < 1))
        {
            throw new ArgumentOutOfRangeException(paramName, fraction, $"The fraction must be at least 0 and less than 1 (for example 0.05 for 5 %); got {fraction}.");
        }
    }

    private static double Quantile(IReadOnlyList<double> scores, double fraction, string fractionName)
    {
        ArgumentNullException.ThrowIfNull(scores);
        CheckFraction(fraction, fractionName);
        var sorted = scores.ToArray();
        AnomalyDataException.ThrowIfEmptyOrNonFinite(sorted, nameof(scores), "The normal scores");
        Array.Sort(sorted);
        var above = (int)Math.Floor(fraction * sorted.Length);
        return sorted[sorted.Length - 1 - above];
    }
}
