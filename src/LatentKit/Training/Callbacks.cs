using System.Globalization;

namespace LatentKit;

/// <summary>The names of the figures an <see cref="EpochSummary"/> can hold.</summary>
public static class Metric
{
    /// <summary>Mean training loss of the epoch (over its batches, in training mode). Always present.</summary>
    public const string Loss = "loss";

    /// <summary>Validation loss after the epoch (evaluation mode). Present when the run has validation data.</summary>
    public const string ValidationLoss = "val_loss";

    /// <summary>
    /// The prefix of a figure computed on the validation data after the epoch (evaluation mode, the epoch's final
    /// weights): <c>val_</c> followed by the training figure's name, such as <see cref="ValidationBinaryCrossEntropy"/>.
    /// </summary>
    public const string ValidationPrefix = "val_";

    /// <summary>
    /// Autoencoders whose loss is binary cross-entropy: the mean per-value BCE of the epoch's training batches (in
    /// training mode, as each batch was when its step was taken, with the denoising corruption and sampling of
    /// training), as <see cref="ReconstructionMetrics.BinaryCrossEntropy"/> defines it. It is the reconstruction term
    /// of the loss itself (equal to <see cref="Loss"/> for a plain autoencoder; the loss without its KL term, per value,
    /// for a variational one), so it costs no extra pass: the term is added up on the device and read once per epoch.
    /// </summary>
    public const string BinaryCrossEntropy = "bce";

    /// <summary>
    /// Autoencoders whose loss is binary cross-entropy: the mean per-value BCE on the validation data after the epoch,
    /// equal to <see cref="AutoencoderBase.Evaluate"/>'s <see cref="ReconstructionMetrics.BinaryCrossEntropy"/> on that
    /// data. Computed in the validation pass that computes <see cref="ValidationLoss"/>; present with validation data.
    /// </summary>
    public const string ValidationBinaryCrossEntropy = "val_bce";

    /// <summary>
    /// Autoencoders whose loss is the mean squared error: the mean per-value squared error of the epoch's training
    /// batches (training mode), as <see cref="ReconstructionMetrics.MeanSquaredError"/> defines it; the loss's own
    /// reconstruction term, like <see cref="BinaryCrossEntropy"/>. A model trained with BCE reports the squared error on
    /// validation data only (<see cref="ValidationMeanSquaredError"/>): on training batches it would take a second pass
    /// over every batch's outputs.
    /// </summary>
    public const string MeanSquaredError = "mse";

    /// <summary>Autoencoders (whatever their loss): the mean per-value squared error on the validation data after the epoch, as <see cref="ReconstructionMetrics.MeanSquaredError"/>; present with validation data.</summary>
    public const string ValidationMeanSquaredError = "val_mse";

    /// <summary>
    /// Variational autoencoders: the mean KL divergence per sample (summed over latent dimensions, before the KL
    /// weight) of the epoch's training batches, as <see cref="ReconstructionMetrics.KlDivergence"/> defines it: the
    /// loss's own KL term, added up on the device. With <see cref="BinaryCrossEntropy"/> (or
    /// <see cref="MeanSquaredError"/>) it makes up the loss: loss = reconstruction x values per sample + KL weight x KL.
    /// </summary>
    public const string KlDivergence = "kl";

    /// <summary>Variational autoencoders: the mean KL divergence per sample on the validation data after the epoch (at the encoder's mean), as <see cref="ReconstructionMetrics.KlDivergence"/>; present with validation data.</summary>
    public const string ValidationKlDivergence = "val_kl";

    /// <summary>
    /// Classifiers: the fraction of the epoch's training samples whose largest logit was their label, from the logits
    /// of the training batches (training mode, weights changing during the epoch). Costs one argmax and comparison per
    /// batch, added up on the device and read back once per epoch.
    /// </summary>
    public const string Accuracy = "accuracy";

    /// <summary>Classifiers: accuracy on the validation data after the epoch, equal to <see cref="LatentClassifier.Evaluate"/>'s <see cref="ClassificationMetrics.Accuracy"/> on that data; present with validation data.</summary>
    public const string ValidationAccuracy = "val_accuracy";
}

/// <summary>Whether a smaller or a larger value of the monitored metric is better.</summary>
public enum MetricMode
{
    /// <summary>Losses: smaller is better.</summary>
    Min,

