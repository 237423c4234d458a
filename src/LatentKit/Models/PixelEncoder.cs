using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentKit;

/// <summary>
/// The identity "encoder" behind <see cref="LatentClassifier.ForPixels"/>: the code of an image is its 784 pixels in
/// [0, 1], so a classifier on it is the raw-pixel baseline with exactly the same head and training engine. It has no
/// weights: training, saving and evaluation of reconstructions are not supported.
/// </summary>
internal sealed class PixelEncoder : IAutoencoder
{
    private static readonly long[] FlatShape = [MnistDataset.PixelsPerImage];

    public int LatentSize => MnistDataset.PixelsPerImage;

    public IReadOnlyList<long> InputShape => FlatShape;

    public Device Device => CPU;

    public TrainingOptions DefaultTraining { get; } = new();

    public Tensor Encode(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var shape = images.shape;
        var ok = (shape.Length == 2 && shape[1] == MnistDataset.PixelsPerImage)
            || (shape.Length == 4 && shape[1] == 1 && shape[2] == MnistDataset.ImageHeight && shape[3] == MnistDataset.ImageWidth);
        if (!ok || !images.is_floating_point())
        {
            throw new ArgumentException($"Images must be floating-point and shaped N x 784 or N x 1 x 28 x 28; got [{string.Join(", ", shape)}] {images.dtype}.", nameof(images));
        }

        return images.reshape(shape[0], MnistDataset.PixelsPerImage).to(ScalarType.Float32).clone();
    }

    public Tensor Decode(Tensor codes)
    {
        ArgumentNullException.ThrowIfNull(codes);
        return codes.clone();
    }

    public Tensor Reconstruct(Tensor images) => Encode(images).reshape(images.shape);

    public Tensor EncodeDataset(Dataset dataset, int batchSize = Trainer.EvaluationBatchSize)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (dataset.SampleSize != MnistDataset.PixelsPerImage)
        {
            throw new ArgumentException(
                $"Dataset '{dataset.Name}' has samples of shape [{string.Join(", ", dataset.SampleShape)}], but the raw-pixel encoder takes input of shape [{MnistDataset.PixelsPerImage}].",
                nameof(dataset));
        }

        using var data = dataset.OpenReader(withLabels: false);
        using var raw = data.ReadRange(0, data.Count).Inputs;
        return TrainingData.ToFloat(raw);
    }

    public TrainingHistory Train(Dataset training, TrainingOptions? options = null, TrainingRun? run = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The raw-pixel encoder has no weights to train.");

    public ReconstructionMetrics Evaluate(Dataset data, int batchSize = Trainer.EvaluationBatchSize) => new(0, 0, null, data.Count);

    public void Save(string path) => throw new NotSupportedException("The raw-pixel encoder has no weights to save.");

    public void Dispose()
    {
    }
}
