namespace LatentKit;

/// <summary>How <see cref="Dataset.FromIdx"/> reads IDX files.</summary>
public sealed record IdxLoadOptions
{
    /// <summary>
    /// Read samples on demand from a memory-mapped images file instead of loading them all (default
    /// <see langword="false"/>): training then holds a few batches, not the whole file, in memory (the operating
    /// system pages the file in and out as it likes). Needs an uncompressed images file: gzip data cannot be
    /// memory-mapped. Labels are always read into memory (4 bytes per sample).
    /// </summary>
    public bool Streaming { get; init; }

    /// <summary>
    /// Number of classes of the labels (default: the class names' count, or the largest label + 1). A label outside
    /// 0..ClassCount - 1 is an error naming the labels file and the sample.
    /// </summary>
    public int? ClassCount { get; init; }

    /// <summary>One distinct name per class (default "0", "1", ...).</summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>
    /// The range of the values of a float32 images file: <see cref="SampleRange.Unbounded"/> (default) or
    /// <see cref="SampleRange.ZeroToOne"/> (then every value is checked to lie in [0, 1]). Unsigned-byte files are always
    /// scaled to [0, 1].
    /// </summary>
    public SampleRange FloatRange { get; init; } = SampleRange.Unbounded;
}