    /// <summary>Accuracies: larger is better.</summary>
    Max,
}

/// <summary>The figures of one finished epoch, given to every <see cref="ITrainingCallback"/>.</summary>
public sealed class EpochSummary
{
    internal EpochSummary(int epoch, int totalEpochs, IReadOnlyDictionary<string, double> metrics, double learningRateFactor, TimeSpan duration, double samplesPerSecond)
    {
        SamplesPerSecond = samplesPerSecond;
        Epoch = epoch;
        TotalEpochs = totalEpochs;
        Metrics = metrics;
        LearningRateFactor = learningRateFactor;
        Duration = duration;
    }

    /// <summary>The epoch, from 1.</summary>
    public int Epoch { get; }

    /// <summary>Epochs the run was asked for.</summary>
    public int TotalEpochs { get; }

    /// <summary>The epoch's figures by name (see <see cref="Metric"/>).</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; }

    /// <summary>The factor callbacks applied to the learning rate during this epoch (<see cref="TrainingControl.LearningRateFactor"/>), on top of the schedule.</summary>
    public double LearningRateFactor { get; }

    /// <summary>Wall time of the epoch (training and validation).</summary>
    public TimeSpan Duration { get; }

    /// <summary>Training samples per second of the epoch's training part (validation excluded), as in <see cref="EpochResult.ImagesPerSecond"/>.</summary>
    public double SamplesPerSecond { get; }

    /// <summary>The figure called <paramref name="metric"/>.</summary>
    /// <exception cref="KeyNotFoundException">This run has no such figure (for example <see cref="Metric.ValidationLoss"/> without validation data); the message lists those it has.</exception>
    public double this[string metric] => Metrics.TryGetValue(metric, out var value)
        ? value
        : throw new KeyNotFoundException($"Epoch {Epoch} has no metric '{metric}'; it has: {string.Join(", ", Metrics.Keys)}.");
}

/// <summary>What callbacks can do to the running training: stop it, scale its learning rate, keep weights to restore.</summary>
public sealed class TrainingControl
{
    internal TrainingControl(Action rememberWeights)
    {
        this.rememberWeights = rememberWeights;
    }

    private readonly Action rememberWeights;
    private double learningRateFactor = 1.0;

    /// <summary>Checkpoints (<see langword="false"/>) and model files (<see langword="true"/>) requested by callbacks during this epoch, written by the loop after every callback ran.</summary>
    internal List<(string Path, bool ModelFileOnly, string? Replaces)> Writes { get; } = [];

    /// <summary>
    /// Asks the loop to write a checkpoint of the state after this epoch's callbacks to <paramref name="path"/>, and
    /// then (once the new file is in place) to delete <paramref name="replaces"/>, an older checkpoint of the caller.
    /// </summary>
    internal void RequestCheckpoint(string path, string? replaces = null) => Writes.Add((path, false, replaces));

    /// <summary>Asks the loop to write a model file of the weights after this epoch to <paramref name="path"/>.</summary>
    internal void RequestModelFile(string path) => Writes.Add((path, true, null));

    /// <summary>Whether a callback asked to stop.</summary>
    public bool StopRequested => StopReason is not null;

    /// <summary>The reason given by the first callback that asked to stop, or <see langword="null"/>.</summary>
    public string? StopReason { get; private set; }

    /// <summary>
    /// The factor applied to every optimizer group's learning rate (on top of <see cref="TrainingOptions.LearningRateSchedule"/>)
    /// from the next epoch on. Default 1. Must be above 0 and at most 1.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not above 0 and at most 1.</exception>
    public double LearningRateFactor
    {
        get => learningRateFactor;
        set => learningRateFactor = value > 0 && value <= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(LearningRateFactor), value, $"TrainingControl.LearningRateFactor = {value.ToString(CultureInfo.InvariantCulture)} must be above 0 and at most 1.");
    }

    /// <summary>Stops training after this epoch (the history's <see cref="TrainingHistory.StoppedEarly"/> is then set when epochs were left).</summary>
    /// <param name="reason">Said in the log and in <see cref="TrainingHistory.StopReason"/>.</param>
    public void Stop(string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        StopReason ??= reason;
    }

    /// <summary>
    /// Copies the current weights; when training ends (finished or stopped, not cancelled or diverged) the weights
    /// copied last are restored. One copy of the weights is kept.
    /// </summary>
    public void RememberWeights() => rememberWeights();
}

