using Microsoft.Extensions.Logging;
using TorchSharp;

namespace LatentKit;

/// <summary>
/// Where and how one training run happens: device, threads, progress, logging, a separate validation set and
/// callbacks. Nothing here is saved with the model (the hyperparameters that are saved are <see cref="TrainingOptions"/>).
/// Immutable; make variations with <c>with</c>.
/// </summary>
public sealed record TrainingRun
{
    /// <summary>The largest accepted <see cref="Threads"/> (1024).</summary>
    public const int MaxThreads = 1024;

    /// <summary>
    /// The device to train on; the model is moved there first. <see langword="null"/> (the default) trains where the
    /// model is, which is the CPU unless it was built for another device.
    /// </summary>
    public torch.Device? Device { get; init; }

    /// <summary>
    /// Number of CPU threads TorchSharp uses while training (restored afterwards); <see langword="null"/> leaves
    /// TorchSharp's setting as it is. From 1 to <see cref="MaxThreads"/>. Use 1 for bit-for-bit repeatable runs.
    /// </summary>
    public int? Threads { get; init; }

    /// <summary>Receives progress during each epoch.</summary>
    public IProgress<TrainingProgress>? Progress { get; init; }

    /// <summary>Shortest interval between two progress reports within an epoch (the last batch of an epoch is always reported). Default 100 ms.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Receives one line per epoch (and one when a callback stops training).</summary>
    public ILogger? Logger { get; init; }

    /// <summary>
    /// A separate validation dataset whose loss is computed after each epoch. Takes precedence over
    /// <see cref="TrainingOptions.ValidationFraction"/>.
    /// </summary>
    public Dataset? ValidationSet { get; init; }

    /// <summary>
    /// Called after every epoch, in this order, with the epoch's figures; they can stop training or scale the learning
    /// rate (<see cref="EarlyStopping"/>, <see cref="ReduceLearningRateOnPlateau"/>, or your own
    /// <see cref="ITrainingCallback"/>). Default none.
    /// </summary>
    public IReadOnlyList<ITrainingCallback> Callbacks { get; init; } = [];

    /// <summary>
    /// A checkpoint (written by <see cref="ModelCheckpoint"/>) to resume from: training continues at the epoch after the
    /// checkpoint's and runs until <see cref="TrainingOptions.Epochs"/>, with the checkpoint's weights, optimizer state,
    /// schedule position, learning-rate factor, built-in callbacks' state and random state. The model must be of the
    /// checkpoint's kind and architecture and the options those it was written with (<see cref="TrainingOptions.Epochs"/>
    /// may be larger unless the schedule is cosine); otherwise training throws a <see cref="CheckpointException"/>
    /// before any step. Default <see langword="null"/>: start from the model's current weights at epoch 1.
    /// </summary>
    public string? ResumeFrom { get; init; }

    /// <summary>Checks every setting.</summary>
    /// <exception cref="LatentKitValidationException">Settings are out of range: its <see cref="LatentKitValidationException.Errors"/> lists every one (property, value, rule); <see cref="ArgumentException.ParamName"/> names the first.</exception>
    public void Validate()
    {
        var errors = new ValidationErrors();
        if (Threads is { } threads && !(threads >= 1 && threads <= MaxThreads))
        {
            Bad(errors, nameof(Threads), threads, $"must be at least 1 and at most {MaxThreads} (or null for TorchSharp's default)");
        }

        if (Device is { } device && DeviceRules.Problem(device) is { } deviceProblem)
        {
            errors.Add(nameof(Device), device.ToString(), $"TrainingRun.{nameof(Device)}: {deviceProblem}");
        }

        if (ValidationSet is { Count: 0 })
        {
            Bad(errors, nameof(ValidationSet), ValidationSet.Name, "is empty");
        }

        if (ResumeFrom is { } resume && string.IsNullOrWhiteSpace(resume))
        {
            Bad(errors, nameof(ResumeFrom), resume, "must be a checkpoint path (or null)");
        }

        if (ProgressInterval < TimeSpan.Zero)
        {
            Bad(errors, nameof(ProgressInterval), ProgressInterval, "must not be negative");
        }

        if (Callbacks is null)
        {
            Bad(errors, nameof(Callbacks), "null", "must be a list (empty for no callbacks)");
        }
        else
        {
            for (var i = 0; i < Callbacks.Count; i++)
            {
                if (Callbacks[i] is null)
                {
                    Bad(errors, nameof(Callbacks), "null", $"must not hold null (at index {i})");
                    break;
                }
            }
        }

        errors.ThrowIfAny();
    }

    private static void Bad(ValidationErrors errors, string property, object value, string rule) =>
        errors.Add(property, value, $"TrainingRun.{property} = {ValidationErrors.Format(value)} {rule}.");
}
