namespace LatentKit;

/// <summary>The optimizer that updates the weights.</summary>
public enum OptimizerKind
{
    /// <summary>Adam (the default).</summary>
    Adam,

    /// <summary>Adam with decoupled weight decay.</summary>
    AdamW,

    /// <summary>Stochastic gradient descent with optional momentum (<see cref="TrainingOptions.Momentum"/>).</summary>
    Sgd,

    /// <summary>RMSProp with optional momentum (<see cref="TrainingOptions.Momentum"/>).</summary>
    RmsProp,
}

/// <summary>How the learning rate changes during training (applied by the one training engine to every optimizer group).</summary>
public enum LearningRateSchedule
{
    /// <summary>The learning rate stays constant (the default).</summary>
    None,

    /// <summary>
    /// Cosine annealing per batch: from the learning rate at the first batch down to 0 at the last batch of the last
    /// epoch (<c>lr * (1 + cos(pi * step / steps)) / 2</c>).
    /// </summary>
    Cosine,

    /// <summary>
    /// Step decay: the learning rate is multiplied by <see cref="TrainingOptions.LearningRateStepFactor"/> every
    /// <see cref="TrainingOptions.LearningRateStepEpochs"/> epochs.
    /// </summary>
    Step,
}

/// <summary>
/// How a model is trained: epochs, batches, optimizer, schedule, seed and validation split. These hyperparameters are
/// saved with the model; where and how a run happens (device, threads, progress, logging, a separate validation set,
/// callbacks such as <see cref="EarlyStopping"/>) is a <see cref="TrainingRun"/>. Immutable; make variations with <c>with</c>.
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>
    /// The largest accepted <see cref="LearningRate"/> and <see cref="WeightDecay"/>: the largest float (about 3.4E+38),
    /// since the optimizers compute in single precision. A step that such values make overflow (Adam's step size, AdamW's
    /// 1 - rate x decay) gives non-finite weights, reported as a <see cref="TrainingDivergedException"/>.
    /// </summary>
    public const double MaxCoefficient = float.MaxValue;

    /// <summary>Passes over the training data. Default 10.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Images per optimizer step. Default 128.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Optimizer learning rate, above 0 and at most <see cref="MaxCoefficient"/>. Default 0.001.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>The optimizer. Default <see cref="OptimizerKind.Adam"/>.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;

    /// <summary>
    /// Momentum for <see cref="OptimizerKind.Sgd"/> and <see cref="OptimizerKind.RmsProp"/>: the factor each step keeps of
    /// the previous update direction (SGD: buffer = momentum x buffer + gradient; RMSProp: buffer = momentum x buffer +
    /// gradient / root mean square). At least 0 and below 1: from 1 up the buffer grows without bound and the weights
    /// blow up. Adam and AdamW have no such setting (their first-moment decay is fixed at 0.9), so a non-zero value with
    /// them is refused rather than ignored. Default 0.
    /// </summary>
    public double Momentum { get; init; }

    /// <summary>L2 weight decay (decoupled for <see cref="OptimizerKind.AdamW"/>), from 0 to <see cref="MaxCoefficient"/>. Default 0.</summary>
    public double WeightDecay { get; init; }

    /// <summary>How the learning rate changes over the run. Default <see cref="LatentKit.LearningRateSchedule.None"/>.</summary>
    public LearningRateSchedule LearningRateSchedule { get; init; } = LearningRateSchedule.None;

    /// <summary>For <see cref="LatentKit.LearningRateSchedule.Step"/>: epochs between two decays. Default 10.</summary>
    public int LearningRateStepEpochs { get; init; } = 10;

    /// <summary>For <see cref="LatentKit.LearningRateSchedule.Step"/>: the factor applied at each decay, in (0, 1]. Default 0.1.</summary>
    public double LearningRateStepFactor { get; init; } = 0.1;

    /// <summary>
    /// Seed of the training run's own generators: the batch order, the <see cref="ValidationFraction"/> split, and the
    /// random draws of training (the VAE's sampling noise, a denoising autoencoder's corruption, a classifier head's
    /// dropout masks). TorchSharp's global generator is neither seeded nor used by training, so other code drawing
    /// from it, before or during the run, does not change the run. The weights' initialisation is seeded by the
    /// builder (<c>WithSeed</c>), not here. The same seeds, settings and data on the CPU with one thread
    /// give the same losses and weights (<see cref="TrainingRun.Threads"/>). Default 42.
    /// </summary>
    public int Seed { get; init; } = 42;

    /// <summary>
    /// Fraction of the training data held out (at random, by <see cref="Seed"/>) to compute a validation loss each
    /// epoch, in (0, 1). Ignored when <see cref="TrainingRun.ValidationSet"/> is given. Default <see langword="null"/>: no validation.
    /// </summary>
    public double? ValidationFraction { get; init; }

    /// <summary>
    /// The factor (in [0, 1]) the schedule applies to each optimizer group's base learning rate at a batch.
    /// </summary>
    /// <param name="epoch">The epoch, from 1.</param>
    /// <param name="batch">The batch within the epoch, from 0.</param>
    /// <param name="batchesPerEpoch">Batches in one epoch.</param>
    public double LearningRateFactor(int epoch, int batch, int batchesPerEpoch) => LearningRateSchedule switch
    {
        LearningRateSchedule.Cosine => 0.5 * (1 + Math.Cos(Math.PI * (((double)(epoch - 1) * batchesPerEpoch) + batch) / Math.Max(1.0, (double)Epochs * batchesPerEpoch))),
        LearningRateSchedule.Step => Math.Pow(LearningRateStepFactor, (epoch - 1) / LearningRateStepEpochs),
        _ => 1.0,
    };

    /// <summary>Checks every setting.</summary>
    /// <exception cref="LatentKitValidationException">Settings are out of range: its <see cref="LatentKitValidationException.Errors"/> lists every one (property, value, rule); <see cref="ArgumentException.ParamName"/> names the first and the message gives the values.</exception>
    public void Validate()
    {
        var errors = new ValidationErrors();
        if (Epochs <= 0)
        {
            Bad(errors, nameof(Epochs), Epochs, "must be at least 1");
        }

        if (BatchSize <= 0)
        {
            Bad(errors, nameof(BatchSize), BatchSize, "must be at least 1");
        }

        if (!(LearningRate > 0 && LearningRate <= MaxCoefficient))
        {
            Bad(errors, nameof(LearningRate), LearningRate, "must be a number above 0 and at most 3.4028235E+38 (the largest float)");
        }

        if (!Enum.IsDefined(Optimizer))
        {
            Bad(errors, nameof(Optimizer), Optimizer, "is not a known optimizer");
        }

        if (!(Momentum >= 0 && Momentum < 1))
        {
            Bad(errors, nameof(Momentum), Momentum, "must be at least 0 and below 1 (the share of the previous step kept; from 1 up the weights blow up)");
        }
        else if (Momentum != 0 && Optimizer is OptimizerKind.Adam or OptimizerKind.AdamW)
        {
            Bad(errors, nameof(Momentum), Momentum, $"has no effect with {Optimizer}: only Sgd and RmsProp use a momentum; set it to 0 or choose one of them");
        }

        if (!(WeightDecay >= 0 && WeightDecay <= MaxCoefficient))
        {
            Bad(errors, nameof(WeightDecay), WeightDecay, "must be a number of at least 0 and at most 3.4028235E+38 (the largest float)");
        }

        if (!Enum.IsDefined(LearningRateSchedule))
        {
            Bad(errors, nameof(LearningRateSchedule), LearningRateSchedule, "is not a known schedule");
        }

        if (LearningRateStepEpochs <= 0)
        {
            Bad(errors, nameof(LearningRateStepEpochs), LearningRateStepEpochs, "must be at least 1");
        }

        if (!(LearningRateStepFactor > 0 && LearningRateStepFactor <= 1))
        {
            Bad(errors, nameof(LearningRateStepFactor), LearningRateStepFactor, "must be above 0 and at most 1");
        }

        if (ValidationFraction is { } fraction && !(fraction > 0 && fraction < 1))
        {
            Bad(errors, nameof(ValidationFraction), fraction, "must be between 0 and 1 (exclusive)");
        }

        errors.ThrowIfAny();
    }

    private static void Bad(ValidationErrors errors, string property, object value, string rule) =>
        errors.Add(property, value, $"TrainingOptions.{property} = {ValidationErrors.Format(value)} {rule}.");
}
