using static TorchSharp.torch;

namespace LatentKit;

/// <summary>
/// The one rule for what a model with input shape <c>InputShape</c> accepts: tensors <c>N x size</c> or
/// <c>N x InputShape</c> (for a flat input <c>[n]</c>, also <c>N x C x H x W</c> images of <c>n</c> values), and datasets
/// whose samples have that shape (for a flat input, any shape of <c>n</c> values).
/// </summary>
internal static class InputShapeRules
{
    /// <summary>
    /// <paramref name="images"/> checked (shape, element type, and values: see <see cref="CheckValues"/>) and reshaped
    /// to float32 <c>N x InputShape</c>, on their own device.
    /// </summary>
    /// <exception cref="ArgumentException">The shape or the element type does not fit (the message says which shapes do), or a value is not finite or, with <paramref name="zeroToOne"/>, outside [0, 1].</exception>
    public static Tensor Shape(Tensor images, IReadOnlyList<long> inputShape, bool zeroToOne, string parameterName)
    {
        Check(images, inputShape, parameterName);
        var shaped = images.reshape([images.shape[0], .. inputShape]).to(ScalarType.Float32);
        CheckValues(shaped, zeroToOne, parameterName);
        return shaped;
    }

    /// <summary>
    /// The values rule of tensor inputs, as datasets and the array methods have it: every value finite, and with
    /// <paramref name="zeroToOne"/> (a model that reads pixels in [0, 1]: sigmoid output and binary cross-entropy) in
    /// [0, 1], so that raw 0..255 pixels are refused instead of encoded. One pass (the minimum and the maximum, which
    /// NaN propagates into).
    /// </summary>
    /// <exception cref="ArgumentException">A value is NaN or infinite, or outside [0, 1] when it must not be; the message gives the smallest and largest value.</exception>
    public static void CheckValues(Tensor values, bool zeroToOne, string parameterName)
    {
        if (values.numel() == 0)
        {
            return;
        }

        using var scope = NewDisposeScope();
        var range = stack([values.min(), values.max()]).to(ScalarType.Float64).cpu().data<double>().ToArray();
        var (min, max) = (range[0], range[1]);
        if (!double.IsFinite(min) || !double.IsFinite(max))
        {
            throw new ArgumentException(
                $"Every value of {parameterName} must be finite; it holds {(double.IsNaN(min) || double.IsNaN(max) ? "NaN" : $"values from {Format(min)} to {Format(max)}")}.",
                parameterName);
        }

        if (zeroToOne && (min < 0 || max > 1))
        {
            throw new ArgumentException(
                $"{parameterName} holds values from {Format(min)} to {Format(max)}, but this model reads values in [0, 1] (it was built for data in [0, 1]: sigmoid output, binary cross-entropy); scale byte pixels by 1/255.",
                parameterName);
        }
    }

    private static string Format(double value) => value.ToString("G6", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Checks <paramref name="images"/> as <see cref="Shape"/> does, without reshaping or copying it.</summary>
    /// <exception cref="ArgumentException">The tensor was disposed, or its shape or element type does not fit; the message says which shapes do.</exception>
    public static void Check(Tensor images, IReadOnlyList<long> inputShape, string parameterName)
    {
        CheckUsable(images, parameterName);
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
    }

    /// <summary>
    /// The rule every tensor entry point applies before reading a tensor: it is not null and not disposed (TorchSharp
    /// would throw "Tensor invalid -- empty handle" naming nothing).
    /// </summary>
    /// <exception cref="ArgumentNullException">The tensor is null.</exception>
    /// <exception cref="ArgumentException">The tensor was disposed; the message says to pass a live tensor.</exception>
    public static void CheckUsable(Tensor tensor, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(tensor, parameterName);
        if (tensor.IsInvalid)
        {
            throw new ArgumentException(
                $"The tensor given as {parameterName} has been disposed (by a using block, Dispose or a dispose scope): pass a tensor that is still alive, for example one created or moved out of the scope before the call.",
                parameterName);
        }
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
