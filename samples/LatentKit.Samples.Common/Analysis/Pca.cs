namespace LatentKit.Samples.Common.Analysis;

/// <summary>
/// Principal component analysis down to two dimensions, for pictures of latent codes: the data are centred, their
/// covariance matrix (D x D, in double precision) is formed, and its two leading eigenvectors are found by power
/// iteration (the second kept orthogonal to the first). The sign of each component is fixed so that its
/// largest-magnitude coordinate is positive (the first such coordinate on ties), so the same data always give the
/// same picture. Meant for latent codes of tens to a few hundred dimensions; the cost is O(N D^2) to form the
/// covariance plus O(D^2) per iteration.
/// </summary>
public sealed class Pca
{
    /// <summary>Most power iterations per component before the current estimate is accepted.</summary>
    public const int MaxIterations = 10_000;

    private const double Tolerance = 1e-12;

    private readonly double[] mean;
    private readonly double[][] components;

    private Pca(double[] mean, double[][] components, double[] variances, double totalVariance)
    {
        this.mean = mean;
        this.components = components;
        Mean = mean;
        Components = components;
        ExplainedVariance = variances;
        TotalVariance = totalVariance;
    }

    /// <summary>Number of input dimensions D.</summary>
    public int Dimensions => mean.Length;

    /// <summary>The mean of the fitted data (D values).</summary>
    public IReadOnlyList<double> Mean { get; }

    /// <summary>The two principal directions, unit length, each D values, largest variance first.</summary>
    public IReadOnlyList<IReadOnlyList<double>> Components { get; }

    /// <summary>The variance of the data along each component (the covariance eigenvalues, divisor N - 1).</summary>
    public IReadOnlyList<double> ExplainedVariance { get; }

    /// <summary>The total variance of the data (trace of the covariance).</summary>
    public double TotalVariance { get; }

    /// <summary>The fraction of <see cref="TotalVariance"/> each component explains (0 when the data do not vary).</summary>
    public IReadOnlyList<double> ExplainedVarianceRatio =>
        ExplainedVariance.Select(v => TotalVariance > 0 ? v / TotalVariance : 0).ToArray();

    /// <summary>Fits the two leading components of <paramref name="rows"/> points of <paramref name="dimensions"/> values each.</summary>
    /// <param name="data">Row-major: point after point, <paramref name="dimensions"/> values per point.</param>
    /// <param name="rows">Number of points (at least 2).</param>
    /// <param name="dimensions">Values per point (at least 2).</param>
    /// <exception cref="ArgumentException">The sizes do not match the data, or a value is not finite.</exception>
    public static Pca Fit(ReadOnlySpan<float> data, int rows, int dimensions)
    {
        if (rows < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "PCA needs at least 2 points.");
        }

