namespace LatentKit;

/// <summary>
/// A Gaussian fitted on latent codes of normal data, scoring a code by its Mahalanobis distance to it. The covariance
/// is regularised by shrinkage towards a multiple of the identity, <c>(1 - a) S + a (trace(S) / d) I</c> with
/// <c>S</c> the sample covariance (divided by n - 1), so that it can be inverted even when codes are correlated or
/// fewer than their dimensions.
/// </summary>
public sealed class GaussianLatentModel
{
    /// <summary>The default shrinkage.</summary>
    public const double DefaultShrinkage = 0.1;

    /// <summary>
    /// The most code dimensions a Gaussian is fitted on: 4,096. Its covariance and Cholesky factor take
    /// dimensions^2 doubles each (128 MB each at the bound) and the factorisation dimensions^3 / 3 operations, so the
    /// bound is checked before anything is allocated. A model with a larger latent size cannot back an
    /// <see cref="AnomalyDetector"/>.
    /// </summary>
    public const int MaxDimensions = 4_096;

    /// <summary>The one dimension rule, for <see cref="Fit"/>, <see cref="FromParameters"/> and <see cref="AnomalyDetector.Fit"/>.</summary>
    internal static string? DimensionProblem(long dimensions) => dimensions > MaxDimensions
        ? $"A latent Gaussian of {dimensions:N0} dimensions is more than the {MaxDimensions:N0} allowed (GaussianLatentModel.MaxDimensions): its covariance would take {dimensions:N0}^2 doubles ({(double)dimensions * dimensions * 8 / (1 << 20):N0} MB). Use a model with a latent size of at most {MaxDimensions:N0}."
        : null;

    private readonly double[] mean;
    private readonly double[] covariance;
    private readonly double[] cholesky;

    private GaussianLatentModel(double[] mean, double[] covariance, double[] cholesky, double shrinkage)
    {
        this.mean = mean;
        this.covariance = covariance;
        this.cholesky = cholesky;
        Shrinkage = shrinkage;
    }

    /// <summary>The number of code dimensions.</summary>
    public int Dimensions => mean.Length;

    /// <summary>The mean code.</summary>
    public IReadOnlyList<double> Mean => mean;

    /// <summary>The regularised covariance, row-major <c>Dimensions x Dimensions</c>.</summary>
    public IReadOnlyList<double> Covariance => covariance;

    /// <summary>The lower Cholesky factor of <see cref="Covariance"/>, row-major (for the ONNX export of the distance).</summary>
    internal IReadOnlyList<double> CholeskyFactor => cholesky;

    /// <summary>The shrinkage the covariance was regularised with.</summary>
    public double Shrinkage { get; }

