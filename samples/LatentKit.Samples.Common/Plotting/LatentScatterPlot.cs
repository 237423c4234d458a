using LatentKit.Samples.Common.Results;
using ScottPlot;

namespace LatentKit.Samples.Common.Plotting;

/// <summary>
/// Plots 2-D points (for example latent codes projected by <see cref="Analysis.Pca"/>) as small markers coloured by
/// digit, with a legend naming the digits present. Digits are drawn 0 first and 9 last.
/// </summary>
public static class LatentScatterPlot
{
    /// <summary>Renders the points to PNG bytes.</summary>
    /// <param name="title">The plot's title.</param>
    /// <param name="points">Row-major (x, y) pairs, one per point.</param>
    /// <param name="digits">The digit 0..9 of each point.</param>
    /// <param name="xLabel">Label of the x axis.</param>
    /// <param name="yLabel">Label of the y axis.</param>
    /// <param name="markerSize">Marker size in pixels.</param>
    /// <param name="width">Picture width in pixels (at least 100).</param>
    /// <param name="height">Picture height in pixels (at least 100).</param>
    /// <exception cref="ArgumentException">The counts do not match, there are no points, or a digit is not 0..9.</exception>
    public static byte[] RenderPng(
        string title,
        ReadOnlySpan<float> points,
        ReadOnlySpan<byte> digits,
        string xLabel = "component 1",
        string yLabel = "component 2",
        float markerSize = 3,
        int width = PlotStyle.DefaultWidth,
        int height = PlotStyle.DefaultHeight)
    {
        ArgumentNullException.ThrowIfNull(title);
        if (points.Length != digits.Length * 2)
        {
            throw new ArgumentException($"{points.Length} coordinates are not one (x, y) pair for each of {digits.Length} digits.", nameof(points));
        }

        if (digits.IsEmpty)
        {
            throw new ArgumentException("There are no points to plot.", nameof(points));
        }

        var xs = new List<double>[10];
        var ys = new List<double>[10];
        for (var digit = 0; digit < 10; digit++)
        {
            xs[digit] = [];
            ys[digit] = [];
        }

        for (var i = 0; i < digits.Length; i++)
        {
            var digit = digits[i];
            if (digit > 9)
            {
                throw new ArgumentException($"Point {i} has digit {digit}; digits are 0..9.", nameof(digits));
            }

            xs[digit].Add(points[2 * i]);
            ys[digit].Add(points[(2 * i) + 1]);
        }

        var plot = new Plot();
        for (var digit = 0; digit < 10; digit++)
        {
            if (xs[digit].Count == 0)
            {
                continue;
            }

            var markers = plot.Add.Markers(xs[digit].ToArray(), ys[digit].ToArray(), MarkerShape.FilledCircle, markerSize, PlotStyle.DigitColor(digit));
            markers.LegendText = digit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend(Edge.Right);
        return PlotStyle.ToPng(plot, width, height);
    }

    /// <summary>Renders as <see cref="RenderPng"/> and writes the PNG atomically.</summary>
    public static void SavePng(
        string path,
        string title,
        ReadOnlySpan<float> points,
        ReadOnlySpan<byte> digits,
        string xLabel = "component 1",
        string yLabel = "component 2",
        float markerSize = 3,
        int width = PlotStyle.DefaultWidth,
        int height = PlotStyle.DefaultHeight) =>
        AtomicFile.WriteAllBytes(path, RenderPng(title, points, digits, xLabel, yLabel, markerSize, width, height));
}
