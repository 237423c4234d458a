using System.Globalization;
using static TorchSharp.torch;

namespace LatentKit;

/// <summary>
/// Per-feature standardisation: each value <c>x[i]</c> of a sample becomes <c>(x[i] - Mean[i]) / StandardDeviation[i]</c>.
/// Fit it on the training data with <see cref="Fit"/>, then give it to a model with
/// <c>WithStandardization</c> (the model applies it to every input it trains on, evaluates, encodes or reconstructs, and
/// saves it in its file) or apply it to a dataset yourself with <see cref="Apply"/>.
/// <para>
/// A feature that is constant in the fitting data (standard deviation 0) gets a standard deviation of 1, so it is only
/// shifted to 0 (never divided by 0); <see cref="ConstantFeatures"/> lists those features.
/// </para>
/// </summary>
public sealed class FeatureStandardizer
{
    private readonly float[] mean;
    private readonly float[] std;

    private FeatureStandardizer(float[] mean, float[] std, int[] constant)
    {
        this.mean = mean;
        this.std = std;
        ConstantFeatures = constant;
    }

    /// <summary>The mean of each feature (one per value of a sample, in the sample's row-major order).</summary>
    public IReadOnlyList<float> Mean => mean;

    /// <summary>The standard deviation of each feature (population standard deviation; 1 for a constant feature).</summary>
    public IReadOnlyList<float> StandardDeviation => std;

    /// <summary>The features that were constant in the fitting data, whose standard deviation was set to 1.</summary>
    public IReadOnlyList<int> ConstantFeatures { get; }

    /// <summary>Number of features (values per sample).</summary>
    public int FeatureCount => mean.Length;

    /// <summary>Fits the per-feature mean and standard deviation of <paramref name="data"/>'s samples (any shape; each value of a sample is a feature).</summary>
    /// <param name="data">The training data, at least one sample.</param>
    /// <exception cref="ArgumentException">The dataset is empty.</exception>
    public static FeatureStandardizer Fit(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Count == 0)
        {
            throw new ArgumentException($"Dataset '{data.Name}' is empty; a standardizer needs at least one sample to fit.", nameof(data));
        }

        var size = data.SampleSize;
        var sum = new double[size];
        var squares = new double[size];
        using (var reader = data.OpenReader(withLabels: false))
        {
            const int batch = 1024;
            for (var start = 0; start < reader.Count; start += batch)
            {
                using var scope = NewDisposeScope();
                var count = Math.Min(batch, reader.Count - start);
                var values = TrainingData.ToFloat(reader.ReadRange(start, count).Inputs).reshape(count, size).to_type(ScalarType.Float64);
                var s = values.sum(0, false).data<double>().ToArray();
                var q = values.square().sum(0, false).data<double>().ToArray();
                for (var i = 0; i < size; i++)
                {
                    sum[i] += s[i];
                    squares[i] += q[i];
                }
            }
        }

        var mean = new float[size];
        var std = new float[size];
        var constant = new List<int>();
        for (var i = 0; i < size; i++)
        {
            var m = sum[i] / data.Count;
            var variance = Math.Max(0, (squares[i] / data.Count) - (m * m));
            var s = Math.Sqrt(variance);
            mean[i] = (float)m;
            if (!(s > 1e-12 * Math.Max(1, Math.Abs(m))) || (float)s == 0)
            {
                constant.Add(i);
                s = 1;
            }

            std[i] = (float)s;
        }

