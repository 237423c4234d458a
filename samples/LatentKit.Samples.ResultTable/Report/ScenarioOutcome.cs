namespace LatentKit.Samples.ResultTable.Report;

/// <summary>One row of the result table: what a scenario measured, beside the original study's figures.</summary>
/// <param name="Scenario">The scenario number, 1..4.</param>
/// <param name="Name">A short name, for example "dense, ReLU".</param>
/// <param name="AutoencoderLoss">Mean per-pixel binary cross-entropy of the reconstructions on the test images.</param>
/// <param name="KlDivergence">For a variational autoencoder, the mean KL term on the test images; otherwise null.</param>
/// <param name="ClassifierAccuracy">Top-1 accuracy of the classifier on the test images, 0..1.</param>
/// <param name="OriginalLoss">The original study's autoencoder loss for this scenario.</param>
/// <param name="OriginalAccuracy">The original study's classifier accuracy for this scenario.</param>
/// <param name="LossComparable">
/// Whether our loss measures the same quantity as the original's, so that "at most the original's" is a fair test
/// (false for the VAE, whose original figure is probably another quantity).
/// </param>
/// <param name="AutoencoderEpochs">Epochs the autoencoder was trained.</param>
/// <param name="ClassifierEpochs">Epochs the classifier was trained.</param>
/// <param name="WallTime">Wall-clock time of the whole scenario: both trainings and the evaluation.</param>
public sealed record ScenarioOutcome(
    int Scenario,
    string Name,
    double AutoencoderLoss,
    double? KlDivergence,
    double ClassifierAccuracy,
    double OriginalLoss,
    double OriginalAccuracy,
    bool LossComparable,
    int AutoencoderEpochs,
    int ClassifierEpochs,
    TimeSpan WallTime)
{
    /// <summary>The architecture in words, as the scenario preset describes it.</summary>
    public string? Description { get; init; }

    /// <summary>Mean per-pixel squared error of the reconstructions on the test images.</summary>
    public double? MeanSquaredError { get; init; }

    /// <summary>How to read the original's loss when it is not a mean per-pixel BCE (row 4), from the preset.</summary>
    public string? OriginalLossNote { get; init; }

    /// <summary>Test images evaluated.</summary>
    public int TestImages { get; init; }

    /// <summary>Training images used (both stages).</summary>
    public int TrainingImages { get; init; }

    /// <summary>The classifier's 10 x 10 confusion matrix on the test images: row = true digit, column = predicted.</summary>
    public IReadOnlyList<IReadOnlyList<int>>? ConfusionMatrix { get; init; }

    /// <summary>For each digit 0..9, the fraction of its test images the classifier labelled correctly.</summary>
    public IReadOnlyList<double>? PerClassRecall { get; init; }

    /// <summary>The autoencoder's training settings as run (after the command line's overrides).</summary>
    public TrainingSettingsRecord? AutoencoderTraining { get; init; }

    /// <summary>The classifier's training settings as run.</summary>
    public TrainingSettingsRecord? ClassifierTraining { get; init; }

    /// <summary>The autoencoder's epochs: training loss and the loss on the test images after each epoch.</summary>
    public IReadOnlyList<EpochRecord>? AutoencoderEpochLog { get; init; }

    /// <summary>The classifier's epochs: training loss and the loss on the test images after each epoch.</summary>
    public IReadOnlyList<EpochRecord>? ClassifierEpochLog { get; init; }

    /// <summary>Wall time of the whole scenario in seconds.</summary>
    public double WallTimeSeconds => WallTime.TotalSeconds;

    /// <summary>Files written for this scenario, relative to the output directory (pictures and models).</summary>
    public IReadOnlyList<string>? Files { get; init; }

    /// <summary>Whether the loss is at most the original's (null when the two are not the same quantity).</summary>
    public bool? LossMeetsOriginal => LossComparable ? AutoencoderLoss <= OriginalLoss : null;

    /// <summary>Whether the accuracy is at least the original's.</summary>
    public bool AccuracyMeetsOriginal => ClassifierAccuracy >= OriginalAccuracy;

    /// <summary>Whether the row meets the reference: accuracy at least the original's, and loss at most it where comparable.</summary>
    public bool MeetsReference => AccuracyMeetsOriginal && LossMeetsOriginal != false;
}

/// <summary>The training settings of one stage, as run.</summary>
/// <param name="Epochs">Epochs planned.</param>
/// <param name="BatchSize">Images per step.</param>
/// <param name="LearningRate">Learning rate.</param>
/// <param name="Optimizer">The optimizer.</param>
/// <param name="Seed">Seed of weights and batch order.</param>
/// <param name="Threads">TorchSharp threads, or null for TorchSharp's default.</param>
public sealed record TrainingSettingsRecord(int Epochs, int BatchSize, double LearningRate, string Optimizer, int Seed, int? Threads);

/// <summary>One epoch of a training run.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="TrainingLoss">Mean training loss of the epoch.</param>
/// <param name="TestLoss">The same loss on the test images after the epoch (monitoring only: it never steers training).</param>
/// <param name="Seconds">Wall time of the epoch.</param>
/// <param name="ImagesPerSecond">Training throughput.</param>
public sealed record EpochRecord(int Epoch, double TrainingLoss, double? TestLoss, double Seconds, double ImagesPerSecond);
