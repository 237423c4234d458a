namespace LatentKit.Samples.ResultTable.ConsoleUi;

/// <summary>
/// Connects one LatentKit training run to a <see cref="TrainingProgressBar"/>: the library's progress reports move
/// the bar, and as a training callback it receives each epoch's figures (training loss, validation loss, duration,
/// throughput), which become the bar's one line per epoch.
/// </summary>
public sealed class TrainingReporter : IProgress<TrainingProgress>, ITrainingCallback
{
    private readonly TrainingProgressBar bar;

    /// <summary>Creates the reporter for <paramref name="bar"/>.</summary>
    public TrainingReporter(TrainingProgressBar bar)
    {
        ArgumentNullException.ThrowIfNull(bar);
        this.bar = bar;
    }

    /// <inheritdoc/>
    public void Report(TrainingProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        bar.ReportBatch(value.Epoch, value.Batch, value.RunningLoss);
    }

    /// <inheritdoc/>
    public void OnEpochEnd(EpochSummary summary, TrainingControl control)
    {
        ArgumentNullException.ThrowIfNull(summary);
        double? validation = summary.Metrics.TryGetValue(Metric.ValidationLoss, out var v) ? v : null;
        bar.CompleteEpoch(summary.Epoch, summary[Metric.Loss], validation, summary.Duration, summary.SamplesPerSecond);
    }
}