        return new FeatureStandardizer(mean, std, [.. constant]);
    }

    /// <summary>A standardizer with the given means and standard deviations (for example fitted elsewhere).</summary>
    /// <exception cref="ArgumentException">The lists are empty or of different lengths, a value is not finite, or a standard deviation is not above 0.</exception>
    public static FeatureStandardizer FromValues(IReadOnlyList<float> mean, IReadOnlyList<float> standardDeviation)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(standardDeviation);
        Validate(mean, standardDeviation, nameof(mean), nameof(standardDeviation));
        return new FeatureStandardizer([.. mean], [.. standardDeviation], []);
    }

    /// <summary>
    /// A new in-memory dataset with every sample of <paramref name="data"/> standardised (same shape, labels and
    /// class names; <see cref="Dataset.ValueRange"/> is <see cref="SampleRange.Unbounded"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The dataset's samples do not have <see cref="FeatureCount"/> values.</exception>
    public Dataset Apply(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckSize(data.SampleSize, $"Dataset '{data.Name}' with samples of shape [{string.Join(", ", data.SampleShape)}]", nameof(data));
        var total = (long)data.Count * data.SampleSize;
        if (total > Array.MaxLength)
        {
            throw new ArgumentException($"Dataset '{data.Name}' holds {total:N0} values, more than one in-memory array can; standardise it in parts or give the standardizer to the model (WithStandardization), which standardises batch by batch.", nameof(data));
        }

        var values = new float[total];
        using (var reader = data.OpenReader(withLabels: false))
        using (var m = tensor(mean))
        using (var s = tensor(std))
        {
            const int batch = 1024;
            for (var start = 0; start < reader.Count; start += batch)
            {
                using var scope = NewDisposeScope();
                var count = Math.Min(batch, reader.Count - start);
                var x = TrainingData.ToFloat(reader.ReadRange(start, count).Inputs).reshape(count, data.SampleSize);
                x.sub(m).div_(s).data<float>().CopyTo(values, start * data.SampleSize);
            }
        }

        var labels = data.HasLabels ? Enumerable.Range(0, data.Count).Select(data.GetLabel).ToArray() : null;
        var name = $"{data.Name} (standardised)";
        var store = SampleStore.FromFloats(values, [.. data.SampleShape], labels, labels is not null, data.ClassCount, labels is null ? null : data.ClassNames, name, SampleRange.Unbounded);
        return new InMemoryDataset(store, name);
    }

    /// <summary>Standardises rows already flattened to <c>N x FeatureCount</c> (or any shape with that many values per sample).</summary>
    internal Tensor Forward(Tensor x)
    {
        using var m = tensor(mean, device: x.device);
        using var s = tensor(std, device: x.device);
        using var minusOne = Scalars.Of(-1.0);
        var shape = x.shape;
        return x.reshape(shape[0], mean.Length).add(m, minusOne).div(s).reshape(shape);
    }

    /// <summary>The inverse of <see cref="Forward"/>: standardised values back to the data's units.</summary>
    internal Tensor Inverse(Tensor x)
    {
        using var m = tensor(mean, device: x.device);
        using var s = tensor(std, device: x.device);
        var shape = x.shape;
        return x.reshape(shape[0], mean.Length).mul(s).add(m, Scalars.One).reshape(shape);
    }

    internal float[] MeanArray => mean;

    internal float[] StdArray => std;

    /// <summary>Throws when <paramref name="sampleSize"/> is not <see cref="FeatureCount"/>.</summary>
    internal void CheckSize(int sampleSize, string what, string parameter)
    {
        if (sampleSize != mean.Length)
        {
            throw new ArgumentException($"{what} has {sampleSize} values per sample, but the standardizer was fitted on {mean.Length} features.", parameter);
        }
    }

    /// <summary>The one rule for a standardizer's values (used by <see cref="FromValues"/>, the builders and model files).</summary>
    internal static void Validate(IReadOnlyList<float> mean, IReadOnlyList<float> std, string meanParameter, string stdParameter)
    {
        if (mean.Count == 0)
        {
            throw new ArgumentException("A standardizer needs at least one feature; got no means.", meanParameter);
        }

        if (std.Count != mean.Count)
        {
            throw new ArgumentException($"A standardizer needs one standard deviation per mean; got {mean.Count} means and {std.Count} standard deviations.", stdParameter);
        }

        for (var i = 0; i < mean.Count; i++)
        {
            if (!float.IsFinite(mean[i]))
            {
                throw new ArgumentException($"Every mean must be finite; feature {i} is {mean[i].ToString(CultureInfo.InvariantCulture)}.", meanParameter);
            }

            if (!(std[i] > 0) || !float.IsFinite(std[i]))
            {
                throw new ArgumentException($"Every standard deviation must be a finite number above 0; feature {i} is {std[i].ToString(CultureInfo.InvariantCulture)}.", stdParameter);
            }
        }
    }
}
