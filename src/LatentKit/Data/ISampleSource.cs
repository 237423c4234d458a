namespace LatentKit;

/// <summary>
/// Samples supplied on demand: the extension point for data that does not fit in memory or is produced by code (files
/// on disk, a database, a decoder in another package). Wrap one in a <see cref="Dataset"/> with
/// <see cref="Dataset.FromSource(ISampleSource, string?)"/>; training, evaluation and encoding then read only the
/// samples of the batch at hand, and views of that dataset (<see cref="Dataset.Subset"/>, <see cref="Dataset.Take"/>,
/// <see cref="Dataset.Shuffle"/>, <see cref="Dataset.TakePerClass"/>, <see cref="Dataset.SplitForValidation"/>) stay
/// streaming: they hold indices into the source, never a copy of its samples.
/// <para>
/// The description (<see cref="Count"/>, <see cref="SampleShape"/>, <see cref="ValueRange"/>, <see cref="ClassCount"/>,
/// <see cref="ClassNames"/>) must not change once the source is wrapped. Every label is read once when the dataset is
/// made (labels take 4 bytes per sample in memory); samples are read when a batch needs them, possibly many times and
/// in any order, from one thread at a time per reader (a source shared by several datasets may be read from several
/// threads at once when those datasets are used at the same time; make <see cref="ReadSample"/> thread-safe or do not
/// share it).
/// </para>
/// </summary>
public interface ISampleSource
{
    /// <summary>Number of samples, 0..<see cref="Dataset.MaxSampleCount"/>.</summary>
    int Count { get; }

    /// <summary>The shape of one sample: <c>[C, H, W]</c> for images, <c>[F]</c> for feature vectors.</summary>
    IReadOnlyList<int> SampleShape { get; }

    /// <summary>
    /// The range of the values <see cref="ReadSample"/> writes: <see cref="SampleRange.ZeroToOne"/> for images (bytes
    /// already scaled by 1/255), <see cref="SampleRange.Unbounded"/> for other features.
    /// </summary>
    SampleRange ValueRange { get; }

    /// <summary>Number of classes, 1..<see cref="Dataset.MaxClassCount"/>; 0 when the samples have no labels.</summary>
    int ClassCount { get; }

    /// <summary>One distinct name per class, or <see langword="null"/> for "0", "1", ... (ignored when <see cref="ClassCount"/> is 0).</summary>
    IReadOnlyList<string>? ClassNames { get; }

    /// <summary>The label of sample <paramref name="index"/>, in [0, <see cref="ClassCount"/>). Called only when <see cref="ClassCount"/> is above 0.</summary>
    /// <param name="index">The sample, in [0, <see cref="Count"/>).</param>
    int GetLabel(int index);

    /// <summary>
    /// Writes sample <paramref name="index"/> into <paramref name="destination"/>: exactly the product of
    /// <see cref="SampleShape"/> values, row-major (<c>C x H x W</c> for images), each finite (and in [0, 1] for
    /// <see cref="SampleRange.ZeroToOne"/>; values are checked and a bad one is reported with the sample's index).
    /// Throw an exception naming the sample (for example a <see cref="DatasetFormatException"/>) when it cannot be read.
    /// </summary>
    /// <param name="index">The sample, in [0, <see cref="Count"/>).</param>
    /// <param name="destination">Where to write the sample's values.</param>
    void ReadSample(int index, Span<float> destination);
}
