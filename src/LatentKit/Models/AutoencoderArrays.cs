using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentKit;

/// <summary>
/// Inference without TorchSharp types: encode, decode and reconstruct from managed <see cref="float"/> values, for one
/// sample, many samples (a flat span with a count, or a list of arrays) or a <see cref="Dataset"/>, returning managed
/// arrays. A sample is <c>SampleSize</c> values (the product of <see cref="IAutoencoder.InputShape"/>) in row-major
/// order (channel, row, column for images), scaled as for training (pixels in [0, 1] for image models). The results
/// equal those of the tensor methods (<see cref="IAutoencoder.Encode(Tensor)"/>, <see cref="IAutoencoder.Decode(Tensor)"/>,
/// <see cref="IAutoencoder.Reconstruct(Tensor)"/>) on the same samples, within rounding of 1e-6 (the work is batched: at most
/// <see cref="MaxBatchSamples"/> samples and about <see cref="MaxBatchValues"/> input values at a time, so memory
/// beyond the results stays bounded). Every input is checked before any work: its length, and that every value is
/// finite. Each batch runs under the model's lock, like the tensor methods (see the model's thread-safety notes).
/// </summary>
public static class AutoencoderArrays
{
    /// <summary>The most samples run through the network at once.</summary>
    public const int MaxBatchSamples = 256;

    /// <summary>The most input values run through the network at once (fewer samples per batch when samples are large; at least one sample).</summary>
    public const int MaxBatchValues = 1 << 22;

