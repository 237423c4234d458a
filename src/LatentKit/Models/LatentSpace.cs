using static TorchSharp.torch;

namespace LatentKit;

/// <summary>Walks in an autoencoder's latent space.</summary>
public static class LatentSpace
{
    /// <summary>
    /// Decodes <paramref name="steps"/> codes evenly spaced on the straight line from the code of
    /// <paramref name="imageA"/> to the code of <paramref name="imageB"/> (both ends included): a row of images that
    /// morphs one digit into the other. For a variational autoencoder the codes are the means.
    /// </summary>
    /// <param name="autoencoder">A trained autoencoder.</param>
    /// <param name="imageA">One image: <c>784</c>, <c>1 x 784</c>, <c>28 x 28</c>, <c>1 x 28 x 28</c> or <c>1 x 1 x 28 x 28</c> pixels in [0, 1].</param>
    /// <param name="imageB">The other image, shaped likewise.</param>
    /// <param name="steps">Images in the row, at least 2.</param>
    /// <returns><c>steps x 784</c> pixels in [0, 1]; the caller owns the tensor.</returns>
    /// <exception cref="ArgumentException">An image does not hold exactly 784 pixels.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is below 2.</exception>
    public static Tensor Interpolate(this IAutoencoder autoencoder, Tensor imageA, Tensor imageB, int steps)
    {
        ArgumentNullException.ThrowIfNull(autoencoder);
        ArgumentNullException.ThrowIfNull(imageA);
        ArgumentNullException.ThrowIfNull(imageB);
        if (steps < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(steps), steps, "An interpolation needs at least 2 steps (both ends).");
        }

        using var scope = NewDisposeScope();
        var a = autoencoder.Encode(OneImage(imageA, nameof(imageA)));
        var b = autoencoder.Encode(OneImage(imageB, nameof(imageB)));
        var weights = linspace(0, 1, steps).unsqueeze(1).to(a.device);
        var codes = a.add((b - a) * weights, Scalars.One);
        return autoencoder.Decode(codes).reshape(steps, 784).MoveToOuterDisposeScope();
    }

    private static Tensor OneImage(Tensor image, string parameter)
    {
        if (image.numel() != 784)
        {
            throw new ArgumentException($"Expected one 28 x 28 image (784 pixels); got shape [{string.Join(", ", image.shape)}].", parameter);
        }

        return image.reshape(1, 784);
    }
}
