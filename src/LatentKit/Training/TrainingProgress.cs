namespace LatentKit;

/// <summary>A progress report during training, sent through <see cref="IProgress{T}"/>.</summary>
/// <param name="Epoch">The current epoch, from 1.</param>
/// <param name="TotalEpochs">Epochs planned.</param>
/// <param name="Batch">Batches done in this epoch, from 1.</param>
/// <param name="TotalBatches">Batches per epoch.</param>
/// <param name="RunningLoss">Mean training loss of the batches done so far in this epoch.</param>
/// <param name="ImagesPerSecond">Training throughput so far in this epoch.</param>
public sealed record TrainingProgress(int Epoch, int TotalEpochs, int Batch, int TotalBatches, double RunningLoss, double ImagesPerSecond);

/// <summary>The outcome of one training epoch.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="TrainingLoss">Mean training loss over the epoch's batches (weighted by batch size).</param>
/// <param name="ValidationLoss">Loss on the validation data after the epoch, or <see langword="null"/> without validation.</param>
/// <param name="Duration">Wall time of the epoch, validation included.</param>
/// <param name="ImagesPerSecond">Training images per second of the epoch's training part (validation excluded).</param>
/// <param name="Completed">False for an epoch interrupted by cancellation (its loss covers the batches done).</param>
public sealed record EpochResult(int Epoch, double TrainingLoss, double? ValidationLoss, TimeSpan Duration, double ImagesPerSecond, bool Completed = true)
{
    private static readonly IReadOnlyDictionary<string, double> NoMetrics = new Dictionary<string, double>();

    /// <summary>
    /// The epoch's figures by name (see <see cref="Metric"/>), those callbacks receive in <see cref="EpochSummary.Metrics"/>:
    /// <c>loss</c> and its parts (<c>bce</c> or <c>mse</c>, <c>kl</c>; <c>accuracy</c> for classifiers) over the epoch's
    /// training batches, and with validation data <c>val_loss</c> and the validation figures. Empty in the history of a
    /// checkpoint written before figures were recorded.
    /// </summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = NoMetrics;
}

/// <summary>What happened during a training run.</summary>
public sealed class TrainingHistory
{
    internal TrainingHistory(IReadOnlyList<EpochResult> epochs, int? bestEpoch, string? stopReason)
    {
        Epochs = epochs;
        BestEpoch = bestEpoch;
        StopReason = stopReason;
    }

    /// <summary>One result per epoch run (in the history of a <see cref="TrainingCanceledException"/>, the interrupted epoch included, marked not completed).</summary>
    public IReadOnlyList<EpochResult> Epochs { get; }

    /// <summary>
    /// The epoch whose weights the model holds when a callback kept the best weights (an <see cref="EarlyStopping"/>
    /// that restores them: the best epoch of its monitored metric, with or without validation data); otherwise the
    /// epoch with the lowest validation loss; <see langword="null"/> when neither applies. (After cancellation, the
    /// model holds the last batch's weights, and this is the lowest validation loss's epoch.)
    /// </summary>
    public int? BestEpoch { get; }

    /// <summary>True when a callback (such as <see cref="EarlyStopping"/>) ended training before the planned epochs.</summary>
    public bool StoppedEarly => StopReason is not null;

    /// <summary>Why a callback stopped training (<see cref="TrainingControl.Stop"/>), or <see langword="null"/> when every planned epoch ran.</summary>
    public string? StopReason { get; }

    /// <summary>
    /// The figure called <paramref name="metric"/> (see <see cref="Metric"/>) of every epoch, in order, as Keras's
    /// <c>history.history[metric]</c>: for example <c>history.GetMetric(Metric.ValidationAccuracy)</c>. An epoch without
    /// it (the validation figures of an epoch interrupted by cancellation) gives NaN.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No epoch has the figure; the message lists those the run has.</exception>
    public double[] GetMetric(string metric)
    {
        ArgumentNullException.ThrowIfNull(metric);
        if (!Epochs.Any(e => e.Metrics.ContainsKey(metric)))
        {
            throw new KeyNotFoundException($"No epoch of this run has the metric '{metric}'; it has: {string.Join(", ", Epochs.SelectMany(e => e.Metrics.Keys).Distinct())}.");
        }

        return Epochs.Select(e => e.Metrics.TryGetValue(metric, out var value) ? value : double.NaN).ToArray();
    }

