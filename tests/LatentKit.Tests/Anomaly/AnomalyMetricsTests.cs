namespace LatentKit.Tests.Anomaly;

/// <summary>Evaluation, thresholds and standardisation against small cases computed by hand.</summary>
public class AnomalyMetricsTests
{
    private static readonly double[] Distinct = [0.1, 0.4, 0.35, 0.8];
    private static readonly bool[] DistinctLabels = [false, false, true, true];

    // Ties across the classes: 3(A) 2(A) 2(N) 1(N).
    private static readonly double[] Tied = [3, 2, 2, 1];
    private static readonly bool[] TiedLabels = [true, true, false, false];

    [Fact]
    public void Roc_auc_counts_pairs_and_ties_by_hand()
    {
        // Pairs (anomaly, normal): 0.35 loses to 0.4 and beats 0.1; 0.8 beats both: 3 of 4.
        AnomalyMetrics.RocAuc(Distinct, DistinctLabels).Should().Be(0.75);

        // 3 beats both; the tied 2s count one half; 2 beats 1: 3.5 of 4.
        AnomalyMetrics.RocAuc(Tied, TiedLabels).Should().Be(0.875);

        // Everything tied: one half, whatever the order of the samples.
        AnomalyMetrics.RocAuc([1, 1, 0, 0], [true, false, true, false]).Should().Be(0.5);
        AnomalyMetrics.RocAuc([1, 1, 0, 0], [false, true, false, true]).Should().Be(0.5);
        AnomalyMetrics.RocAuc([5, 5, 5], [true, false, false]).Should().Be(0.5);

        AnomalyMetrics.RocAuc([1, 2, 3, 4], [false, false, true, true]).Should().Be(1);
        AnomalyMetrics.RocAuc([1, 2, 3, 4], [true, true, false, false]).Should().Be(0);
    }

    [Fact]
    public void Average_precision_steps_over_distinct_thresholds()
    {
        // 0.8 (A): P 1, R 0.5; 0.4 (N); 0.35 (A): P 2/3, R 1; AP = 0.5 * 1 + 0.5 * 2/3.
        AnomalyMetrics.AveragePrecision(Distinct, DistinctLabels).Should().BeApproximately(5.0 / 6, 1e-12);

        // 3: P 1, R 0.5; the tied 2s enter together: P 2/3, R 1.
        AnomalyMetrics.AveragePrecision(Tied, TiedLabels).Should().BeApproximately(5.0 / 6, 1e-12);

        // All tied groups mixed: P 1/2 at both steps.
        AnomalyMetrics.AveragePrecision([1, 1, 0, 0], [true, false, true, false]).Should().BeApproximately(0.5, 1e-12);
        AnomalyMetrics.AveragePrecision([1, 1, 0, 0], [false, true, false, true]).Should().BeApproximately(0.5, 1e-12);
    }

    [Fact]
    public void Roc_curve_has_one_point_per_distinct_score()
    {
        AnomalyMetrics.RocCurve(Tied, TiedLabels).Should().Equal(
            new RocPoint(double.PositiveInfinity, 0, 0),
            new RocPoint(3, 0, 0.5),
            new RocPoint(2, 0.5, 1),
            new RocPoint(1, 1, 1));
    }

    [Fact]
    public void Threshold_metrics_flag_scores_strictly_above()
    {
        var m = AnomalyMetrics.AtThreshold(Tied, TiedLabels, 2);
        m.Should().Be(new ThresholdMetrics(2, TruePositives: 1, FalsePositives: 0, TrueNegatives: 2, FalseNegatives: 1));
        m.Precision.Should().Be(1);
        m.Recall.Should().Be(0.5);
        m.F1.Should().BeApproximately(2.0 / 3, 1e-12);
        m.FalsePositiveRate.Should().Be(0);

        var low = AnomalyMetrics.AtThreshold(Tied, TiedLabels, 1.5);
        low.Precision.Should().BeApproximately(2.0 / 3, 1e-12);
        low.Recall.Should().Be(1);
        low.F1.Should().BeApproximately(0.8, 1e-12);

        AnomalyMetrics.AtThreshold(Tied, TiedLabels, 10).F1.Should().Be(0);
    }

    public static TheoryData<double[], bool[], AnomalyDataError, string> BadEvaluationInput => new()
    {
        { [], [], AnomalyDataError.Empty, "scores" },
        { [1, 2], [true], AnomalyDataError.LengthMismatch, "isAnomaly" },
        { [1, double.NaN], [true, false], AnomalyDataError.NonFinite, "scores" },
        { [1, double.PositiveInfinity], [true, false], AnomalyDataError.NonFinite, "scores" },
        { [1, 2], [false, false], AnomalyDataError.SingleClass, "isAnomaly" },
        { [1, 2], [true, true], AnomalyDataError.SingleClass, "isAnomaly" },
    };

