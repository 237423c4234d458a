namespace LatentKit;

/// <summary>How a batch of MNIST images is shaped as a tensor.</summary>
public enum ImageLayout
{
    /// <summary>One row of 784 pixels per image: <c>N x 784</c>.</summary>
    Flat,

    /// <summary>One single-channel 28 x 28 image per sample: <c>N x 1 x 28 x 28</c>.</summary>
    Image,
}
