using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentKit;

/// <summary>
/// The identity "encoder" behind <see cref="LatentClassifier.ForPixels()"/>: the code of a sample is its values as they
/// are (pixels in [0, 1] for images), flattened, so a classifier on it is the raw-values baseline with exactly the same
/// head and training engine. It has no weights: training, saving and evaluation of reconstructions are not supported.
/// </summary>
internal sealed class PixelEncoder : IAutoencoder
{
    private readonly long[] inputShape;

    /// <summary>The baseline for MNIST: 784 values per image.</summary>
    public PixelEncoder()
        : this([MnistDataset.PixelsPerImage])
    {
    }

    /// <summary>The baseline for samples of <paramref name="sampleShape"/> (images <c>C x H x W</c> or feature vectors <c>[n]</c>).</summary>
    public PixelEncoder(IReadOnlyList<int> sampleShape)
    {
        ArgumentNullException.ThrowIfNull(sampleShape);
        if (sampleShape.Count == 0 || sampleShape.Any(d => d <= 0))
        {
            throw new ArgumentException($"The sample shape [{string.Join(", ", sampleShape)}] must have at least one dimension, each at least 1.", nameof(sampleShape));
        }

        var size = sampleShape.Aggregate(1L, (a, b) => a * b);
        if (size > ModelLimits.MaxInputSize)
        {
            throw new ArgumentException($"Samples of shape [{string.Join(", ", sampleShape)}] have {size:N0} values; a model takes at most {ModelLimits.MaxInputSize:N0} (ModelLimits.MaxInputSize).", nameof(sampleShape));
        }

        inputShape = [.. sampleShape.Select(d => (long)d)];
        LatentSize = (int)size;
    }

    public int LatentSize { get; }

    public IReadOnlyList<long> InputShape => inputShape;

    public Device Device => CPU;

    public TrainingOptions DefaultTraining { get; } = new();

    public Tensor Encode(Tensor images)
    {
        using var scope = NewDisposeScope();
        var shaped = InputShapeRules.Shape(images, InputShape, zeroToOne: false, nameof(images));
        return shaped.reshape(shaped.shape[0], LatentSize).clone().MoveToOuterDisposeScope();
    }

    public Tensor Decode(Tensor codes)
    {
        InputShapeRules.CheckUsable(codes, nameof(codes));
        return codes.clone();
    }

    public Tensor Reconstruct(Tensor images) => Encode(images).reshape(images.shape);

    public Tensor EncodeDataset(Dataset dataset, int batchSize = Trainer.EvaluationBatchSize)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        CheckShape(dataset, nameof(dataset));
        using var data = dataset.OpenReader(withLabels: false);
        using var raw = data.ReadRange(0, data.Count).Inputs;
        return TrainingData.ToFloat(raw);
    }

    /// <summary>Checks that <paramref name="dataset"/>'s samples have this baseline's shape (for a flat shape, any shape of as many values).</summary>
    internal void CheckShape(Dataset dataset, string parameterName) =>
        InputShapeRules.CheckDataset(dataset, InputShape, "the raw-values baseline", parameterName);

    public TrainingHistory Train(Dataset training, TrainingOptions? options = null, TrainingRun? run = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The raw-pixel encoder has no weights to train.");

    public ReconstructionMetrics Evaluate(Dataset data, int batchSize = Trainer.EvaluationBatchSize) => new(0, 0, null, data.Count);

    public void Save(string path) => throw new NotSupportedException("The raw-pixel encoder has no weights to save.");

    public void Dispose()
    {
    }
}