    /// <summary>Training loss of the last epoch, or NaN when no epoch ran.</summary>
    public double FinalTrainingLoss => Epochs.Count == 0 ? double.NaN : Epochs[^1].TrainingLoss;

    /// <summary>Total wall time of all epochs.</summary>
    public TimeSpan TotalDuration => Epochs.Aggregate(TimeSpan.Zero, (sum, e) => sum + e.Duration);
}

/// <summary>
/// Training stopped because a batch loss, the weights after an epoch, a validation loss or the trained model's outputs
/// became NaN or infinite (<see cref="Kind"/> says which). The model was restored to the weights at the start of
/// <see cref="Epoch"/>, which are always finite.
/// </summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception for a non-finite batch loss.</summary>
    public TrainingDivergedException(int epoch, int batch, double loss, string message)
        : this(epoch, batch, loss, DivergenceKind.TrainingLoss, message)
    {
    }

    /// <summary>Creates the exception for what <paramref name="kind"/> names.</summary>
    public TrainingDivergedException(int epoch, int batch, double loss, DivergenceKind kind, string message)
        : base(message)
    {
        Epoch = epoch;
        Batch = batch;
        Loss = loss;
        Kind = kind;
    }

    /// <summary>The epoch (from 1) in which training diverged; the model holds the weights from the start of this epoch.</summary>
    public int Epoch { get; }

    /// <summary>
    /// The batch (from 1) of <see cref="Epoch"/>: whose loss was not finite (<see cref="DivergenceKind.TrainingLoss"/>),
    /// or the last batch trained before the check (the other kinds).
    /// </summary>
    public int Batch { get; }

    /// <summary>
    /// The non-finite value found: the batch loss, the validation loss, the first non-finite weight
    /// (<see cref="DivergenceKind.Weights"/>) or the loss of the trained model in evaluation mode
    /// (<see cref="DivergenceKind.Outputs"/>).
    /// </summary>
    public double Loss { get; }

    /// <summary>What was found not finite.</summary>
    public DivergenceKind Kind { get; }
}

/// <summary>What a <see cref="TrainingDivergedException"/> found not finite.</summary>
public enum DivergenceKind
{
    /// <summary>The loss of a training batch (checked before <c>backward</c>, so the step never ran).</summary>
    TrainingLoss,

    /// <summary>A weight (parameter or buffer, such as batch norm's running statistics) after an epoch's steps, although every batch loss was finite.</summary>
    Weights,

    /// <summary>The validation loss after an epoch.</summary>
    ValidationLoss,

    /// <summary>The trained model's outputs: its loss in evaluation mode on the first training samples, checked once at the end.</summary>
    Outputs,
}

/// <summary>
/// Training was cancelled through its <see cref="CancellationToken"/>: the one rule of LatentKit for cancellation.
/// Every <c>Train</c>, <see cref="ReferenceScenario.Run"/> and <see cref="Studies.LabelEfficiencyStudy"/> throws it
/// (never a half-trained result reported as finished). <see cref="History"/> holds the epochs run so far (the
/// interrupted one marked not completed). The model stays usable: its weights are those after the last batch run,
/// which passed the divergence guard's checks.
/// </summary>
public sealed class TrainingCanceledException : OperationCanceledException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="history">The epochs run before cancellation.</param>
    /// <param name="message">What was cancelled.</param>
    /// <param name="cancellationToken">The token that was cancelled.</param>
    public TrainingCanceledException(TrainingHistory history, string message, CancellationToken cancellationToken)
        : base(message, cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(history);
        History = history;
    }

    /// <summary>The partial history: the epochs run before cancellation.</summary>
    public TrainingHistory History { get; }
}
