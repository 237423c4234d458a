using System.Globalization;
using System.Text;
using LatentKit.Samples.Common.Results;
using LatentKit.Studies;

namespace LatentKit.Samples.Improvements;

/// <summary>The markdown report of a run.</summary>
internal static class ResultsMarkdown
{
    public static string Render(ImprovementsSettings settings, int trainCount, int testCount, TimeSpan elapsed, IReadOnlyList<AutoencoderRow> autoencoders, IReadOnlyList<ImprovementRow> rows, LabelEfficiencyResult? labelEfficiency)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Run: study {settings.Study}{(settings.Quick ? ", quick" : string.Empty)}, {trainCount} training / {testCount} test images, {Environment.ProcessorCount} CPU cores, {elapsed.TotalMinutes:F1} min in all.");
        text.AppendLine();
        if (autoencoders.Count > 0)
        {
            var table = new MarkdownTable(("autoencoder", ColumnAlignment.Left), ("architecture", ColumnAlignment.Left), ("epochs", ColumnAlignment.Right), ("test BCE", ColumnAlignment.Right), ("time (s)", ColumnAlignment.Right));
            foreach (var a in autoencoders)
            {
                table.AddRow(a.Name, a.Description, a.Epochs.ToString(CultureInfo.InvariantCulture), F(a.TestBce), a.Seconds.ToString("F0", CultureInfo.InvariantCulture));
            }

            text.AppendLine("### Autoencoders").AppendLine().Append(table).AppendLine();
        }

        if (rows.Count > 0)
        {
            foreach (var group in rows.GroupBy(r => r.Group))
            {
                var table = new MarkdownTable(("encoder", ColumnAlignment.Left), ("idea", ColumnAlignment.Left), ("head", ColumnAlignment.Left), ("training", ColumnAlignment.Left), ("encoder weights", ColumnAlignment.Left), ("test accuracy", ColumnAlignment.Right), ("time (s)", ColumnAlignment.Right));
                foreach (var r in group)
                {
                    table.AddRow(r.Encoder, r.Idea, r.Head, r.Training, r.EncoderMode, F(r.Accuracy), r.Seconds.ToString("F0", CultureInfo.InvariantCulture));
                }

                text.AppendLine(CultureInfo.InvariantCulture, $"### {group.Key}").AppendLine().Append(table).AppendLine();
            }
        }

        if (labelEfficiency is not null)
        {
            var counts = labelEfficiency.Points.Select(p => p.LabelsPerClass).Distinct().Order().ToArray();
            var columns = new List<(string, ColumnAlignment)> { ("representation", ColumnAlignment.Left) };
            columns.AddRange(counts.Select(c => ($"{c} / class", ColumnAlignment.Right)));
            var table = new MarkdownTable([.. columns]);
            foreach (var rep in labelEfficiency.Points.Select(p => p.Representation).Distinct())
            {
                table.AddRow([rep, .. counts.Select(c => labelEfficiency.Points.Single(p => p.Representation == rep && p.LabelsPerClass == c)).Select(p => $"{F(p.MeanAccuracy)} ± {F(p.StandardDeviation)}")]);
            }

            var seeds = labelEfficiency.Points.Max(p => p.Seeds);
            text.AppendLine("### Label efficiency").AppendLine()
                .AppendLine(CultureInfo.InvariantCulture, $"Test accuracy, mean ± sample standard deviation over {seeds} seeds (each seed picks other labelled images).")
                .AppendLine().Append(table).AppendLine();
        }

        return text.ToString();
    }

    private static string F(double value) => value.ToString("F4", CultureInfo.InvariantCulture);
}
