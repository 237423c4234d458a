namespace LatentKit;

/// <summary>One point of a ROC curve: the rates when every sample scoring at least <see cref="Threshold"/> is flagged.</summary>
/// <param name="Threshold">The score threshold (positive infinity for the first point, where nothing is flagged).</param>
/// <param name="FalsePositiveRate">Fraction of normal samples flagged.</param>
/// <param name="TruePositiveRate">Fraction of anomalies flagged (recall).</param>
public readonly record struct RocPoint(double Threshold, double FalsePositiveRate, double TruePositiveRate);

/// <summary>How a detector does at one threshold: a sample is flagged when its score is strictly above the threshold.</summary>
/// <param name="Threshold">The threshold.</param>
/// <param name="TruePositives">Anomalies flagged.</param>
/// <param name="FalsePositives">Normal samples flagged.</param>
/// <param name="TrueNegatives">Normal samples not flagged.</param>
/// <param name="FalseNegatives">Anomalies not flagged.</param>
public readonly record struct ThresholdMetrics(double Threshold, int TruePositives, int FalsePositives, int TrueNegatives, int FalseNegatives)
{
    /// <summary>Flagged anomalies among all flagged samples; 0 when nothing is flagged.</summary>
    public double Precision => TruePositives + FalsePositives == 0 ? 0 : (double)TruePositives / (TruePositives + FalsePositives);

    /// <summary>Flagged anomalies among all anomalies (true-positive rate); 0 when there are no anomalies.</summary>
    public double Recall => TruePositives + FalseNegatives == 0 ? 0 : (double)TruePositives / (TruePositives + FalseNegatives);

    /// <summary>Flagged normal samples among all normal samples; 0 when there are none.</summary>
    public double FalsePositiveRate => FalsePositives + TrueNegatives == 0 ? 0 : (double)FalsePositives / (FalsePositives + TrueNegatives);

    /// <summary>The harmonic mean of <see cref="Precision"/> and <see cref="Recall"/>; 0 when both are 0.</summary>
    public double F1 => Precision + Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);
}

/// <summary>
/// Evaluation of anomaly scores against known labels (<see langword="true"/> = anomaly; a higher score means more
/// anomalous). Every metric is exact with tied scores: tied samples are treated as one group, never ordered by position.
/// </summary>
public static class AnomalyMetrics
{
    /// <summary>
    /// The area under the ROC curve: the probability that a random anomaly scores higher than a random normal sample,
    /// ties counting one half (the Mann-Whitney U statistic with midranks, divided by the number of pairs).
    /// </summary>
    /// <exception cref="AnomalyDataException">The inputs are empty, of different lengths, hold a non-finite score, or only one class.</exception>
    public static double RocAuc(IReadOnlyList<double> scores, IReadOnlyList<bool> isAnomaly)
    {
        var (sorted, positives, negatives) = Prepare(scores, isAnomaly);

        // Midranks (1-based) of tied groups; the sum of the anomalies' ranks gives U.
        double rankSum = 0;
        for (var start = 0; start < sorted.Length;)
        {
            var end = start;
            var groupPositives = 0;
            while (end < sorted.Length && sorted[end].Score == sorted[start].Score)
            {
                groupPositives += sorted[end].Anomaly ? 1 : 0;
                end++;
            }

            var midrank = ((start + 1) + end) / 2.0;
            rankSum += groupPositives * midrank;
            start = end;
        }

        var u = rankSum - (positives * (positives + 1.0) / 2.0);
        return u / ((double)positives * negatives);
    }

    /// <summary>
    /// Average precision (the area under the precision-recall curve as a step sum): over the distinct score thresholds
    /// from high to low, the sum of (recall gained) x (precision there); tied scores enter together.
    /// </summary>
    /// <exception cref="AnomalyDataException">The inputs are empty, of different lengths, hold a non-finite score, or only one class.</exception>
    public static double AveragePrecision(IReadOnlyList<double> scores, IReadOnlyList<bool> isAnomaly)
    {
        var (sorted, positives, _) = Prepare(scores, isAnomaly);
        double ap = 0;
        var truePositives = 0;
        var flagged = 0;
        for (var i = sorted.Length - 1; i >= 0;)
        {
            var score = sorted[i].Score;
            var gained = 0;
            while (i >= 0 && sorted[i].Score == score)
            {
                gained += sorted[i].Anomaly ? 1 : 0;
                flagged++;
                i--;
            }

            truePositives += gained;
            ap += (double)gained / positives * ((double)truePositives / flagged);
        }

        return ap;
    }

