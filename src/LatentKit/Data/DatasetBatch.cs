using TorchSharp;

namespace LatentKit;

/// <summary>
/// One batch of a <see cref="Dataset"/> as TorchSharp tensors. The batch owns its tensors: dispose it (or create it
/// inside a dispose scope) when done with it.
/// </summary>
public sealed class DatasetBatch : IDisposable
{
    internal DatasetBatch(torch.Tensor samples, torch.Tensor? labels, int count)
    {
        Samples = samples;
        Labels = labels;
        Count = count;
    }

    /// <summary>The samples as float32, shaped <c>[N, ..SampleShape]</c> (bytes scaled to [0, 1]).</summary>
    public torch.Tensor Samples { get; }

    /// <summary>The labels as int64, shaped <c>N</c>; <see langword="null"/> when the dataset has no labels.</summary>
    public torch.Tensor? Labels { get; }

    /// <summary>Number of samples in the batch.</summary>
    public int Count { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        Samples.Dispose();
        Labels?.Dispose();
    }
}
