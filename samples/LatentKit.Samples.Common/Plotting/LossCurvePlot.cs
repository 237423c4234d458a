using LatentKit.Samples.Common.Results;
using ScottPlot;

namespace LatentKit.Samples.Common.Plotting;

/// <summary>
/// Plots training and validation loss per epoch (epochs numbered from 1 on the x axis) as two lines with markers,
/// titled, with a legend. A NaN loss (an epoch without validation, say) leaves a gap.
/// </summary>
public static class LossCurvePlot
{
    /// <summary>Renders the curves to PNG bytes.</summary>
    /// <param name="title">The plot's title, for example the scenario's name.</param>
    /// <param name="trainingLoss">Training loss of epoch 1, 2, ...; at least one value.</param>
    /// <param name="validationLoss">Validation loss per epoch, or null or empty when there was no validation.</param>
    /// <param name="yLabel">Label of the loss axis.</param>
    /// <param name="width">Picture width in pixels (at least 100).</param>
    /// <param name="height">Picture height in pixels (at least 100).</param>
    /// <param name="validationLabel">The legend text of the second curve (for example "test" when it is the test loss).</param>
    /// <exception cref="ArgumentException">There is no training loss.</exception>
    public static byte[] RenderPng(
        string title,
        IReadOnlyList<double> trainingLoss,
        IReadOnlyList<double>? validationLoss = null,
        string yLabel = "loss",
        int width = PlotStyle.DefaultWidth,
        int height = PlotStyle.DefaultHeight,
        string validationLabel = "validation")
    {
        ArgumentNullException.ThrowIfNull(title);
        ArgumentNullException.ThrowIfNull(trainingLoss);
        if (trainingLoss.Count == 0)
        {
            throw new ArgumentException("A loss curve needs at least one epoch of training loss.", nameof(trainingLoss));
        }

        var plot = new Plot();
        AddCurve(plot, trainingLoss, "training", PlotStyle.TrainingColor);
        if (validationLoss is { Count: > 0 })
        {
            AddCurve(plot, validationLoss, validationLabel, PlotStyle.ValidationColor);
        }

        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.UpperRight);
        var epochs = Math.Max(trainingLoss.Count, validationLoss?.Count ?? 0);
        plot.Axes.SetLimitsX(0.5, epochs + 0.5);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        return PlotStyle.ToPng(plot, width, height);
    }

    /// <summary>Renders as <see cref="RenderPng"/> and writes the PNG atomically.</summary>
    public static void SavePng(
        string path,
        string title,
        IReadOnlyList<double> trainingLoss,
        IReadOnlyList<double>? validationLoss = null,
        string yLabel = "loss",
        int width = PlotStyle.DefaultWidth,
        int height = PlotStyle.DefaultHeight,
        string validationLabel = "validation") =>
        AtomicFile.WriteAllBytes(path, RenderPng(title, trainingLoss, validationLoss, yLabel, width, height, validationLabel));

    private static void AddCurve(Plot plot, IReadOnlyList<double> loss, string label, Color color)
    {
        var xs = Enumerable.Range(1, loss.Count).Select(e => (double)e).ToArray();
        var scatter = plot.Add.Scatter(xs, loss.ToArray(), color);
        scatter.LegendText = label;
        scatter.LineWidth = 2;
        scatter.MarkerSize = 6;
    }
}
