using LatentKit.Samples.Common.Plotting;
using ScottPlot;
using PlotStyle = LatentKit.Samples.Common.Plotting.PlotStyle;

namespace LatentKit.Samples.AnomalyDetection;

/// <summary>The sample's plots: ROC curves per digit, score histograms normal vs anomalous, mean AUROC per score kind.</summary>
internal static class AnomalyPlots
{
    public static byte[] RocPng(string title, IReadOnlyList<(int Digit, IReadOnlyList<RocPoint> Curve)> curves)
    {
        var plot = new Plot();
        foreach (var (digit, curve) in curves)
        {
            var line = plot.Add.Scatter(curve.Select(p => p.FalsePositiveRate).ToArray(), curve.Select(p => p.TruePositiveRate).ToArray(), PlotStyle.DigitColor(digit));
            line.LegendText = $"digit {digit}";
            line.MarkerSize = 0;
            line.LineWidth = 2;
        }

        var chance = plot.Add.Line(0, 0, 1, 1);
        chance.LinePattern = LinePattern.Dashed;
        chance.Color = Colors.Gray;
        plot.Title(title);
        plot.XLabel("false-positive rate (normal test images flagged)");
        plot.YLabel("true-positive rate (anomalies flagged)");
        plot.Axes.SetLimits(0, 1, 0, 1.01);
        plot.ShowLegend(Alignment.LowerRight);
        return plot.GetImageBytes(PlotStyle.DefaultWidth, PlotStyle.DefaultHeight, ImageFormat.Png);
    }

    public static byte[] HistogramPng(string title, double[] normal, double[] anomalous, int bins = 60)
    {
        var all = normal.Concat(anomalous).ToArray();
        var low = Quantile(all, 0.001);
        var high = Quantile(all, 0.995);
        if (!(high > low))
        {
            high = low + 1;
        }

        var width = (high - low) / bins;
        var centres = Enumerable.Range(0, bins).Select(b => low + ((b + 0.5) * width)).ToArray();
        var plot = new Plot();
        foreach (var (values, label, colour) in new[] { (normal, "normal", PlotStyle.TrainingColor), (anomalous, "anomalous", PlotStyle.ValidationColor) })
        {
            var counts = new double[bins];
            foreach (var v in values)
            {
                counts[Math.Clamp((int)((v - low) / width), 0, bins - 1)]++;
            }

            var density = counts.Select(c => values.Length == 0 ? 0 : c / values.Length).ToArray();
            var line = plot.Add.Scatter(centres, density, colour);
            line.LegendText = $"{label} ({values.Length})";
            line.MarkerSize = 0;
            line.LineWidth = 2;
            line.FillY = true;
            line.FillYColor = colour.WithAlpha(0.25);
        }

        plot.Title(title);
        plot.XLabel("anomaly score (clipped to the 0.1-99.5 % quantiles)");
        plot.YLabel("fraction of images per bin");
        plot.ShowLegend(Alignment.UpperRight);
        return plot.GetImageBytes(PlotStyle.DefaultWidth, PlotStyle.DefaultHeight, ImageFormat.Png);
    }

    public static byte[] AurocBarsPng(string title, IReadOnlyList<(string Label, double Mean, double Sd)> rows, double reference)
    {
        var plot = new Plot();
        var positions = Enumerable.Range(0, rows.Count).Select(i => (double)i).ToArray();
        var bars = plot.Add.Bars(positions, rows.Select(r => r.Mean).ToArray());
        bars.Color = PlotStyle.TrainingColor;
        var errors = plot.Add.ErrorBar(positions, rows.Select(r => r.Mean).ToArray(), rows.Select(r => r.Sd).ToArray());
        errors.Color = Colors.Black;
        var svdd = plot.Add.HorizontalLine(reference);
        svdd.LinePattern = LinePattern.Dashed;
        svdd.Color = PlotStyle.ValidationColor;
        svdd.LegendText = $"One-Class Deep SVDD ({reference:F3})";
        plot.Axes.Bottom.SetTicks(positions, rows.Select(r => r.Label).ToArray());
        var lowest = rows.Min(r => r.Mean - r.Sd);
        plot.Axes.SetLimits(-0.6, rows.Count - 0.4, Math.Max(0, Math.Min(lowest, reference) - 0.05), 1);
        plot.Title(title);
        plot.YLabel("mean AUROC");
        plot.ShowLegend(Alignment.LowerRight);
        return plot.GetImageBytes(Math.Max(PlotStyle.DefaultWidth, 100 * rows.Count), PlotStyle.DefaultHeight, ImageFormat.Png);
    }

    private static double Quantile(double[] values, double q)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted[(int)Math.Clamp(Math.Round(q * (sorted.Length - 1)), 0, sorted.Length - 1)];
    }
}