    [Theory]
    [MemberData(nameof(BadEvaluationInput))]
    public void Bad_evaluation_input_is_named(double[] scores, bool[] labels, AnomalyDataError error, string parameter)
    {
        foreach (var metric in new Action[] { () => AnomalyMetrics.RocAuc(scores, labels), () => AnomalyMetrics.AveragePrecision(scores, labels), () => AnomalyMetrics.RocCurve(scores, labels) })
        {
            var e = metric.Should().Throw<AnomalyDataException>().Which;
            e.Error.Should().Be(error);
            e.ParamName.Should().Be(parameter);
        }
    }

    [Theory]
    [InlineData(0.0, 5)]
    [InlineData(0.2, 4)]
    [InlineData(0.39, 4)]
    [InlineData(0.4, 3)]
    [InlineData(0.99, 1)]
    public void False_positive_rate_threshold_is_the_order_statistic(double rate, double expected)
    {
        double[] normal = [5, 1, 4, 2, 3];
        var t = AnomalyThreshold.FromFalsePositiveRate(normal, rate);
        t.Should().Be(new AnomalyThreshold(expected, ThresholdRule.FalsePositiveRate, rate));
        normal.Count(s => s > t.Value).Should().BeLessThanOrEqualTo((int)Math.Floor(rate * normal.Length));
        AnomalyThreshold.FromContamination(normal, rate).Should().Be(new AnomalyThreshold(expected, ThresholdRule.Contamination, rate));
    }

    [Fact]
    public void Ties_at_the_threshold_flag_fewer_never_more()
    {
        var t = AnomalyThreshold.FromFalsePositiveRate([1, 2, 2, 2, 2], 0.2);
        t.Value.Should().Be(2);
        new[] { 1.0, 2, 2, 2, 2 }.Count(s => s > t.Value).Should().Be(0);
    }

