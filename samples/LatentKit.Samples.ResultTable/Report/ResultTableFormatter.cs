using System.Globalization;
using LatentKit.Samples.Common.Results;
using Spectre.Console;

namespace LatentKit.Samples.ResultTable.Report;

/// <summary>
/// Formats scenario outcomes as the original study's result table, with our figures beside the original's: as
/// markdown (for results.md) and as a console table. Losses have 3 decimals, accuracies 3, wall time h:mm:ss.
/// </summary>
public static class ResultTableFormatter
{
    /// <summary>The column headers, in order.</summary>
    public static IReadOnlyList<string> Headers { get; } =
    [
        "#", "scenario", "autoencoder loss", "classifier accuracy", "original loss", "original accuracy", "epochs (AE/classifier)", "wall time", "meets original",
    ];

    /// <summary>The table as markdown, one row per outcome in the given order.</summary>
    public static string ToMarkdown(IEnumerable<ScenarioOutcome> outcomes)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        var table = new MarkdownTable(
            (Headers[0], ColumnAlignment.Center),
            (Headers[1], ColumnAlignment.Left),
            (Headers[2], ColumnAlignment.Right),
            (Headers[3], ColumnAlignment.Right),
            (Headers[4], ColumnAlignment.Right),
            (Headers[5], ColumnAlignment.Right),
            (Headers[6], ColumnAlignment.Center),
            (Headers[7], ColumnAlignment.Right),
            (Headers[8], ColumnAlignment.Center));
        foreach (var outcome in outcomes)
        {
            table.AddRow(Cells(outcome));
        }

        return table.ToString();
    }

    /// <summary>The table for the console.</summary>
    public static Table ToConsoleTable(IEnumerable<ScenarioOutcome> outcomes)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var header in Headers)
        {
            table.AddColumn(new TableColumn(Markup.Escape(header)).RightAligned());
        }

        table.Columns[1].LeftAligned();
        foreach (var outcome in outcomes)
        {
            table.AddRow(Cells(outcome).Select(c => Markup.Escape(c)).ToArray());
        }

        return table;
    }

    /// <summary>The cells of one row, in the order of <see cref="Headers"/>.</summary>
    public static string[] Cells(ScenarioOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        var loss = Number(outcome.AutoencoderLoss);
        if (outcome.KlDivergence is { } kl)
        {
            loss += $" (KL {Number(kl)})";
        }

        return
        [
            outcome.Scenario.ToString(CultureInfo.InvariantCulture),
            outcome.Name,
            loss,
            Number(outcome.ClassifierAccuracy),
            Number(outcome.OriginalLoss) + (outcome.LossComparable ? string.Empty : " (another quantity?)"),
            Number(outcome.OriginalAccuracy),
            string.Create(CultureInfo.InvariantCulture, $"{outcome.AutoencoderEpochs}/{outcome.ClassifierEpochs}"),
            WallTime(outcome.WallTime),
            outcome.MeetsReference ? "✓ yes" : "✗ no",
        ];
    }

    /// <summary>A figure with 3 decimals, invariant culture ("NaN" for NaN).</summary>
    public static string Number(double value) => value.ToString("0.000", CultureInfo.InvariantCulture);

    /// <summary>A duration as h:mm:ss.</summary>
    public static string WallTime(TimeSpan duration) =>
        string.Create(CultureInfo.InvariantCulture, $"{(int)duration.TotalHours}:{duration.Minutes:00}:{duration.Seconds:00}");
}
