using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace LatentKit;

/// <summary>A classifier's prediction for one sample: the most probable class, its name, and every class's probability.</summary>
/// <param name="Class">The most probable class (the same as <see cref="LatentClassifier.Predict(Tensor)"/>).</param>
/// <param name="ClassName">The name of <paramref name="Class"/>.</param>
/// <param name="Probabilities">The probability of each class (summing to 1), as <see cref="LatentClassifier.PredictProbabilities"/> gives it.</param>
public sealed record ClassPrediction(int Class, string ClassName, float[] Probabilities);

public sealed partial class LatentClassifier
{
    /// <summary>
    /// Loads a classifier saved on a custom autoencoder (<see cref="Autoencoders.Custom"/>), rebuilding the autoencoder
    /// from freshly built modules of the same architecture as <see cref="AutoencoderFile.LoadCustom"/> does.
    /// </summary>
    /// <param name="path">The classifier file.</param>
    /// <param name="encoder">A new encoder module of the saved architecture, on the CPU.</param>
    /// <param name="decoder">A new decoder module of the saved architecture, on the CPU.</param>
    /// <param name="device">Where to move the classifier after loading; the CPU when null.</param>
    /// <exception cref="ModelFileException">As for <see cref="Load(string)"/>; <see cref="ModelFileError.WeightsMismatch"/> when the modules differ from the saved ones (naming the parameter); <see cref="ModelFileError.WrongKind"/> when the file holds a built-in autoencoder.</exception>
    public static LatentClassifier LoadCustom(string path, nn.Module<Tensor, Tensor> encoder, nn.Module<Tensor, Tensor> decoder, Device? device = null)
    {
        if (device is not null)
        {
            DeviceRules.Check(device, nameof(device));
        }

        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(decoder);
        return MoveLoaded(ModelFile.LoadClassifier(path, new CustomModules(encoder, decoder)), device);
    }

    /// <summary>Loads a classifier as <see cref="Load(string)"/> does and moves it to <paramref name="device"/> (LatentKit is tested on the CPU only).</summary>
    /// <exception cref="ModelFileException">As for <see cref="Load(string)"/>.</exception>
    /// <exception cref="ArgumentException">The device is not available; the message names it and the devices that are (checked before the file is read).</exception>
    public static LatentClassifier Load(string path, Device device)
    {
        DeviceRules.Check(device, nameof(device));
        return MoveLoaded(ModelFile.LoadClassifier(path), device);
    }

    /// <summary>
    /// Moves the head and the autoencoder to <paramref name="device"/> (the head runs on its autoencoder's device, so
    /// the autoencoder given to <see cref="For"/> moves too). LatentKit is tested on the CPU only.
    /// </summary>
    /// <exception cref="InvalidOperationException">The classifier or its autoencoder is being trained.</exception>
    /// <exception cref="NotSupportedException">The autoencoder is not one of LatentKit's (the raw-pixel baseline stays on the CPU).</exception>
    /// <exception cref="ArgumentException">The device is not available (for example CUDA on a CPU-only build); the message names it and the devices that are.</exception>
    public void MoveTo(Device device)
    {
        ThrowIfDisposed();
        DeviceRules.Check(device, nameof(device));
        if (Autoencoder is not AutoencoderBase encoder)
        {
            throw new NotSupportedException("Only a classifier on a LatentKit autoencoder can move to another device.");
        }

        using var use = Guard.EnterUse();
        encoder.MoveTo(device);
        head.to(device);
    }

    /// <summary>The prediction for one sample (<c>SampleSize</c> values, scaled as for training).</summary>
    /// <exception cref="ArgumentException">The sample has another length than the autoencoder's sample size, or holds a value that is not finite.</exception>
    public ClassPrediction Predict(ReadOnlySpan<float> sample) => Predictions(sample, null, 1, nameof(sample))[0];

    /// <summary>The prediction for one sample given as an array (TorchSharp would otherwise take a <c>float[]</c> for a one-dimensional tensor).</summary>
    /// <exception cref="ArgumentException">The sample has another length than the autoencoder's sample size, or holds a value that is not finite.</exception>
    public ClassPrediction Predict(float[] sample) => Predict((sample ?? throw new ArgumentNullException(nameof(sample))).AsSpan());

    /// <summary>The predictions for <paramref name="count"/> samples stored one after another in <paramref name="samples"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="samples"/> does not hold exactly <paramref name="count"/> samples, or holds a value that is not finite.</exception>
    public ClassPrediction[] Predict(ReadOnlySpan<float> samples, int count) => Predictions(samples, null, count, nameof(samples));

    /// <summary>The prediction for each sample.</summary>
    /// <exception cref="ArgumentException">A sample is null, has another length than the autoencoder's sample size, or holds a value that is not finite.</exception>
    public ClassPrediction[] Predict(IReadOnlyList<float[]> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        return Predictions([], samples, samples.Count, nameof(samples));
    }

    /// <summary>The prediction for each sample of <paramref name="dataset"/> (labels, if any, are not used), in order.</summary>
    /// <exception cref="ArgumentException">The dataset's samples do not fit the autoencoder's input shape.</exception>
    public ClassPrediction[] Predict(Dataset dataset)
    {
        ThrowIfDisposed();
        var rows = AutoencoderArrays.RunDataset(Autoencoder, dataset, ClassCount + 1, PredictRows);
        return [.. rows.Select(ToPrediction)];
    }

    /// <summary>The name of class <paramref name="index"/> in predictions: one of <see cref="ClassNames"/>.</summary>
    internal string ClassNameOf(int index) => ClassNames[index];

    private static LatentClassifier MoveLoaded(LatentClassifier classifier, Device? device)
    {
        if (device is not null && device.type != DeviceType.CPU)
        {
            try
            {
                classifier.MoveTo(device);
            }
            catch
            {
                classifier.Dispose();
                throw;
            }
        }

        return classifier;
    }

    private ClassPrediction[] Predictions(ReadOnlySpan<float> flat, IReadOnlyList<float[]>? list, int count, string parameter)
    {
        ThrowIfDisposed();
        var width = ClassCount + 1;
        var rows = AutoencoderArrays.Run(flat, list, count, AutoencoderArrays.SampleSizeOf(Autoencoder), width, PredictRows, parameter, AutoencoderArrays.ReadsZeroToOne(Autoencoder));
        var result = new ClassPrediction[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = ToPrediction(rows.AsSpan(i * width, width).ToArray());
        }

        return result;
    }

    /// <summary>One row per sample: the class probabilities, then the predicted class (argmax of the logits, as <see cref="Predict(Tensor)"/>).</summary>
    private Tensor PredictRows(Tensor inputs)
    {
        using var use = Guard.EnterUse();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        head.eval();
        var logits = head.forward(Autoencoder.Encode(inputs));
        var probabilities = Spec.Head == ClassifierHead.Logits ? F.softmax(logits, 1) : NormalisedSigmoid(logits);
        return cat([probabilities, logits.argmax(1, keepdim: true).to_type(ScalarType.Float32)], 1).MoveToOuterDisposeScope();
    }

    private ClassPrediction ToPrediction(float[] row)
    {
        var index = (int)row[^1];
        return new ClassPrediction(index, ClassNameOf(index), row[..^1]);
    }
}
