using System.Globalization;
using System.Text;
using LatentKit.Samples.Common.Results;

namespace LatentKit.Samples.AnomalyDetection;

/// <summary>results.md: the AUROC table beside Deep SVDD, the times and the pictures.</summary>
internal static class AnomalyMarkdown
{
    public static string Render(AnomalySettings settings, int testImages, TimeSpan elapsed, IReadOnlyList<Summary> summaries, IReadOnlyList<RunTime> times, IReadOnlyList<string> pictures)
    {
        var text = new StringBuilder();
        text.Append("# One-class MNIST with LatentKit\n\n");
        text.Append(CultureInfo.InvariantCulture, $"Protocol of Ruff et al. (ICML 2018): for each digit, autoencoders are trained on that digit's training images only; all {testImages} test images are scored, that digit normal and the nine others anomalous. AUROC in %, mean over {settings.Seeds} seed(s); the last column is the mean over the digits, ± its standard deviation over seeds. Pixels are scaled to [0, 1] (no global contrast normalisation).{(settings.Quick ? " **Quick run: 300 training images per digit, 2,000 test images, 2 epochs; not the benchmark.**" : string.Empty)}\n\n");
        var columns = new List<(string, ColumnAlignment)> { ("model / score", ColumnAlignment.Left) };
        columns.AddRange(settings.Digits.Select(d => (d.ToString(CultureInfo.InvariantCulture), ColumnAlignment.Right)));
        columns.Add(("mean ± sd", ColumnAlignment.Right));
        var table = new MarkdownTable([.. columns]);
        table.AddRow([.. new[] { "One-Class Deep SVDD (Ruff et al. 2018)" }, .. settings.Digits.Select(d => F1(AnomalyRunner.DeepSvdd[d])), F1(settings.Digits.Average(d => AnomalyRunner.DeepSvdd[d]))]);
        foreach (var s in summaries.OrderByDescending(s => s.Mean))
        {
            table.AddRow([.. new[] { $"{s.Model} / {s.Score}" }, .. settings.Digits.Select(d => F1(100 * s.PerDigit[d])), $"{F1(100 * s.Mean)} ± {F1(100 * s.MeanSd)}"]);
        }

        text.Append(table).Append('\n');
        text.Append(CultureInfo.InvariantCulture, $"Deep SVDD source: {AnomalyRunner.DeepSvddSource} (reported as mean over seeds; their preprocessing: global contrast normalisation and min-max scaling per class).\n\n");
        text.Append("## Time\n\n");
        var timeTable = new MarkdownTable(("model", ColumnAlignment.Left), ("epochs", ColumnAlignment.Right), ("runs", ColumnAlignment.Right), ("training s / run", ColumnAlignment.Right), ("scoring s / run", ColumnAlignment.Right));
        foreach (var g in times.GroupBy(t => t.Model))
        {
            timeTable.AddRow(g.Key, g.First().Epochs.ToString(CultureInfo.InvariantCulture), g.Count().ToString(CultureInfo.InvariantCulture), F1(g.Average(t => t.TrainSeconds)), F1(g.Average(t => t.ScoreSeconds)));
        }

        text.Append(timeTable).Append('\n');
        text.Append(CultureInfo.InvariantCulture, $"Whole run: {elapsed.TotalMinutes:F1} min on {Environment.ProcessorCount} cores{(settings.Threads is { } t ? $", {t} TorchSharp threads" : string.Empty)}.\n\n");
        text.Append("## Pictures\n\n");
        foreach (var p in pictures)
        {
            text.Append(CultureInfo.InvariantCulture, $"![{p}]({p})\n");
        }

        return text.ToString();
    }

    private static string F1(double v) => double.IsNaN(v) ? "-" : v.ToString("F1", CultureInfo.InvariantCulture);
}
