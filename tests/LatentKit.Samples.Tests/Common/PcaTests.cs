using LatentKit.Samples.Common.Analysis;

namespace LatentKit.Samples.Tests.Common;

public class PcaTests
{
    // Points = mean + a * u + b * w + small noise, with var(a) >> var(b) >> noise; u, w orthonormal in 5-D.
    private static readonly double[] U = Normalised([1, 2, 0, -2, 0]);
    private static readonly double[] W = Normalised([2, -1, 0, 0, 3]);
    private static readonly double[] Centre = [10, -5, 3, 0, 1];

    private static double[] Normalised(double[] v)
    {
        var norm = Math.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / norm).ToArray();
    }

    private static double Dot(IReadOnlyList<double> a, IReadOnlyList<double> b) => a.Zip(b, (x, y) => x * y).Sum();

    private static float[] Sample(int count, int seed)
    {
        Dot(U, W).Should().BeApproximately(0, 1e-12, "the test's directions must be orthogonal");
        var random = new Random(seed);
        double Gaussian() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var data = new float[count * 5];
        for (var i = 0; i < count; i++)
        {
            var a = 10 * Gaussian();
            var b = 3 * Gaussian();
            for (var j = 0; j < 5; j++)
            {
                data[(i * 5) + j] = (float)(Centre[j] + (a * U[j]) + (b * W[j]) + (0.05 * Gaussian()));
            }
        }

        return data;
    }

    [Fact]
    public void The_first_two_components_are_the_known_directions()
    {
        var pca = Pca.Fit(Sample(4000, seed: 1), 4000, 5);

        Math.Abs(Dot(pca.Components[0], U)).Should().BeGreaterThan(0.999);
        Math.Abs(Dot(pca.Components[1], W)).Should().BeGreaterThan(0.999);
        Dot(pca.Components[0], pca.Components[1]).Should().BeApproximately(0, 1e-9);
        Dot(pca.Components[0], pca.Components[0]).Should().BeApproximately(1, 1e-9);
        pca.ExplainedVariance[0].Should().BeApproximately(100, 10);
        pca.ExplainedVariance[1].Should().BeApproximately(9, 1.5);
        pca.ExplainedVarianceRatio.Sum().Should().BeGreaterThan(0.99);
        pca.Mean.Zip(Centre, (m, c) => Math.Abs(m - c)).Max().Should().BeLessThan(0.6);
    }

    [Fact]
    public void The_sign_makes_the_largest_coordinate_positive_so_flipped_data_give_the_same_components()
    {
        var data = Sample(2000, seed: 2);
        var pca = Pca.Fit(data, 2000, 5);

        foreach (var component in pca.Components)
        {
            var largest = component.OrderByDescending(Math.Abs).First();
            largest.Should().BePositive();
        }

        // U's largest coordinates are +2 and -2 (tied): the first, index 1, is made positive, so the result is +U.
        Dot(pca.Components[0], U).Should().BeGreaterThan(0.999);

        var mirrored = data.Select(x => -x).ToArray();
        var again = Pca.Fit(mirrored, 2000, 5);
        again.Components[0].Should().Equal(pca.Components[0], (a, b) => Math.Abs(a - b) < 1e-6);
        again.Components[1].Should().Equal(pca.Components[1], (a, b) => Math.Abs(a - b) < 1e-6);
    }

    [Fact]
    public void Projection_centres_the_data_and_reads_the_coordinates_along_the_components()
    {
        var data = Sample(1000, seed: 3);
        var pca = Pca.Fit(data, 1000, 5);

        var mean = pca.Mean.Select(m => (float)m).ToArray();
        pca.Transform(mean).Should().Equal([0f, 0f], (a, b) => Math.Abs(a - b) < 1e-4);

        var along = mean.Select((m, j) => m + (float)(5 * pca.Components[0][j])).ToArray();
        var projected = pca.Transform(along);
        projected[0].Should().BeApproximately(5f, 1e-3f);
        projected[1].Should().BeApproximately(0f, 1e-3f);

        Pca.FitTransform(data, 1000, 5).Should().HaveCount(2000);
    }

    [Fact]
    public void Two_dimensional_data_with_a_known_axis_are_recovered_exactly()
    {
        // a * (1, 1) + b * (1, -1) with a = -2..2 and b = (0, 0.1, 0, 0.1, 0): a and centred b are uncorrelated,
        // so the covariance's eigenvectors are exactly the diagonals, the main one along y = x.
        float[] data = [-2, -2, -0.9f, -1.1f, 0, 0, 1.1f, 0.9f, 2, 2];
        var pca = Pca.Fit(data, 5, 2);

        var diagonal = 1 / Math.Sqrt(2);
        pca.Components[0][0].Should().BeApproximately(diagonal, 1e-6);
        pca.Components[0][1].Should().BeApproximately(diagonal, 1e-6);
        Math.Abs(pca.Components[1][0]).Should().BeApproximately(diagonal, 1e-6);
        (pca.Components[1][0] + pca.Components[1][1]).Should().BeApproximately(0, 1e-6);
    }

    [Fact]
    public void Constant_data_give_zero_variance_and_no_exception()
    {
        var data = Enumerable.Repeat(1f, 30).ToArray();

        var pca = Pca.Fit(data, 10, 3);

        pca.ExplainedVariance.Should().AllSatisfy(v => v.Should().Be(0));
        pca.ExplainedVarianceRatio.Should().AllSatisfy(v => v.Should().Be(0));
        pca.Transform(data).Should().AllSatisfy(v => v.Should().Be(0));
    }

    [Fact]
    public void Wrong_sizes_and_non_finite_values_are_refused()
    {
        FluentActions.Invoking(() => Pca.Fit(new float[10], 3, 3)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => Pca.Fit(new float[3], 1, 3)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => Pca.Fit(new float[4], 4, 1)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => Pca.Fit([1, 2, float.NaN, 4], 2, 2)).Should().Throw<ArgumentException>().WithMessage("*finite*");
    }
}
