using System.Diagnostics;
using TorchSharp;

namespace LatentKit;

/// <summary>
/// An MNIST-format dataset held in memory: 28 x 28 grey-scale images as bytes (784 bytes per image, 47 MB for the
/// 60,000 training images) and their digit labels 0..9. Pixels stay bytes; batches become float32 tensors in [0, 1]
/// only when asked for. Instances are immutable; subsets copy the selected images. An <see cref="Dataset"/> of shape
/// <c>[1, 28, 28]</c> with 10 classes; its view operations return <see cref="MnistDataset"/>s.
/// </summary>
public sealed partial class MnistDataset : Dataset
{
    /// <summary>Height of an image in pixels.</summary>
    public const int ImageHeight = 28;

    /// <summary>Width of an image in pixels.</summary>
    public const int ImageWidth = 28;

    /// <summary>Pixels per image (28 x 28).</summary>
    public const int PixelsPerImage = ImageHeight * ImageWidth;

    /// <summary>Number of digit classes (0..9).</summary>
    public new const int ClassCount = 10;

    private static readonly int[] MnistShape = [1, ImageHeight, ImageWidth];

    /// <summary>
    /// The most images LatentKit reads from an IDX file or makes by augmentation: 1,000,000 (784 MB of pixels; the
    /// largest MNIST-format datasets, such as EMNIST ByClass with 697,932 training images, fit). A header announcing more
    /// is rejected before anything is allocated.
    /// </summary>
    public const int MaxImageCount = 1_000_000;

    private readonly byte[] pixels;
    private readonly byte[] labels;
    private readonly SampleStore store;

    /// <summary>
    /// Creates a dataset from raw pixels (row-major, 784 bytes per image, 0 = background, 255 = ink) and labels.
    /// The arrays are copied.
    /// </summary>
    /// <param name="pixels">Pixels of all images, <c>labels.Length * 784</c> bytes.</param>
    /// <param name="labels">One label 0..9 per image.</param>
    /// <param name="name">A name for messages and logs (for example the file it came from).</param>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    /// <exception cref="ArgumentException">The pixel count does not match the label count, or a label is above 9.</exception>
    public MnistDataset(ReadOnlySpan<byte> pixels, ReadOnlySpan<byte> labels, string name = "in-memory")
        : this(pixels.ToArray(), labels.ToArray(), name, validate: true)
    {
    }

    private MnistDataset(byte[] pixels, byte[] labels, string name, bool validate)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (validate)
        {
            if ((long)labels.Length * PixelsPerImage != pixels.Length)
            {
                throw new ArgumentException(
                    $"Dataset '{name}': {pixels.Length} pixel bytes do not make {labels.Length} images of {PixelsPerImage} pixels (expected {(long)labels.Length * PixelsPerImage}).",
                    nameof(pixels));
            }

            var bad = Array.FindIndex(labels, l => l >= ClassCount);
            if (bad >= 0)
            {
                throw new ArgumentException($"Dataset '{name}': label {labels[bad]} at index {bad} is not a digit 0..9.", nameof(labels));
            }
        }