/// <summary>A hook called by the training loop; see <see cref="TrainingRun.Callbacks"/>.</summary>
public interface ITrainingCallback
{
    /// <summary>Called once before the first epoch (reset any state here: one callback object may serve several runs).</summary>
    void OnTrainingBegin()
    {
    }

    /// <summary>Called after every epoch with its figures; may stop training or change the learning rate through <paramref name="control"/>.</summary>
    void OnEpochEnd(EpochSummary summary, TrainingControl control);
}

/// <summary>
/// Stops training when <see cref="Monitor"/> has not improved by more than <see cref="MinDelta"/> for
/// <see cref="Patience"/> epochs, and (by default) keeps the weights of the best epoch.
/// </summary>
public sealed class EarlyStopping : ITrainingCallback, IStatefulCallback
{
    private double best;
    private int wait;

    /// <summary>Creates the callback; settings are checked here.</summary>
    /// <param name="monitor">The metric watched; default <see cref="Metric.ValidationLoss"/> (the run then needs validation data).</param>
    /// <param name="patience">Epochs without improvement before stopping, at least 1.</param>
    /// <param name="minDelta">The smallest change that counts as improvement, at least 0.</param>
    /// <param name="mode">Whether smaller (<see cref="MetricMode.Min"/>) or larger values are better.</param>
    /// <param name="restoreBestWeights">Restore the weights of the best epoch when training ends.</param>
    /// <exception cref="LatentKitValidationException">Settings are out of range: every one is listed in <see cref="LatentKitValidationException.Errors"/>; <see cref="ArgumentException.ParamName"/> names the first.</exception>
    public EarlyStopping(string monitor = Metric.ValidationLoss, int patience = 3, double minDelta = 0, MetricMode mode = MetricMode.Min, bool restoreBestWeights = true)
    {
        var errors = new ValidationErrors();
        CallbackRules.CheckMonitor(errors, nameof(EarlyStopping), monitor);
        CallbackRules.CheckAtLeastOne(errors, nameof(EarlyStopping), nameof(patience), patience);
        CallbackRules.CheckMinDelta(errors, nameof(EarlyStopping), minDelta);
        CallbackRules.CheckMode(errors, nameof(EarlyStopping), mode);
        errors.ThrowIfAny();
        Monitor = monitor;
        Patience = patience;
        MinDelta = minDelta;
        Mode = mode;
        RestoreBestWeights = restoreBestWeights;
    }

    /// <summary>The metric watched.</summary>
    public string Monitor { get; }

    /// <summary>Epochs without improvement before stopping.</summary>
    public int Patience { get; }

    /// <summary>The smallest change that counts as improvement.</summary>
    public double MinDelta { get; }

    /// <summary>Whether smaller or larger values are better.</summary>
    public MetricMode Mode { get; }

    /// <summary>Whether the weights of the best epoch are restored when training ends.</summary>
    public bool RestoreBestWeights { get; }

    /// <summary>The best epoch of the last run, or <see langword="null"/> before one.</summary>
    public int? BestEpoch { get; private set; }

    /// <inheritdoc />
    public void OnTrainingBegin()
    {
        best = CallbackRules.Worst(Mode);
        wait = 0;
        BestEpoch = null;
    }

    /// <inheritdoc />
    public void OnEpochEnd(EpochSummary summary, TrainingControl control)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(control);
        var value = summary[Monitor];
        if (CallbackRules.Improved(value, best, MinDelta, Mode))
        {
            best = value;
            wait = 0;
            BestEpoch = summary.Epoch;
            if (RestoreBestWeights)
            {
                control.RememberWeights();
            }

            return;
        }

