namespace LatentKit.Samples.Common.Results;

/// <summary>How a markdown table column aligns its cells.</summary>
public enum ColumnAlignment
{
    /// <summary>Left-aligned (<c>:--</c>).</summary>
    Left,

    /// <summary>Centred (<c>:-:</c>).</summary>
    Center,

    /// <summary>Right-aligned (<c>--:</c>), for numbers.</summary>
    Right,
}