    [Fact]
    public void Bad_threshold_input_is_named()
    {
        FluentActions.Invoking(() => AnomalyThreshold.FromFalsePositiveRate([], 0.05)).Should().Throw<AnomalyDataException>()
            .Where(e => e.Error == AnomalyDataError.Empty && e.ParamName == "scores");
        FluentActions.Invoking(() => AnomalyThreshold.FromFalsePositiveRate([1, double.NaN], 0.05)).Should().Throw<AnomalyDataException>()
            .Where(e => e.Error == AnomalyDataError.NonFinite && e.Message.Contains("index 1"));
        FluentActions.Invoking(() => AnomalyThreshold.FromFalsePositiveRate([1, 2], 1)).Should().Throw<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == "falsePositiveRate");
        FluentActions.Invoking(() => AnomalyThreshold.FromContamination([1, 2], -0.1)).Should().Throw<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == "contamination");
        FluentActions.Invoking(() => AnomalyThreshold.Fixed(double.NaN)).Should().Throw<AnomalyDataException>()
            .Where(e => e.ParamName == "value");
    }

    [Fact]
    public void Standardizer_uses_mean_and_population_sd_of_normal_scores()
    {
        var s = ScoreStandardizer.Fit([new double[] { 1, 2, 3 }, new double[] { 10, 10, 40 }]);
        s.Means.Should().Equal(2, 20);
        s.StandardDeviations[0].Should().BeApproximately(Math.Sqrt(2.0 / 3), 1e-12);
        s.StandardDeviations[1].Should().BeApproximately(Math.Sqrt(200), 1e-12);
        s.Combine([3, 40]).Should().BeApproximately((1 / Math.Sqrt(2.0 / 3)) + (20 / Math.Sqrt(200)), 1e-12);
        s.Combine([new double[] { 2, 3 }, new double[] { 20, 40 }]).Should().Equal(0, s.Combine([3, 40]));
    }

    [Fact]
    public void Standardizer_refuses_degenerate_normal_scores()
    {
        FluentActions.Invoking(() => ScoreStandardizer.Fit([new double[] { 4, 4, 4 }])).Should().Throw<AnomalyDataException>()
            .Where(e => e.Error == AnomalyDataError.Constant && e.ParamName == "normalScores" && e.Message.Contains("constant"));
        FluentActions.Invoking(() => ScoreStandardizer.Fit([Array.Empty<double>()])).Should().Throw<AnomalyDataException>()
            .Where(e => e.Error == AnomalyDataError.Empty);
        FluentActions.Invoking(() => ScoreStandardizer.Fit([new double[] { 1, 2 }, new double[] { 1 }])).Should().Throw<AnomalyDataException>()
            .Where(e => e.Error == AnomalyDataError.LengthMismatch);
        FluentActions.Invoking(() => ScoreStandardizer.Fit([new double[] { 1, double.NegativeInfinity }])).Should().Throw<AnomalyDataException>()
            .Where(e => e.Error == AnomalyDataError.NonFinite);
    }

    [Fact]
    public void Mahalanobis_distance_matches_the_inverse_covariance_by_hand()
    {
        // Codes (1,1), (-1,-1), (1,0), (-1,0): mean 0, covariance (n - 1) [[4/3, 2/3], [2/3, 2/3]], inverse [[1.5, -1.5], [-1.5, 3]].
        float[] codes = [1, 1, -1, -1, 1, 0, -1, 0];
        var g = GaussianLatentModel.Fit(codes, 4, 2, shrinkage: 0);
        g.Mean.Should().Equal(0, 0);
        g.Covariance.Should().Equal([4.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3], (a, b) => Math.Abs(a - b) < 1e-12);
        g.Distance([0, 1]).Should().BeApproximately(Math.Sqrt(3), 1e-12);
        g.Distance([1, 0]).Should().BeApproximately(Math.Sqrt(1.5), 1e-12);
        g.Distances([0, 1, 1, 0], 2).Should().Equal([Math.Sqrt(3), Math.Sqrt(1.5)], (a, b) => Math.Abs(a - b) < 1e-12);
    }

    [Fact]
    public void Shrinkage_pulls_the_covariance_towards_the_average_variance()
    {
        // Codes (1,0), (-1,0), (0,2), (0,-2): variances 2/3 and 8/3, average 5/3; half shrinkage gives 7/6 and 13/6.
        float[] codes = [1, 0, -1, 0, 0, 2, 0, -2];
        var g = GaussianLatentModel.Fit(codes, 4, 2, shrinkage: 0.5);
        g.Distance([1, 1]).Should().BeApproximately(Math.Sqrt((6.0 / 7) + (6.0 / 13)), 1e-12);

        // Shrinkage makes a singular covariance (codes on a line) invertible.
        var line = GaussianLatentModel.Fit([1, 1, 2, 2, 3, 3], 3, 2);
        double.IsFinite(line.Distance([1, -1])).Should().BeTrue();
        FluentActions.Invoking(() => GaussianLatentModel.Fit([1, 1, 2, 2, 3, 3], 3, 2, shrinkage: 0)).Should().Throw<AnomalyDataException>()
            .Where(e => e.Error == AnomalyDataError.Constant && e.Message.Contains("shrinkage"));
    }

    [Fact]
    public void Gaussian_refuses_degenerate_codes()
    {
        FluentActions.Invoking(() => GaussianLatentModel.Fit([], 0, 2)).Should().Throw<AnomalyDataException>().Where(e => e.Error == AnomalyDataError.Empty);
        FluentActions.Invoking(() => GaussianLatentModel.Fit([1, 2], 1, 2)).Should().Throw<AnomalyDataException>().Where(e => e.Error == AnomalyDataError.TooFew);
        FluentActions.Invoking(() => GaussianLatentModel.Fit([1, 2, 1, 2, 1, 2], 3, 2)).Should().Throw<AnomalyDataException>()
            .Where(e => e.Error == AnomalyDataError.Constant && e.ParamName == "codes");
        FluentActions.Invoking(() => GaussianLatentModel.Fit([1, 2, float.NaN, 2], 2, 2)).Should().Throw<AnomalyDataException>()
            .Where(e => e.Error == AnomalyDataError.NonFinite && e.Message.Contains("code 1"));
        FluentActions.Invoking(() => GaussianLatentModel.Fit([1, 2, 3], 2, 2)).Should().Throw<AnomalyDataException>().Where(e => e.Error == AnomalyDataError.LengthMismatch);
        FluentActions.Invoking(() => GaussianLatentModel.Fit([1, 2, 3, 4], 2, 2, shrinkage: 1.5)).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "shrinkage");
        var g = GaussianLatentModel.Fit([1, 0, -1, 0, 0, 2, 0, -2], 4, 2);
        FluentActions.Invoking(() => g.Distance([1, 2, 3])).Should().Throw<AnomalyDataException>().Where(e => e.Error == AnomalyDataError.LengthMismatch);
        FluentActions.Invoking(() => GaussianLatentModel.FromParameters([0, 0], [1, 0, 0, -1], 0)).Should().Throw<AnomalyDataException>();
    }

    // ---- The dimension bound (the audit: Fit(codes, 2, 30000) allocated 7.2 GB, then OutOfMemoryException) ----

    [Fact]
    public void Gaussian_refuses_more_dimensions_than_its_bound_before_allocating_the_covariance()
    {
        var codes = new float[2 * 4_097];
        codes[0] = 1;

        var act = () => GaussianLatentModel.Fit(codes, 2, 4_097);

        act.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "dimensions").WithMessage("*4,097*4,096*GaussianLatentModel.MaxDimensions*");
    }

    [Fact]
    public void ScoreStandardizer_refuses_an_unknown_score_position()
    {
        var standardizer = ScoreStandardizer.Fit([new double[] { 1, 2, 3 }, new double[] { 2, 4, 7 }]);

        FluentActions.Invoking(() => standardizer.Standardize(5, 1.0)).Should().Throw<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == "kind").WithMessage("*5*0..1*");
        FluentActions.Invoking(() => standardizer.Standardize(-1, 1.0)).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "kind");
        standardizer.Standardize(1, 4.0).Should().BeApproximately((4.0 - 13.0 / 3) / standardizer.StandardDeviations[1], 1e-12);
    }
}
