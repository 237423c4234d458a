namespace LatentKit;

/// <summary>
/// Puts several anomaly scores on one scale, fitted on normal data: each score minus its mean on the normal samples,
/// divided by its standard deviation there; <see cref="Combine(ReadOnlySpan{double})"/> adds the standardised scores. A score whose normal
/// values are all equal cannot be standardised and is refused when fitting.
/// </summary>
public sealed class ScoreStandardizer
{
    private readonly double[] means;
    private readonly double[] deviations;

    private ScoreStandardizer(double[] means, double[] deviations)
    {
        this.means = means;
        this.deviations = deviations;
    }

    /// <summary>The mean of each score on the normal data.</summary>
    public IReadOnlyList<double> Means => means;

    /// <summary>The standard deviation (population, divided by n) of each score on the normal data; all positive.</summary>
    public IReadOnlyList<double> StandardDeviations => deviations;

    /// <summary>How many scores are combined.</summary>
    public int Count => means.Length;

    /// <summary>
    /// Fits the standardiser on normal data: <paramref name="normalScores"/>[k] holds score kind k for every normal sample.
    /// </summary>
    /// <exception cref="AnomalyDataException">There are no score kinds or no samples, the kinds have different lengths, a value is not finite, or a kind is constant on the normal data.</exception>
    public static ScoreStandardizer Fit(IReadOnlyList<IReadOnlyList<double>> normalScores)
    {
        ArgumentNullException.ThrowIfNull(normalScores);
        if (normalScores.Count == 0)
        {
            throw new AnomalyDataException(AnomalyDataError.Empty, "No scores to standardise: give at least one score kind.", nameof(normalScores));
        }

        var n = normalScores[0].Count;
        var means = new double[normalScores.Count];
        var deviations = new double[normalScores.Count];
        for (var k = 0; k < normalScores.Count; k++)
        {
            var values = normalScores[k].ToArray();
            if (values.Length != n)
            {
                throw new AnomalyDataException(AnomalyDataError.LengthMismatch, $"Score kind {k} has {values.Length} values but score kind 0 has {n}; give every kind for the same samples.", nameof(normalScores));
            }

            AnomalyDataException.ThrowIfEmptyOrNonFinite(values, nameof(normalScores), $"Normal score kind {k}");
            var mean = values.Average();
            var variance = values.Sum(v => (v - mean) * (v - mean)) / values.Length;
            var sd = Math.Sqrt(variance);
            if (!(sd > 1e-12 * Math.Max(1, Math.Abs(mean))))
            {
                throw new AnomalyDataException(AnomalyDataError.Constant, $"Score kind {k} is the same ({mean}) for every normal sample, so it cannot be standardised: the normal set is constant or too small; give varied normal data.", nameof(normalScores));
            }

            means[k] = mean;
            deviations[k] = sd;
        }

        return new ScoreStandardizer(means, deviations);
    }

    /// <summary>A standardiser from stored means and standard deviations (used when loading a detector).</summary>
    /// <exception cref="AnomalyDataException">The lengths differ or are zero, a value is not finite, or a deviation is not positive.</exception>
    public static ScoreStandardizer FromParameters(IReadOnlyList<double> means, IReadOnlyList<double> standardDeviations)
    {
        ArgumentNullException.ThrowIfNull(means);
        ArgumentNullException.ThrowIfNull(standardDeviations);
        var m = means.ToArray();
        var s = standardDeviations.ToArray();
        if (m.Length != s.Length)
        {
            throw new AnomalyDataException(AnomalyDataError.LengthMismatch, $"There are {m.Length} means but {s.Length} standard deviations.", nameof(standardDeviations));
        }

        AnomalyDataException.ThrowIfEmptyOrNonFinite(m, nameof(means), "The means");
        AnomalyDataException.ThrowIfEmptyOrNonFinite(s, nameof(standardDeviations), "The standard deviations");
        if (Array.FindIndex(s, v => v <= 0) is var bad and >= 0)
        {
            throw new AnomalyDataException(AnomalyDataError.Constant, $"Standard deviation {bad} is {s[bad]}; every standard deviation must be positive.", nameof(standardDeviations));
        }

        return new ScoreStandardizer(m, s);
    }

    /// <summary>Score kind <paramref name="kind"/> standardised: (value - mean) / standard deviation.</summary>
    /// <param name="kind">The position of the score kind among those fitted, 0 to <see cref="Count"/> - 1.</param>
    /// <param name="value">The score.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not a fitted position.</exception>
    public double Standardize(int kind, double value)
    {
        if ((uint)kind >= (uint)means.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, $"Score kind {kind} is not one of this standardiser's {means.Length} fitted scores (positions 0..{means.Length - 1}, in the order given to Fit).");
        }

        return (value - means[kind]) / deviations[kind];
    }

    /// <summary>The sum of the standardised scores of one sample (one value per score kind).</summary>
    /// <exception cref="AnomalyDataException">The sample has another number of scores than the standardiser was fitted on.</exception>
    public double Combine(ReadOnlySpan<double> scores)
    {
        if (scores.Length != means.Length)
        {
            throw new AnomalyDataException(AnomalyDataError.LengthMismatch, $"Got {scores.Length} scores for one sample; this standardiser combines {means.Length}.", nameof(scores));
        }

        double sum = 0;
        for (var k = 0; k < scores.Length; k++)
        {
            sum += Standardize(k, scores[k]);
        }

        return sum;
    }

    /// <summary>The combined score of every sample: <paramref name="scores"/>[k][i] is score kind k of sample i.</summary>
    /// <exception cref="AnomalyDataException">The number of kinds or their lengths do not match.</exception>
    public double[] Combine(IReadOnlyList<IReadOnlyList<double>> scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        if (scores.Count != means.Length)
        {
            throw new AnomalyDataException(AnomalyDataError.LengthMismatch, $"Got {scores.Count} score kinds; this standardiser combines {means.Length}.", nameof(scores));
        }

        var n = scores[0].Count;
        if (scores.Any(s => s.Count != n))
        {
            throw new AnomalyDataException(AnomalyDataError.LengthMismatch, "The score kinds have different lengths; give every kind for the same samples.", nameof(scores));
        }

        var combined = new double[n];
        for (var k = 0; k < scores.Count; k++)
        {
            for (var i = 0; i < n; i++)
            {
                combined[i] += Standardize(k, scores[k][i]);
            }
        }

        return combined;
    }
}
