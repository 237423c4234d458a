using System.Collections.Concurrent;
using Spectre.Console;

namespace LatentKit.Samples.ResultTable.ConsoleUi;

/// <summary>
/// Shows downloads as progress bars, one per item, in bytes: receives <see cref="DownloadUpdate"/> reports from any
/// thread, and writes one line per finished item (so a log without live bars still shows every download).
/// Reports of the MNIST loader are mapped to <see cref="DownloadUpdate"/> by the runner.
/// </summary>
public sealed class DownloadProgressBars : IProgress<DownloadUpdate>
{
    private readonly ProgressContext context;
    private readonly IAnsiConsole console;
    private readonly ConcurrentDictionary<string, ProgressTask> bars = new(StringComparer.Ordinal);

    /// <summary>Creates the adapter on a live progress display (see <see cref="ProgressDisplay"/>).</summary>
    /// <param name="context">The live display.</param>
    /// <param name="console">The console the display runs on, for the line per finished item.</param>
    public DownloadProgressBars(ProgressContext context, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(console);
        this.context = context;
        this.console = console;
    }

    /// <summary>The bars created so far, by item.</summary>
    internal IReadOnlyDictionary<string, ProgressTask> Bars => bars;

    /// <inheritdoc/>
    public void Report(DownloadUpdate value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var bar = bars.GetOrAdd(value.Item, item => context.AddTask(Describe(value), autoStart: true, maxValue: Math.Max(1, value.BytesTotal ?? 1)));
        lock (bar)
        {
            if (value.BytesTotal is { } total && total > 0)
            {
                bar.IsIndeterminate = false;
                bar.MaxValue = total;
            }
            else if (!value.Completed)
            {
                bar.IsIndeterminate = true;
            }

            bar.Description = Describe(value);
            if (value.Completed)
            {
                var first = !bar.IsFinished;
                bar.IsIndeterminate = false;
                bar.Value = bar.MaxValue;
                bar.StopTask();
                if (first)
                {
                    console.WriteLine($"done: {Plain(value)}");
                }
            }
            else
            {
                bar.Value = Math.Min(value.BytesReceived, bar.MaxValue);
            }
        }
    }

    /// <summary>The bar's label: item, source, and bytes received of total.</summary>
    internal static string Describe(DownloadUpdate value) => Markup.Escape(Plain(value));

    /// <summary>The label without markup.</summary>
    internal static string Plain(DownloadUpdate value)
    {
        var source = value.Source is null ? string.Empty : $" from {value.Source}";
        var amount = value.BytesTotal is { } total ? $"{Size(value.BytesReceived)} of {Size(total)}" : Size(value.BytesReceived);
        return $"{value.Item}{source} ({amount})";
    }

    /// <summary>A byte count for people: B, KiB or MiB with one decimal.</summary>
    internal static string Size(long bytes) => bytes switch
    {
        < 1024 => FormattableString.Invariant($"{bytes} B"),
        < 1024 * 1024 => FormattableString.Invariant($"{bytes / 1024.0:0.0} KiB"),
        _ => FormattableString.Invariant($"{bytes / (1024.0 * 1024.0):0.0} MiB"),
    };
}
