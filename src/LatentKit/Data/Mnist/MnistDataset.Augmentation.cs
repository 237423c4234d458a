namespace LatentKit;

/// <summary>Training-set augmentation: shifted copies of the images.</summary>
public sealed partial class MnistDataset
{
    /// <summary>Largest shift accepted by <see cref="AugmentWithShifts"/> (MNIST digits sit in a 20 x 20 box centred in 28 x 28).</summary>
    public const int MaxAugmentationShift = 8;

    /// <summary>
    /// The images followed by <paramref name="copies"/> shifted copies of each: every copy moves the whole image by a
    /// random (dx, dy) with each component in [-<paramref name="maxShift"/>, <paramref name="maxShift"/>] and not both 0,
    /// filling the uncovered border with background (0). Labels are kept. The shifts are drawn from
    /// <paramref name="seed"/>, so the same seed gives the same dataset byte for byte. The result holds
    /// <c>Count * (copies + 1)</c> images (the originals first), so training on it takes that much longer per epoch.
    /// </summary>
    /// <param name="maxShift">Largest shift in pixels along each axis, 1..<see cref="MaxAugmentationShift"/> (2 is typical for MNIST).</param>
    /// <param name="copies">
    /// Shifted copies per image, at least 1 and at most <c><see cref="MaxImageCount"/> / Count - 1</c>, so that the
    /// result holds at most <see cref="MaxImageCount"/> images (for the 60,000 training images: at most 15 copies).
    /// </param>
    /// <param name="seed">Seed of the shifts.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxShift"/> or <paramref name="copies"/> is out of range; checked before anything is allocated.</exception>
    public MnistDataset AugmentWithShifts(int maxShift, int copies, int seed)
    {
        if (maxShift < 1 || maxShift > MaxAugmentationShift)
        {
            throw new ArgumentOutOfRangeException(nameof(maxShift), maxShift, $"The largest shift must be 1..{MaxAugmentationShift} pixels.");
        }

        var maxCopies = Count == 0 ? int.MaxValue - 1 : (MaxImageCount / Count) - 1;
        if (copies < 1 || copies > maxCopies)
        {
            throw new ArgumentOutOfRangeException(
                nameof(copies),
                copies,
                $"The number of shifted copies must be 1..{maxCopies} for this dataset of {Count} images: the result holds Count * (copies + 1) images, at most MnistDataset.MaxImageCount ({MaxImageCount}).");
        }

        var total = Count * (copies + 1);
        var newPixels = new byte[(long)total * PixelsPerImage];
        var newLabels = new byte[total];
        Buffer.BlockCopy(pixels, 0, newPixels, 0, pixels.Length);
        Buffer.BlockCopy(labels, 0, newLabels, 0, labels.Length);
        var random = new Random(seed);
        for (var copy = 1; copy <= copies; copy++)
        {
            for (var i = 0; i < Count; i++)
            {
                int dx, dy;
                do
                {
                    dx = random.Next(-maxShift, maxShift + 1);
                    dy = random.Next(-maxShift, maxShift + 1);
                }
                while (dx == 0 && dy == 0);

                var target = (copy * Count) + i;
                newLabels[target] = labels[i];
                Shift(pixels.AsSpan(i * PixelsPerImage, PixelsPerImage), newPixels.AsSpan((int)((long)target * PixelsPerImage), PixelsPerImage), dx, dy);
            }
        }

        return new MnistDataset(newPixels, newLabels, $"{Name} (+{copies} shifted cop{(copies == 1 ? "y" : "ies")}, ±{maxShift} px, seed {seed})", validate: false);
    }

    /// <summary>Writes <paramref name="source"/> moved right by <paramref name="dx"/> and down by <paramref name="dy"/> into the zeroed <paramref name="target"/>.</summary>
    internal static void Shift(ReadOnlySpan<byte> source, Span<byte> target, int dx, int dy)
    {
        var xFrom = Math.Max(0, -dx);
        var xTo = Math.Min(ImageWidth, ImageWidth - dx);
        if (xTo <= xFrom)
        {
            return;
        }

        for (var y = 0; y < ImageHeight; y++)
        {
            var sourceY = y - dy;
            if (sourceY < 0 || sourceY >= ImageHeight)
            {
                continue;
            }

            source.Slice((sourceY * ImageWidth) + xFrom, xTo - xFrom).CopyTo(target.Slice((y * ImageWidth) + xFrom + dx, xTo - xFrom));
        }
    }
}
