using System.Globalization;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace LatentKit.Samples.ResultTable.ConsoleUi;

/// <summary>
/// Connects one LatentKit training run to a <see cref="TrainingProgressBar"/>: the library's progress reports move
/// the bar, and its per-epoch log entry (read from the structured state, not parsed from text) becomes the bar's
/// one line per epoch. Other log entries (early stopping) are written as they are.
/// </summary>
public sealed class TrainingReporter : IProgress<TrainingProgress>, ILogger
{
    private readonly TrainingProgressBar bar;
    private readonly IAnsiConsole console;

    /// <summary>Creates the reporter for <paramref name="bar"/>, writing other log lines to <paramref name="console"/>.</summary>
    public TrainingReporter(TrainingProgressBar bar, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(bar);
        ArgumentNullException.ThrowIfNull(console);
        this.bar = bar;
        this.console = console;
    }

    /// <inheritdoc/>
    public void Report(TrainingProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        bar.ReportBatch(value.Epoch, value.Batch, value.RunningLoss);
    }

    /// <inheritdoc/>
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    /// <inheritdoc/>
    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    /// <inheritdoc/>
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        if (!IsEnabled(logLevel))
        {
            return;
        }

        if (state is IReadOnlyList<KeyValuePair<string, object?>> values
            && Find(values, "Epoch") is int epoch
            && Find(values, "TrainingLoss") is double trainingLoss
            && Find(values, "Seconds") is double seconds
            && Find(values, "ImagesPerSecond") is double imagesPerSecond)
        {
            double? validation = Find(values, "ValidationLoss") switch
            {
                double d => d,
                string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
                _ => null,
            };
            bar.CompleteEpoch(epoch, trainingLoss, validation, TimeSpan.FromSeconds(seconds), imagesPerSecond);
            return;
        }

        console.WriteLine(formatter(state, exception));
    }

    private static object? Find(IReadOnlyList<KeyValuePair<string, object?>> values, string key)
    {
        foreach (var pair in values)
        {
            if (pair.Key == key)
            {
                return pair.Value;
            }
        }

        return null;
    }
}
