namespace LatentKit.Csv;

/// <summary>How <see cref="CsvDataset.Load"/> reads a CSV file of numbers.</summary>
public sealed record CsvLoadOptions
{
    /// <summary>Whether the first line names the columns (default <see langword="true"/>).</summary>
    public bool HasHeader { get; init; } = true;

    /// <summary>The character between cells (default <c>','</c>; for example <c>';'</c> or <c>'\t'</c>).</summary>
    public char Separator { get; init; } = ',';

    /// <summary>The name (in the header) of the label column, or <see langword="null"/>. Give this or <see cref="LabelColumnIndex"/>, not both.</summary>
    public string? LabelColumn { get; init; }

    /// <summary>The 0-based index of the label column, or <see langword="null"/>. Give this or <see cref="LabelColumn"/>, not both.</summary>
    public int? LabelColumnIndex { get; init; }

    /// <summary>
    /// The class names, in class order (optional). A label cell equal to one of them is that class; any other label
    /// cell must be an integer class index below their count. Without class names, label cells that are all integers
    /// 0, 1, ... are class indices (class count: the largest + 1), and otherwise every distinct cell is a class name,
    /// classes numbered in ordinal (culture-independent) sorted order of the names.
    /// </summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>
    /// The shape to give each row's values (default <see langword="null"/>: feature vectors <c>[F]</c>); for example
    /// <c>[1, 8, 8]</c> for 64 pixel columns of 8 x 8 grey images. Its product must equal the number of value columns.
    /// </summary>
    public IReadOnlyList<int>? SampleShape { get; init; }

    /// <summary>
    /// The range of the values (default <see cref="SampleRange.Unbounded"/>). With <see cref="SampleRange.ZeroToOne"/>
    /// every value is checked to lie in [0, 1].
    /// </summary>
    public SampleRange ValueRange { get; init; } = SampleRange.Unbounded;
}