        if (++wait >= Patience && summary.Epoch < summary.TotalEpochs)
        {
            control.Stop(string.Create(CultureInfo.InvariantCulture, $"early stopping: {Monitor} did not improve for {Patience} epoch{(Patience == 1 ? string.Empty : "s")} (best {best:G6} at epoch {BestEpoch})"));
        }
    }

    IReadOnlyDictionary<string, double> IStatefulCallback.SaveState() => new Dictionary<string, double> { ["best"] = best, ["wait"] = wait, ["bestEpoch"] = BestEpoch ?? 0 };

    void IStatefulCallback.RestoreState(IReadOnlyDictionary<string, double> state)
    {
        best = state["best"];
        wait = (int)state["wait"];
        BestEpoch = state["bestEpoch"] is > 0 and var epoch ? (int)epoch : null;
    }
}

/// <summary>
/// Multiplies the learning rate by <see cref="Factor"/> when <see cref="Monitor"/> has not improved by more than
/// <see cref="MinDelta"/> for <see cref="Patience"/> epochs, down to <see cref="MinLearningRateFactor"/>.
/// </summary>
public sealed class ReduceLearningRateOnPlateau : ITrainingCallback, IStatefulCallback
{
    private double best;
    private int wait;

    /// <summary>Creates the callback; settings are checked here.</summary>
    /// <param name="monitor">The metric watched; default <see cref="Metric.ValidationLoss"/>.</param>
    /// <param name="factor">The factor applied at each plateau, above 0 and below 1.</param>
    /// <param name="patience">Epochs without improvement before reducing, at least 1.</param>
    /// <param name="minDelta">The smallest change that counts as improvement, at least 0.</param>
    /// <param name="minLearningRateFactor">The smallest overall factor (relative to the options' learning rate), above 0 and at most 1.</param>
    /// <param name="mode">Whether smaller or larger values are better.</param>
    /// <exception cref="LatentKitValidationException">Settings are out of range: every one is listed in <see cref="LatentKitValidationException.Errors"/>; <see cref="ArgumentException.ParamName"/> names the first.</exception>
    public ReduceLearningRateOnPlateau(string monitor = Metric.ValidationLoss, double factor = 0.1, int patience = 2, double minDelta = 0, double minLearningRateFactor = 1e-3, MetricMode mode = MetricMode.Min)
    {
        var errors = new ValidationErrors();
        CallbackRules.CheckMonitor(errors, nameof(ReduceLearningRateOnPlateau), monitor);
        if (!(factor > 0 && factor < 1))
        {
            errors.Add(nameof(factor), factor, string.Create(CultureInfo.InvariantCulture, $"ReduceLearningRateOnPlateau factor = {factor} must be above 0 and below 1."));
        }

        CallbackRules.CheckAtLeastOne(errors, nameof(ReduceLearningRateOnPlateau), nameof(patience), patience);
        CallbackRules.CheckMinDelta(errors, nameof(ReduceLearningRateOnPlateau), minDelta);
        if (!(minLearningRateFactor > 0 && minLearningRateFactor <= 1))
        {
            errors.Add(nameof(minLearningRateFactor), minLearningRateFactor, string.Create(CultureInfo.InvariantCulture, $"ReduceLearningRateOnPlateau minLearningRateFactor = {minLearningRateFactor} must be above 0 and at most 1."));
        }

        CallbackRules.CheckMode(errors, nameof(ReduceLearningRateOnPlateau), mode);
        errors.ThrowIfAny();
        Monitor = monitor;
        Factor = factor;
        Patience = patience;
        MinDelta = minDelta;
        MinLearningRateFactor = minLearningRateFactor;
        Mode = mode;
    }

    /// <summary>The metric watched.</summary>
    public string Monitor { get; }

    /// <summary>The factor applied at each plateau.</summary>
    public double Factor { get; }

    /// <summary>Epochs without improvement before reducing.</summary>
    public int Patience { get; }

    /// <summary>The smallest change that counts as improvement.</summary>
    public double MinDelta { get; }

    /// <summary>The smallest overall learning-rate factor.</summary>
    public double MinLearningRateFactor { get; }

    /// <summary>Whether smaller or larger values are better.</summary>
    public MetricMode Mode { get; }

    /// <inheritdoc />
    public void OnTrainingBegin()
    {
        best = CallbackRules.Worst(Mode);
        wait = 0;
    }

    /// <inheritdoc />
    public void OnEpochEnd(EpochSummary summary, TrainingControl control)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(control);
        var value = summary[Monitor];
        if (CallbackRules.Improved(value, best, MinDelta, Mode))
        {
            best = value;
            wait = 0;
            return;
        }

