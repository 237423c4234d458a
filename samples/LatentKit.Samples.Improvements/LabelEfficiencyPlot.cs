using LatentKit.Samples.Common.Results;
using LatentKit.Studies;
using ScottPlot;

namespace LatentKit.Samples.Improvements;

/// <summary>Accuracy against labels per class (log scale), one line per representation, error bars = standard deviation over seeds.</summary>
internal static class LabelEfficiencyPlot
{
    public static void SavePng(string path, IReadOnlyList<LabelEfficiencyPoint> points)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var index = 0;
        foreach (var group in points.GroupBy(p => p.Representation))
        {
            var ordered = group.OrderBy(p => p.LabelsPerClass).ToArray();
            var xs = ordered.Select(p => Math.Log10(p.LabelsPerClass)).ToArray();
            var ys = ordered.Select(p => p.MeanAccuracy).ToArray();
            var color = palette.GetColor(index++);
            var scatter = plot.Add.Scatter(xs, ys, color);
            scatter.LegendText = group.Key;
            scatter.MarkerSize = 7;
            if (group.Key == LabelEfficiencyStudy.PixelBaselineName)
            {
                scatter.LinePattern = LinePattern.Dashed;
            }

            var bars = plot.Add.ErrorBar(xs, ys, ordered.Select(p => p.StandardDeviation).ToArray());
            bars.Color = color;
        }

        var counts = points.Select(p => p.LabelsPerClass).Distinct().Order().ToArray();
        plot.Axes.Bottom.SetTicks(counts.Select(c => Math.Log10(c)).ToArray(), counts.Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        plot.Title("Test accuracy against labelled images per class (mean ± sd over seeds)");
        plot.XLabel("labelled images per class (log scale)");
        plot.YLabel("test accuracy");
        plot.ShowLegend(Alignment.LowerRight);
        AtomicFile.WriteAllBytes(path, plot.GetImageBytes(LatentKit.Samples.Common.Plotting.PlotStyle.DefaultWidth, LatentKit.Samples.Common.Plotting.PlotStyle.DefaultHeight, ImageFormat.Png));
    }
}