    /// <summary>The latent code (<c>LatentSize</c> values) of one sample of <c>SampleSize</c> values.</summary>
    /// <exception cref="ArgumentException">The sample has another length than the model's sample size, or holds a value that is not finite or, for a model that reads values in [0, 1] (sigmoid output and binary cross-entropy), outside [0, 1].</exception>
    public static float[] Encode(this IAutoencoder model, ReadOnlySpan<float> sample)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Run(sample, null, 1, SampleSizeOf(model), model.LatentSize, model.Encode, nameof(sample), ReadsZeroToOne(model));
    }

    /// <summary>The latent codes of <paramref name="count"/> samples stored one after another in <paramref name="samples"/>, one after another (<c>count x LatentSize</c> values).</summary>
    /// <exception cref="ArgumentException"><paramref name="samples"/> does not hold exactly <paramref name="count"/> samples, or holds a value that is not finite or, for a model that reads values in [0, 1] (sigmoid output and binary cross-entropy), outside [0, 1] (the message names the sample and index).</exception>
    public static float[] Encode(this IAutoencoder model, ReadOnlySpan<float> samples, int count)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Run(samples, null, count, SampleSizeOf(model), model.LatentSize, model.Encode, nameof(samples), ReadsZeroToOne(model));
    }

    /// <summary>The latent code of each sample (an array of <c>LatentSize</c> values per sample).</summary>
    /// <exception cref="ArgumentException">A sample is null, has another length than the model's sample size, or holds a value that is not finite or, for a model that reads values in [0, 1] (sigmoid output and binary cross-entropy), outside [0, 1] (the message names the sample).</exception>
    public static float[][] Encode(this IAutoencoder model, IReadOnlyList<float[]> samples)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(samples);
        return Split(Run([], samples, samples.Count, SampleSizeOf(model), model.LatentSize, model.Encode, nameof(samples), ReadsZeroToOne(model)), samples.Count, model.LatentSize);
    }

    /// <summary>The latent code of each sample of <paramref name="dataset"/> (labelled or not), in order.</summary>
    /// <exception cref="ArgumentException">The dataset's samples do not fit the model's input shape.</exception>
    public static float[][] Encode(this IAutoencoder model, Dataset dataset)
    {
        ArgumentNullException.ThrowIfNull(model);
        return RunDataset(model, dataset, model.LatentSize, model.Encode);
    }

    /// <summary>The reconstruction (<c>SampleSize</c> values, after the output activation) of one sample.</summary>
    /// <exception cref="ArgumentException">The sample has another length than the model's sample size, or holds a value that is not finite or, for a model that reads values in [0, 1] (sigmoid output and binary cross-entropy), outside [0, 1].</exception>
    public static float[] Reconstruct(this IAutoencoder model, ReadOnlySpan<float> sample)
    {
        ArgumentNullException.ThrowIfNull(model);
        var size = SampleSizeOf(model);
        return Run(sample, null, 1, size, size, model.Reconstruct, nameof(sample), ReadsZeroToOne(model));
    }

    /// <summary>The reconstructions of <paramref name="count"/> samples stored one after another in <paramref name="samples"/>, one after another.</summary>
    /// <exception cref="ArgumentException"><paramref name="samples"/> does not hold exactly <paramref name="count"/> samples, or holds a value that is not finite or, for a model that reads values in [0, 1] (sigmoid output and binary cross-entropy), outside [0, 1].</exception>
    public static float[] Reconstruct(this IAutoencoder model, ReadOnlySpan<float> samples, int count)
    {
        ArgumentNullException.ThrowIfNull(model);
        var size = SampleSizeOf(model);
        return Run(samples, null, count, size, size, model.Reconstruct, nameof(samples), ReadsZeroToOne(model));
    }

    /// <summary>The reconstruction of each sample.</summary>
    /// <exception cref="ArgumentException">A sample is null, has another length than the model's sample size, or holds a value that is not finite or, for a model that reads values in [0, 1] (sigmoid output and binary cross-entropy), outside [0, 1].</exception>
    public static float[][] Reconstruct(this IAutoencoder model, IReadOnlyList<float[]> samples)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(samples);
        var size = SampleSizeOf(model);
        return Split(Run([], samples, samples.Count, size, size, model.Reconstruct, nameof(samples), ReadsZeroToOne(model)), samples.Count, size);
    }

    /// <summary>The reconstruction of each sample of <paramref name="dataset"/>, in order.</summary>
    /// <exception cref="ArgumentException">The dataset's samples do not fit the model's input shape.</exception>
    public static float[][] Reconstruct(this IAutoencoder model, Dataset dataset)
    {
        ArgumentNullException.ThrowIfNull(model);
        return RunDataset(model, dataset, SampleSizeOf(model), model.Reconstruct);
    }

    /// <summary>The sample (<c>SampleSize</c> values, after the output activation) decoded from one code of <c>LatentSize</c> values.</summary>
    /// <exception cref="ArgumentException">The code has another length than the latent size, or holds a value that is not finite.</exception>
    public static float[] Decode(this IAutoencoder model, ReadOnlySpan<float> code)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Run(code, null, 1, model.LatentSize, SampleSizeOf(model), model.Decode, nameof(code));
    }

    /// <summary>The samples decoded from each code.</summary>
    /// <exception cref="ArgumentException">A code is null, has another length than the latent size, or holds a value that is not finite.</exception>
    public static float[][] Decode(this IAutoencoder model, IReadOnlyList<float[]> codes)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(codes);
        var size = SampleSizeOf(model);
        return Split(Run([], codes, codes.Count, model.LatentSize, size, model.Decode, nameof(codes)), codes.Count, size);
    }

    internal static int SampleSizeOf(IAutoencoder model) => checked((int)model.InputShape.Aggregate(1L, (a, b) => a * b));

    /// <summary>
    /// The one array path: checks every input (count, lengths, finite values) first, then runs <paramref name="compute"/>
    /// on batches of <c>n x inSize</c> float32 CPU tensors and copies each result row (<paramref name="outSize"/>
    /// values) into one flat array. Inputs are either <paramref name="flat"/> (when <paramref name="list"/> is null) or
    /// <paramref name="list"/>.
    /// </summary>
    internal static float[] Run(ReadOnlySpan<float> flat, IReadOnlyList<float[]>? list, int count, int inSize, int outSize, Func<Tensor, Tensor> compute, string parameter, bool zeroToOne = false)
    {
        Check(flat, list, count, inSize, parameter, zeroToOne);
        if ((long)count * outSize > Array.MaxLength)
        {
            throw new ArgumentException($"{count} samples give {(long)count * outSize:N0} result values, more than one array holds; pass fewer samples at a time.", parameter);
        }

        var result = new float[count * outSize];
        var perBatch = Math.Clamp(MaxBatchValues / Math.Max(inSize, 1), 1, MaxBatchSamples);
        for (var start = 0; start < count; start += perBatch)
        {
            var n = Math.Min(perBatch, count - start);
            var input = new float[n * inSize];
            if (list is null)
            {
                flat.Slice(start * inSize, n * inSize).CopyTo(input);
            }
            else
            {
                for (var i = 0; i < n; i++)
                {
                    list[start + i].CopyTo(input, i * inSize);
                }
            }

            using var scope = NewDisposeScope();
            var output = compute(NativeTensors.CopyOf<float>(input, [n, inSize], ScalarType.Float32)).cpu().to_type(ScalarType.Float32).reshape(n, -1);
            if (output.shape[1] != outSize)
            {
                throw new InvalidOperationException($"The model returned {output.shape[1]} values per sample where {outSize} were expected.");
            }

            output.contiguous().data<float>().CopyTo(result, start * outSize);
        }

        return result;
    }

    /// <summary>
    /// Checks an array input before any work; the message names the sample (and the index of a value that is not
    /// finite or, with <paramref name="zeroToOne"/> (a model that reads values in [0, 1]), outside [0, 1]).
    /// </summary>
    internal static void Check(ReadOnlySpan<float> flat, IReadOnlyList<float[]>? list, int count, int size, string parameter, bool zeroToOne = false)
    {
        if (list is null)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(count);
            if (flat.Length != (long)count * size)
            {
                throw new ArgumentException(
                    count == 1
                        ? $"The model takes samples of {size} values; got {flat.Length}."
                        : $"{count} samples of {size} values take {(long)count * size} values; got {flat.Length}.",
                    parameter);
            }

            for (var i = 0; i < flat.Length; i++)
            {
                CheckValue(flat[i], count == 1 ? $"value {i}" : $"sample {i / size}, value {i % size}", zeroToOne, parameter);
            }

            return;
        }

        for (var s = 0; s < list.Count; s++)
        {
            var sample = list[s] ?? throw new ArgumentException($"Sample {s} is null.", parameter);
            if (sample.Length != size)
            {
                throw new ArgumentException($"Sample {s} has {sample.Length} values; the model takes {size}.", parameter);
            }

            for (var i = 0; i < sample.Length; i++)
            {
                CheckValue(sample[i], $"sample {s}, value {i}", zeroToOne, parameter);
            }
        }
    }

    /// <summary>Whether <paramref name="model"/> reads values in [0, 1] (see <see cref="AutoencoderBase.ReadsZeroToOne"/>).</summary>
    internal static bool ReadsZeroToOne(IAutoencoder model) => model is AutoencoderBase { ReadsZeroToOne: true };

    private static void CheckValue(float value, string where, bool zeroToOne, string parameter)
    {
        if (!float.IsFinite(value))
        {
            throw new ArgumentException($"Every value must be finite; {where} is {value.ToString(CultureInfo.InvariantCulture)}.", parameter);
        }

        if (zeroToOne && value is < 0 or > 1)
        {
            throw new ArgumentException($"This model reads values in [0, 1] (it was built for data in [0, 1]: sigmoid output, binary cross-entropy); {where} is {value.ToString(CultureInfo.InvariantCulture)}: scale byte pixels by 1/255.", parameter);
        }
    }

    /// <summary>Runs <paramref name="compute"/> on a dataset's samples in batches, as float rows, and splits the results per sample.</summary>
    internal static float[][] RunDataset(IAutoencoder model, Dataset dataset, int outSize, Func<Tensor, Tensor> compute)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        CheckDataset(model, dataset);
        var result = new float[dataset.Count][];
        var perBatch = Math.Clamp(MaxBatchValues / Math.Max(dataset.SampleSize, 1), 1, MaxBatchSamples);
        using var data = dataset.OpenReader(withLabels: false);
        for (var start = 0; start < data.Count; start += perBatch)
        {
            using var scope = NewDisposeScope();
            var n = Math.Min(perBatch, data.Count - start);
            var x = TrainingData.ToFloat(data.ReadRange(start, n).Inputs).reshape(n, -1);
            var output = compute(x).cpu().to_type(ScalarType.Float32).reshape(n, -1).contiguous().data<float>().ToArray();
            for (var i = 0; i < n; i++)
            {
                result[start + i] = output.AsSpan(i * outSize, outSize).ToArray();
            }
        }

        return result;
    }

    /// <summary>Checks that a dataset's samples fit the model (the models' own shape rule for LatentKit's autoencoders).</summary>
    internal static void CheckDataset(IAutoencoder model, Dataset dataset)
    {
        if (model is AutoencoderBase known)
        {
            known.CheckShape(dataset, nameof(dataset));
        }
        else if (dataset.SampleSize != SampleSizeOf(model))
        {
            throw new ArgumentException($"Dataset '{dataset.Name}' has samples of {dataset.SampleSize} values, but the model takes {SampleSizeOf(model)}.", nameof(dataset));
        }
    }

    private static float[][] Split(float[] flat, int count, int size)
    {
        var rows = new float[count][];
        for (var i = 0; i < count; i++)
        {
            rows[i] = flat.AsSpan(i * size, size).ToArray();
        }

        return rows;
    }
}