    /// <summary>
    /// The ROC curve: one point per distinct score (flagging every sample scoring at least it), from (0, 0) at a threshold
    /// of positive infinity to (1, 1) at the lowest score.
    /// </summary>
    /// <exception cref="AnomalyDataException">The inputs are empty, of different lengths, hold a non-finite score, or only one class.</exception>
    public static IReadOnlyList<RocPoint> RocCurve(IReadOnlyList<double> scores, IReadOnlyList<bool> isAnomaly)
    {
        var (sorted, positives, negatives) = Prepare(scores, isAnomaly);
        var points = new List<RocPoint> { new(double.PositiveInfinity, 0, 0) };
        int tp = 0, fp = 0;
        for (var i = sorted.Length - 1; i >= 0;)
        {
            var score = sorted[i].Score;
            while (i >= 0 && sorted[i].Score == score)
            {
                if (sorted[i].Anomaly)
                {
                    tp++;
                }
                else
                {
                    fp++;
                }

                i--;
            }

            points.Add(new RocPoint(score, (double)fp / negatives, (double)tp / positives));
        }

        return points;
    }

    /// <summary>Counts, precision, recall and F1 when samples scoring strictly above <paramref name="threshold"/> are flagged.</summary>
    /// <exception cref="AnomalyDataException">The inputs are empty, of different lengths, or hold a non-finite score or threshold.</exception>
    public static ThresholdMetrics AtThreshold(IReadOnlyList<double> scores, IReadOnlyList<bool> isAnomaly, double threshold)
    {
        Check(scores, isAnomaly);
        if (double.IsNaN(threshold))
        {
            throw new AnomalyDataException(AnomalyDataError.NonFinite, "The threshold is NaN; give a number (infinity flags nothing or everything).", nameof(threshold));
        }

        int tp = 0, fp = 0, tn = 0, fn = 0;
        for (var i = 0; i < scores.Count; i++)
        {
            var flagged = scores[i] > threshold;
            if (isAnomaly[i])
            {
                if (flagged)
                {
                    tp++;
                }
                else
                {
                    fn++;
                }
            }
            else if (flagged)
            {
                fp++;
            }
            else
            {
                tn++;
            }
        }

        return new ThresholdMetrics(threshold, tp, fp, tn, fn);
    }

    private static void Check(IReadOnlyList<double> scores, IReadOnlyList<bool> isAnomaly)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(isAnomaly);
        if (scores.Count != isAnomaly.Count)
        {
            throw new AnomalyDataException(AnomalyDataError.LengthMismatch, $"There are {scores.Count} scores but {isAnomaly.Count} labels; give one label per score.", nameof(isAnomaly));
        }

        AnomalyDataException.ThrowIfEmptyOrNonFinite(scores.ToArray(), nameof(scores), "The scores");
    }

    private static ((double Score, bool Anomaly)[] Sorted, int Positives, int Negatives) Prepare(IReadOnlyList<double> scores, IReadOnlyList<bool> isAnomaly)
    {
        Check(scores, isAnomaly);
        var sorted = new (double Score, bool Anomaly)[scores.Count];
        var positives = 0;
        for (var i = 0; i < sorted.Length; i++)
        {
            sorted[i] = (scores[i], isAnomaly[i]);
            positives += isAnomaly[i] ? 1 : 0;
        }

        var negatives = sorted.Length - positives;
        if (positives == 0 || negatives == 0)
        {
            throw new AnomalyDataException(AnomalyDataError.SingleClass, $"The labels hold only {(positives == 0 ? "normal samples" : "anomalies")}; ROC AUC, average precision and the ROC curve need both normal samples and anomalies.", nameof(isAnomaly));
        }

        Array.Sort(sorted, static (a, b) => a.Score.CompareTo(b.Score));
        return (sorted, positives, negatives);
    }
}
