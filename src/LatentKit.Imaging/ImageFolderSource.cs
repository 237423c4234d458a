namespace LatentKit.Imaging;

/// <summary>
/// The images of a folder, decoded one at a time when a batch needs them (<see cref="ImageFolderOptions.Streaming"/>).
/// Holds only the file names and labels. Thread-safe: each read opens its own decoder.
/// </summary>
internal sealed class ImageFolderSource(string[] files, int[] labels, IReadOnlyList<string>? classNames, ImageFolder.Layout layout) : ISampleSource
{
    public int Count => files.Length;

    public IReadOnlyList<int> SampleShape { get; } = [layout.Channels, layout.Height, layout.Width];

    public SampleRange ValueRange => SampleRange.ZeroToOne;

    public int ClassCount => classNames?.Count ?? 0;

    public IReadOnlyList<string>? ClassNames => classNames;

    public int GetLabel(int index) => labels[index];

    public void ReadSample(int index, Span<float> destination)
    {
        var size = layout.Channels * layout.Height * layout.Width;
        var bytes = size <= 1 << 16 ? stackalloc byte[size] : new byte[size];
        ImageFolder.Decode(files[index], layout, bytes, index);
        for (var i = 0; i < size; i++)
        {
            // The same float an in-memory byte dataset gives (byte / 255 in float32).
            destination[i] = bytes[i] / 255f;
        }
    }
}
