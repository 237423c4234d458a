using TorchSharp;

namespace LatentKit;

/// <summary>
/// One batch of images and labels as TorchSharp tensors. The batch owns its tensors: dispose it (or create it inside a
/// dispose scope) when done with it.
/// </summary>
public sealed class MnistBatch : IDisposable
{
    internal MnistBatch(torch.Tensor images, torch.Tensor labels, int count)
    {
        Images = images;
        Labels = labels;
        Count = count;
    }

    /// <summary>Pixels as float32 in [0, 1], shaped <c>N x 784</c> or <c>N x 1 x 28 x 28</c> (see <see cref="ImageLayout"/>).</summary>
    public torch.Tensor Images { get; }

    /// <summary>Digit labels 0..9 as int64, shaped <c>N</c>.</summary>
    public torch.Tensor Labels { get; }

    /// <summary>Number of images in the batch.</summary>
    public int Count { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