        this.pixels = pixels;
        this.labels = labels;
        store = SampleStore.WrapBytes(pixels, MnistShape, Array.ConvertAll(labels, l => (int)l), ClassCount, null);
        Name = name;
    }

    private MnistDataset(SampleStore store, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        this.store = store;
        pixels = store.Bytes!;
        labels = Array.ConvertAll(store.Labels!, l => (byte)l);
        Name = name;
    }

    /// <summary>Wraps arrays that the caller has already validated and will not change (no copy).</summary>
    internal static MnistDataset WrapValidated(byte[] pixels, byte[] labels, string name) => new(pixels, labels, name, validate: false);

    /// <summary>A name for messages and logs: the file or source it came from, or how it was derived.</summary>
    public override string Name { get; }

    /// <summary>Number of images.</summary>
    public override int Count => labels.Length;

    /// <inheritdoc />
    internal override SampleStore Store => store;

    /// <summary>All pixels, 784 bytes per image, row-major.</summary>
    public ReadOnlyMemory<byte> Pixels => pixels;

    /// <summary>All labels, one digit 0..9 per image.</summary>
    public ReadOnlyMemory<byte> Labels => labels;

    /// <summary>The 784 pixels of one image.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not in [0, <see cref="Count"/>).</exception>
    public ReadOnlySpan<byte> GetImage(int index)
    {
        CheckIndex(index, nameof(index));
        return pixels.AsSpan((int)((long)index * PixelsPerImage), PixelsPerImage);
    }

    /// <summary>A new dataset of the images at the given indices, in that order (indices may repeat).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is not in [0, <see cref="Count"/>).</exception>
    public override MnistDataset Subset(IReadOnlyList<int> indices, string? name = null) =>
        new(store.Subset(indices, Name, nameof(indices)), name ?? $"{Name} (subset of {indices?.Count})");

    /// <summary>The first <paramref name="count"/> images (all of them when <paramref name="count"/> is at least <see cref="Count"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    public override MnistDataset Take(int count) => (MnistDataset)base.Take(count);

    /// <summary>
    /// A balanced subset: <paramref name="countPerClass"/> images of each digit, chosen at random with
    /// <paramref name="seed"/> (the same seed chooses the same images), returned in shuffled order.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="countPerClass"/> is not positive.</exception>
    /// <exception cref="ArgumentException">A digit has fewer than <paramref name="countPerClass"/> images.</exception>
    public override MnistDataset TakePerClass(int countPerClass, int seed) => (MnistDataset)base.TakePerClass(countPerClass, seed);

    /// <summary>All images in an order shuffled by <paramref name="seed"/> (the same seed gives the same order).</summary>
    public override MnistDataset Shuffle(int seed) => (MnistDataset)base.Shuffle(seed);

    /// <summary>
    /// Splits the dataset at random into a training part and a validation part of
    /// <c>round(Count * validationFraction)</c> images; the same seed gives the same split.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="validationFraction"/> is not in (0, 1), or leaves a part empty.</exception>
    public new (MnistDataset Training, MnistDataset Validation) SplitForValidation(double validationFraction, int seed)
    {
        var (training, validation) = SplitIndices(validationFraction, seed);
        return (Subset(training, $"{Name} (training part, seed {seed})"), Subset(validation, $"{Name} (validation part, seed {seed})"));
    }

    /// <summary>
    /// Images <paramref name="start"/> .. <paramref name="start"/> + <paramref name="count"/> - 1 as a float32 tensor in
    /// [0, 1], shaped by <paramref name="layout"/>. The caller owns (and disposes) the tensor.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the dataset.</exception>
    public torch.Tensor ImagesToTensor(int start, int count, ImageLayout layout = ImageLayout.Flat, torch.Device? device = null)
    {
        CheckLayout(layout);
        CheckRange(start, count);
        return PixelsToTensor(pixels.AsSpan((int)((long)start * PixelsPerImage), count * PixelsPerImage), count, layout, device);
    }

    /// <summary>All images as one float32 tensor in [0, 1], shaped by <paramref name="layout"/>. The caller owns the tensor.</summary>
    public torch.Tensor ImagesToTensor(ImageLayout layout = ImageLayout.Flat, torch.Device? device = null) => ImagesToTensor(0, Count, layout, device);

    /// <summary>The images at <paramref name="indices"/> as one float32 tensor in [0, 1]. The caller owns the tensor.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is not in [0, <see cref="Count"/>).</exception>
    public torch.Tensor ImagesToTensor(ReadOnlySpan<int> indices, ImageLayout layout = ImageLayout.Flat, torch.Device? device = null)
    {
        CheckLayout(layout);
        foreach (var index in indices)
        {
            CheckIndex(index, nameof(indices));
        }

        var gathered = new byte[checked(indices.Length * PixelsPerImage)];
        for (var i = 0; i < indices.Length; i++)
        {
            Array.Copy(pixels, (long)indices[i] * PixelsPerImage, gathered, (long)i * PixelsPerImage, PixelsPerImage);
        }

        return PixelsToTensor(gathered, indices.Length, layout, device);
    }

    /// <summary>Labels <paramref name="start"/> .. <paramref name="start"/> + <paramref name="count"/> - 1 as an int64 tensor. The caller owns it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the dataset.</exception>
    public torch.Tensor LabelsToTensor(int start, int count, torch.Device? device = null)
    {
        CheckRange(start, count);
        return LabelsToTensor(labels.AsSpan(start, count), device);
    }

    /// <summary>All labels as an int64 tensor. The caller owns it.</summary>
    public torch.Tensor LabelsToTensor(torch.Device? device = null) => LabelsToTensor(0, Count, device);

    /// <summary>
    /// The dataset in batches of <paramref name="batchSize"/> (the last one may be smaller), in order or shuffled by
    /// <paramref name="seed"/>. Each batch owns its tensors; dispose it when done.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is not positive.</exception>
    public IEnumerable<MnistBatch> GetBatches(int batchSize, bool shuffle = false, int seed = 0, ImageLayout layout = ImageLayout.Flat, torch.Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        CheckLayout(layout);
        return Batches(batchSize, shuffle ? ShuffledIndices(Count, seed) : null, layout, device);
    }

    /// <summary>Refuses an <see cref="ImageLayout"/> that is not one of its named values, before any work (the iterator of <see cref="GetBatches"/> would refuse it only when first read).</summary>
    private static void CheckLayout(ImageLayout layout)
    {
        if (!Enum.IsDefined(layout))
        {
            throw new ArgumentOutOfRangeException(nameof(layout), layout, $"Unknown image layout {(int)layout}; use ImageLayout.Flat or ImageLayout.Image.");
        }
    }

    private IEnumerable<MnistBatch> Batches(int batchSize, int[]? order, ImageLayout layout, torch.Device? device)
    {
        for (var start = 0; start < Count; start += batchSize)
        {
            var count = Math.Min(batchSize, Count - start);
            if (order is null)
            {
                yield return new MnistBatch(ImagesToTensor(start, count, layout, device), LabelsToTensor(start, count, device), count);
            }
            else
            {
                var indices = order.AsSpan(start, count);
                var batchLabels = new byte[count];
                for (var i = 0; i < count; i++)
                {
                    batchLabels[i] = labels[indices[i]];
                }

                yield return new MnistBatch(ImagesToTensor(indices, layout, device), LabelsToTensor(batchLabels, device), count);
            }
        }
    }

    private static torch.Tensor PixelsToTensor(ReadOnlySpan<byte> source, int count, ImageLayout layout, torch.Device? device)
    {
        long[] shape = layout switch
        {
            ImageLayout.Flat => [count, PixelsPerImage],
            ImageLayout.Image => [count, 1, ImageHeight, ImageWidth],
            _ => throw new UnreachableException($"ImageLayout {layout} passed CheckLayout."),
        };

        // The bytes go to native memory as uint8 and are scaled there: no per-pixel managed work.
        using var bytes = NativeTensors.CopyOf(source, shape, torch.ScalarType.Byte);
        using var floats = bytes.to_type(torch.ScalarType.Float32);
        var tensor = floats.div(Scalars.ByteScale);
        return device is null || device.type == DeviceType.CPU ? tensor : MoveTo(tensor, device);
    }

    private static torch.Tensor LabelsToTensor(ReadOnlySpan<byte> source, torch.Device? device)
    {
        var values = new long[source.Length];
        for (var i = 0; i < source.Length; i++)
        {
            values[i] = source[i];
        }

        // The array is this call's own: the tensor keeps it instead of a copy.
        var tensor = NativeTensors.Over(values, [source.Length]);
        return device is null || device.type == DeviceType.CPU ? tensor : MoveTo(tensor, device);
    }

    private static torch.Tensor MoveTo(torch.Tensor tensor, torch.Device device)
    {
        using (tensor)
        {
            return tensor.to(device);
        }
    }

    private void CheckIndex(int index, string parameter) => store.CheckIndex(index, Name, parameter);

    private void CheckRange(int start, int count)
    {
        if (start < 0 || count < 0 || (long)start + count > Count)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"Images {start}..{(long)start + count - 1} are outside dataset '{Name}' of {Count} images.");
        }
    }
}
