namespace LatentKit.Samples.Common.Imaging;

/// <summary>How <see cref="DigitGrid"/> lays out and scales grey-scale images.</summary>
/// <param name="ImageWidth">Width of one source image in pixels (28 for MNIST).</param>
/// <param name="ImageHeight">Height of one source image in pixels (28 for MNIST).</param>
/// <param name="Scale">Each source pixel becomes a <c>Scale x Scale</c> block in the picture (nearest neighbour).</param>
/// <param name="Padding">Pixels of <paramref name="PaddingGrey"/> around and between the images, in picture pixels.</param>
/// <param name="PaddingGrey">Grey level of the padding, 0 (black) to 255 (white).</param>
public sealed record DigitGridOptions(int ImageWidth = 28, int ImageHeight = 28, int Scale = 2, int Padding = 2, byte PaddingGrey = 255)
{
    /// <summary>The MNIST layout: 28 x 28 images, each pixel drawn 2 x 2, 2 white pixels between images.</summary>
    public static DigitGridOptions Mnist { get; } = new();

    /// <summary>Pixels per source image (<see cref="ImageWidth"/> x <see cref="ImageHeight"/>).</summary>
    public int PixelsPerImage => ImageWidth * ImageHeight;

    /// <summary>Throws when a size is not positive or the padding is negative.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is out of range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ImageWidth, nameof(ImageWidth));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ImageHeight, nameof(ImageHeight));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Scale, nameof(Scale));
        ArgumentOutOfRangeException.ThrowIfNegative(Padding, nameof(Padding));
    }
}
