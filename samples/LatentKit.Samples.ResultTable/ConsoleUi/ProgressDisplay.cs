using Spectre.Console;

namespace LatentKit.Samples.ResultTable.ConsoleUi;

/// <summary>
/// Runs work under one Spectre.Console live progress display, whose bars the work's progress adapters
/// (<see cref="DownloadProgressBars"/>, <see cref="TrainingProgressBar"/>) drive. Lines written with the console
/// while it runs appear above the bars; when the console is not interactive (output redirected to a log), the bars
/// are not animated and only those lines and the final state are written.
/// </summary>
public static class ProgressDisplay
{
    /// <summary>Runs <paramref name="work"/> with a progress context for adding bars.</summary>
    public static Task<T> RunAsync<T>(IAnsiConsole console, Func<ProgressContext, Task<T>> work)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(work);
        return console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(
                new TaskDescriptionColumn { Alignment = Justify.Left },
                new ProgressBarColumn(),
                new PercentageColumn(),
                new ElapsedTimeColumn(),
                new RemainingTimeColumn(),
                new SpinnerColumn())
            .StartAsync(work);
    }
}
