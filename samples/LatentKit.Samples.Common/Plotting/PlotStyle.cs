using ScottPlot;

namespace LatentKit.Samples.Common.Plotting;

/// <summary>Shared look of the sample plots: picture size, the ten digit colours, and the font.</summary>
public static class PlotStyle
{
    /// <summary>Default picture width in pixels.</summary>
    public const int DefaultWidth = 800;

    /// <summary>Default picture height in pixels.</summary>
    public const int DefaultHeight = 500;

    /// <summary>The colour of the training curve (the first colour of the Category10 palette, a blue).</summary>
    public static Color TrainingColor { get; } = DigitColor(0);

    /// <summary>The colour of the validation curve (the second colour of the Category10 palette, an orange).</summary>
    public static Color ValidationColor { get; } = DigitColor(1);

    /// <summary>The colour of digit 0..9: the ten colours of the Category10 palette, one per digit.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="digit"/> is not 0..9.</exception>
    public static Color DigitColor(int digit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(digit);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(digit, 9);
        return new ScottPlot.Palettes.Category10().GetColor(digit);
    }

    /// <summary>Renders a plot to PNG bytes.</summary>
    internal static byte[] ToPng(Plot plot, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 100);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 100);
        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }
}