        if (dimensions < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(dimensions), dimensions, "Projecting to 2-D needs at least 2 dimensions.");
        }

        if ((long)rows * dimensions != data.Length)
        {
            throw new ArgumentException($"{data.Length} values are not {rows} points of {dimensions} dimensions.", nameof(data));
        }

        var d = dimensions;
        var mean = new double[d];
        for (var r = 0; r < rows; r++)
        {
            var point = data.Slice(r * d, d);
            for (var j = 0; j < d; j++)
            {
                if (!float.IsFinite(point[j]))
                {
                    throw new ArgumentException($"Value {j} of point {r} is {point[j]}; PCA needs finite values.", nameof(data));
                }

                mean[j] += point[j];
            }
        }

        for (var j = 0; j < d; j++)
        {
            mean[j] /= rows;
        }

        // Upper triangle of the covariance, built one centred point at a time.
        var covariance = new double[d * d];
        var centred = new double[d];
        for (var r = 0; r < rows; r++)
        {
            var point = data.Slice(r * d, d);
            for (var j = 0; j < d; j++)
            {
                centred[j] = point[j] - mean[j];
            }

            for (var i = 0; i < d; i++)
            {
                var ci = centred[i];
                if (ci == 0)
                {
                    continue;
                }

                var rowOffset = i * d;
                for (var j = i; j < d; j++)
                {
                    covariance[rowOffset + j] += ci * centred[j];
                }
            }
        }

        var total = 0.0;
        for (var i = 0; i < d; i++)
        {
            for (var j = i; j < d; j++)
            {
                covariance[(i * d) + j] /= rows - 1;
                covariance[(j * d) + i] = covariance[(i * d) + j];
            }

            total += covariance[(i * d) + i];
        }

        var first = LeadingEigenvector(covariance, d, orthogonalTo: null);
        var second = LeadingEigenvector(covariance, d, orthogonalTo: first);
        FixSign(first);
        FixSign(second);
        return new Pca(
            mean,
            [first, second],
            [RayleighQuotient(covariance, d, first), RayleighQuotient(covariance, d, second)],
            total);
    }

    /// <summary>Fits the data and projects the same data: <paramref name="rows"/> (x, y) pairs, row-major.</summary>
    /// <exception cref="ArgumentException">As <see cref="Fit"/>.</exception>
    public static float[] FitTransform(ReadOnlySpan<float> data, int rows, int dimensions) => Fit(data, rows, dimensions).Transform(data);

    /// <summary>Projects points onto the two components: one (x, y) pair per point, row-major.</summary>
    /// <param name="data">Row-major points of <see cref="Dimensions"/> values each.</param>
    /// <exception cref="ArgumentException">The length is not a whole number of points.</exception>
    public float[] Transform(ReadOnlySpan<float> data)
    {
        var d = Dimensions;
        if (data.Length % d != 0)
        {
            throw new ArgumentException($"{data.Length} values are not a whole number of {d}-dimensional points.", nameof(data));
        }

        var rows = data.Length / d;
        var result = new float[rows * 2];
        for (var r = 0; r < rows; r++)
        {
            var point = data.Slice(r * d, d);
            for (var k = 0; k < 2; k++)
            {
                var component = components[k];
                var sum = 0.0;
                for (var j = 0; j < d; j++)
                {
                    sum += (point[j] - mean[j]) * component[j];
                }

                result[(r * 2) + k] = (float)sum;
            }
        }

        return result;
    }

    private static double[] LeadingEigenvector(double[] matrix, int d, double[]? orthogonalTo)
    {
        // A fixed, generic start: not orthogonal to any direction in practice, and the same on every run.
        var v = new double[d];
        for (var j = 0; j < d; j++)
        {
            v[j] = 1.0 + (0.01 * ((j * 7919) % 101));
        }

        Orthogonalise(v, orthogonalTo);
        if (!Normalise(v))
        {
            // Only possible when d == 2 and the start is parallel to the first component: take its perpendicular.
            v[0] = -orthogonalTo![1];
            v[1] = orthogonalTo[0];
            Normalise(v);
        }

        var next = new double[d];
        for (var iteration = 0; iteration < MaxIterations; iteration++)
        {
            Multiply(matrix, d, v, next);
            Orthogonalise(next, orthogonalTo);
            if (!Normalise(next))
            {
                // The matrix maps v to zero: no variance left in this subspace, any unit vector in it will do.
                return v;
            }

            var change = 0.0;
            for (var j = 0; j < d; j++)
            {
                change = Math.Max(change, Math.Abs(next[j] - v[j]));
            }

            (v, next) = (next, v);
            if (change < Tolerance)
            {
                break;
            }
        }

        return v;
    }

    private static void Multiply(double[] matrix, int d, double[] v, double[] result)
    {
        for (var i = 0; i < d; i++)
        {
            var sum = 0.0;
            var offset = i * d;
            for (var j = 0; j < d; j++)
            {
                sum += matrix[offset + j] * v[j];
            }

            result[i] = sum;
        }
    }

    private static void Orthogonalise(double[] v, double[]? against)
    {
        if (against is null)
        {
            return;
        }

        var dot = 0.0;
        for (var j = 0; j < v.Length; j++)
        {
            dot += v[j] * against[j];
        }

        for (var j = 0; j < v.Length; j++)
        {
            v[j] -= dot * against[j];
        }
    }

    private static bool Normalise(double[] v)
    {
        var norm = Math.Sqrt(v.Sum(x => x * x));
        if (norm < 1e-300)
        {
            return false;
        }

        for (var j = 0; j < v.Length; j++)
        {
            v[j] /= norm;
        }

        return true;
    }

    private static void FixSign(double[] v)
    {
        var largest = 0;
        for (var j = 1; j < v.Length; j++)
        {
            if (Math.Abs(v[j]) > Math.Abs(v[largest]) + 1e-12)
            {
                largest = j;
            }
        }

        if (v[largest] < 0)
        {
            for (var j = 0; j < v.Length; j++)
            {
                v[j] = -v[j];
            }
        }
    }

    private static double RayleighQuotient(double[] matrix, int d, double[] v)
    {
        var product = new double[d];
        Multiply(matrix, d, v, product);
        var sum = 0.0;
        for (var j = 0; j < d; j++)
        {
            sum += product[j] * v[j];
        }

        return sum;
    }
}