    /// <summary>Fits the Gaussian on <paramref name="count"/> codes of width <paramref name="dimensions"/>, row-major in <paramref name="codes"/>.</summary>
    /// <param name="codes">The codes, <c>count x dimensions</c> row-major.</param>
    /// <param name="count">How many codes.</param>
    /// <param name="dimensions">The width of one code.</param>
    /// <param name="shrinkage">Regularisation in [0, 1]: 0 is the sample covariance, 1 a multiple of the identity.</param>
    /// <exception cref="AnomalyDataException">Fewer than two codes, a length that is not <c>count x dimensions</c>, a non-finite value, or codes that are all the same.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The dimensions are not positive or above <see cref="MaxDimensions"/>, or the shrinkage is not in [0, 1].</exception>
    public static GaussianLatentModel Fit(ReadOnlySpan<float> codes, int count, int dimensions, double shrinkage = DefaultShrinkage)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimensions);
        if (DimensionProblem(dimensions) is { } problem)
        {
            throw new ArgumentOutOfRangeException(nameof(dimensions), dimensions, problem);
        }

        CheckShrinkage(shrinkage);
        if (count < 2)
        {
            throw new AnomalyDataException(count == 0 ? AnomalyDataError.Empty : AnomalyDataError.TooFew, $"Fitting a Gaussian on latent codes needs at least 2 normal samples; got {count}.", nameof(codes));
        }

        if ((long)count * dimensions != codes.Length)
        {
            throw new AnomalyDataException(AnomalyDataError.LengthMismatch, $"{count} codes of width {dimensions} take {(long)count * dimensions} values; got {codes.Length}.", nameof(codes));
        }

        for (var i = 0; i < codes.Length; i++)
        {
            if (!float.IsFinite(codes[i]))
            {
                throw new AnomalyDataException(AnomalyDataError.NonFinite, $"Latent code {i / dimensions} holds a non-finite value ({codes[i]}) at dimension {i % dimensions}; the model gives non-finite codes for this data.", nameof(codes));
            }
        }

        var d = dimensions;
        var mean = new double[d];
        for (var i = 0; i < count; i++)
        {
            for (var j = 0; j < d; j++)
            {
                mean[j] += codes[(i * d) + j];
            }
        }

        for (var j = 0; j < d; j++)
        {
            mean[j] /= count;
        }

        var cov = new double[d * d];
        var centred = new double[d];
        for (var i = 0; i < count; i++)
        {
            for (var j = 0; j < d; j++)
            {
                centred[j] = codes[(i * d) + j] - mean[j];
            }

            for (var a = 0; a < d; a++)
            {
                var ca = centred[a];
                if (ca == 0)
                {
                    continue;
                }

                var row = a * d;
                for (var b = 0; b <= a; b++)
                {
                    cov[row + b] += ca * centred[b];
                }
            }
        }

        double trace = 0;
        for (var a = 0; a < d; a++)
        {
            for (var b = 0; b <= a; b++)
            {
                var v = cov[(a * d) + b] / (count - 1);
                cov[(a * d) + b] = v;
                cov[(b * d) + a] = v;
            }

            trace += cov[(a * d) + a];
        }

        if (!(trace > 0))
        {
            throw new AnomalyDataException(AnomalyDataError.Constant, $"All {count} latent codes of the normal data are the same, so no Gaussian can be fitted: the normal set is constant, or the model maps everything to one code; give varied normal data or train the model longer.", nameof(codes));
        }

        Regularise(cov, d, shrinkage, trace / d);
        var chol = Cholesky(cov, d) ?? throw new AnomalyDataException(AnomalyDataError.Constant, "The covariance of the latent codes cannot be inverted; increase the shrinkage.", nameof(codes));
        return new GaussianLatentModel(mean, cov, chol, shrinkage);
    }

    /// <summary>A model from a stored mean and (already regularised) covariance (used when loading a detector).</summary>
    /// <exception cref="AnomalyDataException">The lengths do not fit, a value is not finite, or the covariance is not symmetric positive-definite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The mean has more than <see cref="MaxDimensions"/> dimensions.</exception>
    public static GaussianLatentModel FromParameters(IReadOnlyList<double> mean, IReadOnlyList<double> covariance, double shrinkage)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(covariance);
        if (DimensionProblem(mean.Count) is { } problem)
        {
            throw new ArgumentOutOfRangeException(nameof(mean), mean.Count, problem);
        }

        CheckShrinkage(shrinkage);
        var m = mean.ToArray();
        var c = covariance.ToArray();
        AnomalyDataException.ThrowIfEmptyOrNonFinite(m, nameof(mean), "The mean");
        if ((long)m.Length * m.Length != c.Length)
        {
            throw new AnomalyDataException(AnomalyDataError.LengthMismatch, $"A mean of {m.Length} dimensions needs a {m.Length} x {m.Length} covariance ({(long)m.Length * m.Length} values); got {c.Length}.", nameof(covariance));
        }

        AnomalyDataException.ThrowIfNonFinite(c, nameof(covariance), "The covariance");
        var d = m.Length;
        for (var a = 0; a < d; a++)
        {
            for (var b = 0; b < a; b++)
            {
                if (c[(a * d) + b] != c[(b * d) + a])
                {
                    throw new AnomalyDataException(AnomalyDataError.LengthMismatch, $"The covariance is not symmetric at ({a}, {b}).", nameof(covariance));
                }
            }
        }

        var chol = Cholesky(c, d) ?? throw new AnomalyDataException(AnomalyDataError.Constant, "The covariance is not positive-definite.", nameof(covariance));
        return new GaussianLatentModel(m, c, chol, shrinkage);
    }

    /// <summary>The Mahalanobis distance <c>sqrt((x - mean)^T Covariance^-1 (x - mean))</c> of one code.</summary>
    /// <exception cref="AnomalyDataException">The code has the wrong width.</exception>
    public double Distance(ReadOnlySpan<float> code)
    {
        if (code.Length != mean.Length)
        {
            throw new AnomalyDataException(AnomalyDataError.LengthMismatch, $"A code must have {mean.Length} values; got {code.Length}.", nameof(code));
        }

        // Solve L y = (x - mean) by forward substitution; the squared distance is |y|^2.
        var d = mean.Length;
        Span<double> y = d <= 512 ? stackalloc double[d] : new double[d];
        double sum = 0;
        for (var i = 0; i < d; i++)
        {
            var v = code[i] - mean[i];
            var row = i * d;
            for (var k = 0; k < i; k++)
            {
                v -= cholesky[row + k] * y[k];
            }

            y[i] = v / cholesky[row + i];
            sum += y[i] * y[i];
        }

        return Math.Sqrt(sum);
    }

    /// <summary>The Mahalanobis distance of each of <paramref name="count"/> codes, row-major in <paramref name="codes"/>.</summary>
    /// <exception cref="AnomalyDataException">The length is not <c>count x Dimensions</c>.</exception>
    public double[] Distances(ReadOnlySpan<float> codes, int count)
    {
        if ((long)count * mean.Length != codes.Length)
        {
            throw new AnomalyDataException(AnomalyDataError.LengthMismatch, $"{count} codes of width {mean.Length} take {(long)count * mean.Length} values; got {codes.Length}.", nameof(codes));
        }

        var result = new double[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = Distance(codes.Slice(i * mean.Length, mean.Length));
        }

        return result;
    }

    private static void CheckShrinkage(double shrinkage)
    {
        if (!(shrinkage >= 0 && shrinkage <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(shrinkage), shrinkage, $"The shrinkage must be in [0, 1]; got {shrinkage}.");
        }
    }

    private static void Regularise(double[] cov, int d, double shrinkage, double averageVariance)
    {
        for (var a = 0; a < d; a++)
        {
            for (var b = 0; b < d; b++)
            {
                cov[(a * d) + b] *= 1 - shrinkage;
            }

            cov[(a * d) + a] += shrinkage * averageVariance;
        }
    }

    /// <summary>The lower Cholesky factor (row-major), or null when the matrix is not positive-definite.</summary>
    private static double[]? Cholesky(double[] matrix, int d)
    {
        var l = new double[d * d];
        for (var i = 0; i < d; i++)
        {
            for (var j = 0; j <= i; j++)
            {
                var sum = matrix[(i * d) + j];
                for (var k = 0; k < j; k++)
                {
                    sum -= l[(i * d) + k] * l[(j * d) + k];
                }

                if (i == j)
                {
                    if (!(sum > 0))
                    {
                        return null;
                    }

                    l[(i * d) + i] = Math.Sqrt(sum);
                }
                else
                {
                    l[(i * d) + j] = sum / l[(j * d) + j];
                }
            }
        }

        return l;
    }
}
