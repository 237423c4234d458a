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
    /// <param name="imageA">One sample of the model's input size in any shape (for MNIST: <c>784</c>, <c>1 x 784</c>, <c>28 x 28</c>, <c>1 x 28 x 28</c> or <c>1 x 1 x 28 x 28</c> pixels in [0, 1]).</param>
    /// <param name="imageB">The other sample, shaped likewise.</param>
    /// <param name="steps">Samples in the row, 2 to <see cref="ModelLimits.MaxGeneratedSamples"/>, and at most <see cref="ModelLimits.MaxGeneratedValues"/> values in all.</param>
    /// <returns><c>steps x size</c> values (<c>steps x 784</c> for MNIST); the caller owns the tensor.</returns>
    /// <exception cref="ArgumentException">A sample does not hold exactly the model's input size of values.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is below 2 or above the bounds of <see cref="ModelLimits.MaxGeneratedSamples"/> and <see cref="ModelLimits.MaxGeneratedValues"/> (checked before anything is allocated).</exception>
    public static Tensor Interpolate(this IAutoencoder autoencoder, Tensor imageA, Tensor imageB, int steps)
    {
        ArgumentNullException.ThrowIfNull(autoencoder);
        ArgumentNullException.ThrowIfNull(imageA);
        ArgumentNullException.ThrowIfNull(imageB);
        ModelLimits.CheckGeneratedCount(steps, autoencoder, nameof(steps), minimum: 2);

        using var scope = NewDisposeScope();
        var size = autoencoder.InputShape.Aggregate(1L, (x, y) => x * y);
        var a = autoencoder.Encode(OneImage(imageA, size, autoencoder.InputShape, nameof(imageA)));
        var b = autoencoder.Encode(OneImage(imageB, size, autoencoder.InputShape, nameof(imageB)));
        var weights = linspace(0, 1, steps).unsqueeze(1).to(a.device);
        var codes = a.add((b - a) * weights, Scalars.One);
        return ModelLimits.DecodeInBatches(autoencoder, codes).reshape(steps, size).MoveToOuterDisposeScope();
    }

    private static Tensor OneImage(Tensor image, long size, IReadOnlyList<long> inputShape, string parameter)
    {
        if (image.numel() != size)
        {
            throw new ArgumentException($"Expected one sample of shape [{string.Join(", ", inputShape)}] ({size} values); got shape [{string.Join(", ", image.shape)}].", parameter);
        }

        return image.reshape(1, size);
    }
}
