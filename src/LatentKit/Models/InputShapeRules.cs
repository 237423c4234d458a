using static TorchSharp.torch;

namespace LatentKit;

/// <summary>
/// The one rule for what a model with input shape <c>InputShape</c> accepts: tensors <c>N x size</c> or
/// <c>N x InputShape</c> (for a flat input <c>[n]</c>, also <c>N x C x H x W</c> images of <c>n</c> values), and datasets
/// whose samples have that shape (for a flat input, any shape of <c>n</c> values).
/// </summary>
internal static class InputShapeRules
{
    /// <summary><paramref name="images"/> checked and reshaped to float32 <c>N x InputShape</c>, on their own device.</summary>
    /// <exception cref="ArgumentException">The shape or the element type does not fit; the message says which shapes do.</exception>
    public static Tensor Shape(Tensor images, IReadOnlyList<long> inputShape, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(images, parameterName);
        var shape = images.shape;
        var size = inputShape.Aggregate(1L, (a, b) => a * b);
        var ok = (shape.Length == 2 && shape[1] == size)
            || (inputShape.Count == 1
                ? shape.Length == 4 && shape[1] * shape[2] * shape[3] == size
                : shape.Length == inputShape.Count + 1 && shape.Skip(1).SequenceEqual(inputShape));
        if (!ok)
        {
            var imageShape = inputShape.Count == 1 ? $"N x C x H x W with C x H x W = {size}" : $"N x {string.Join(" x ", inputShape)}";
            throw new ArgumentException(
                $"Images must be shaped N x {size} or {imageShape}; got [{string.Join(", ", shape)}].",
                parameterName);
        }

        if (!images.is_floating_point())
        {
            throw new ArgumentException($"Images must be floating-point pixels in [0, 1]; got {images.dtype}.", parameterName);
        }

        return images.reshape([shape[0], .. inputShape]).to(ScalarType.Float32);
    }

    /// <summary>Checks that <paramref name="dataset"/>'s samples fit <paramref name="inputShape"/>.</summary>
    /// <exception cref="ArgumentException">The shapes differ; the message names both and <paramref name="modelName"/>.</exception>
    public static void CheckDataset(Dataset dataset, IReadOnlyList<long> inputShape, string modelName, string parameterName)
    {
        var fits = inputShape.Count == 1
            ? dataset.SampleSize == inputShape[0]
            : dataset.SampleShape.SequenceEqual(inputShape.Select(d => (int)d));
        if (!fits)
        {
            throw new ArgumentException(
                $"Dataset '{dataset.Name}' has samples of shape [{string.Join(", ", dataset.SampleShape)}], but {modelName} takes input of shape [{string.Join(", ", inputShape)}]; build the model for the data's shape.",
                parameterName);
        }
    }
}