        if (++wait >= Patience)
        {
            wait = 0;
            control.LearningRateFactor = Math.Max(MinLearningRateFactor, control.LearningRateFactor * Factor);
        }
    }

    IReadOnlyDictionary<string, double> IStatefulCallback.SaveState() => new Dictionary<string, double> { ["best"] = best, ["wait"] = wait };

    void IStatefulCallback.RestoreState(IReadOnlyDictionary<string, double> state)
    {
        best = state["best"];
        wait = (int)state["wait"];
    }
}

/// <summary>
/// A callback whose state between epochs is saved in checkpoints and restored on resume, so that a resumed run
/// decides as the uninterrupted one would (the built-in <see cref="EarlyStopping"/>,
/// <see cref="ReduceLearningRateOnPlateau"/> and <see cref="ModelCheckpoint"/> implement it; implement it on your own
/// <see cref="ITrainingCallback"/> to have yours saved too).
/// </summary>
/// <remarks>
/// <see cref="SaveState"/> is called when a checkpoint is written (after every callback's
/// <see cref="ITrainingCallback.OnEpochEnd"/> of that epoch). On resume, after
/// <see cref="ITrainingCallback.OnTrainingBegin"/>, the saved state is given to <see cref="RestoreState"/> of the run's
/// callback at the same position in <see cref="TrainingRun.Callbacks"/> whose type has the same name; a callback with
/// no saved state there starts fresh. At most <see cref="MaxEntries"/> names per callback, each 1 to
/// <see cref="MaxNameLength"/> characters; values may be any <see cref="double"/>, infinities and NaN included.
/// </remarks>
public interface IStatefulCallback
{
    /// <summary>The most names one callback's state may hold: 1,024.</summary>
    const int MaxEntries = 1_024;

    /// <summary>The longest name in a callback's state: 256 characters.</summary>
    const int MaxNameLength = 256;

    /// <summary>The state by name.</summary>
    IReadOnlyDictionary<string, double> SaveState();

    /// <summary>
    /// Sets the state <see cref="SaveState"/> returned. Throw (for example <see cref="KeyNotFoundException"/> for a
    /// missing name) when it cannot be used: resuming then fails with a <see cref="CheckpointException"/> naming the
    /// callback, before the run changes anything.
    /// </summary>
    void RestoreState(IReadOnlyDictionary<string, double> state);
}

/// <summary>The settings rules the built-in callbacks share.</summary>
internal static class CallbackRules
{
    public static void CheckMonitor(ValidationErrors errors, string callback, string monitor)
    {
        if (string.IsNullOrWhiteSpace(monitor))
        {
            errors.Add(nameof(monitor), monitor, $"{callback} monitor = '{monitor}' must name a metric (see Metric, e.g. \"{Metric.ValidationLoss}\").");
        }
    }

    public static void CheckAtLeastOne(ValidationErrors errors, string callback, string name, int value)
    {
        if (value < 1)
        {
            errors.Add(name, value, string.Create(CultureInfo.InvariantCulture, $"{callback} {name} = {value} must be at least 1."));
        }
    }

    public static void CheckMinDelta(ValidationErrors errors, string callback, double minDelta)
    {
        if (!(minDelta >= 0 && double.IsFinite(minDelta)))
        {
            errors.Add(nameof(minDelta), minDelta, string.Create(CultureInfo.InvariantCulture, $"{callback} minDelta = {minDelta} must be a finite number of at least 0."));
        }
    }

    public static void CheckMode(ValidationErrors errors, string callback, MetricMode mode)
    {
        if (!Enum.IsDefined(mode))
        {
            errors.Add(nameof(mode), mode, $"{callback} mode = {mode} is not a known mode.");
        }
    }

    /// <summary>The starting "best" value that any first value improves on: +infinity for <see cref="MetricMode.Min"/>, -infinity for <see cref="MetricMode.Max"/>.</summary>
    public static double Worst(MetricMode mode) => mode == MetricMode.Min ? double.PositiveInfinity : double.NegativeInfinity;

    public static bool Improved(double value, double best, double minDelta, MetricMode mode) =>
        mode == MetricMode.Min ? value < best - minDelta : value > best + minDelta;
}
