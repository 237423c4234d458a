using System.Diagnostics;

namespace LatentKit.Studies;

/// <summary>Settings of a <see cref="LabelEfficiencyStudy"/>. Immutable; make variations with <c>with</c>.</summary>
public sealed record LabelEfficiencyOptions
{
    /// <summary>Labelled images per digit in each trial (balanced, chosen by seed). Default 10, 100, 1,000.</summary>
    public IReadOnlyList<int> LabelsPerClass { get; init; } = [10, 100, 1000];

    /// <summary>Seeds: each chooses the labelled images and seeds the head and its training. Default 1, 2, 3.</summary>
    public IReadOnlyList<int> Seeds { get; init; } = [1, 2, 3];

    /// <summary>Widths of the head's hidden layers (default one layer of 256).</summary>
    public IReadOnlyList<int> HiddenLayers { get; init; } = [256];

    /// <summary>Dropout after the hidden layers (default 0.2).</summary>
    public double Dropout { get; init; } = 0.2;

    /// <summary>
    /// Optimizer steps per trial whatever the number of labels (epochs = steps / batches per epoch, at least 1), so
    /// small label sets are not under-trained. Default 1,500.
    /// </summary>
    public int TrainingSteps { get; init; } = 1500;

    /// <summary>Head training settings; <see cref="TrainingOptions.Epochs"/> and <see cref="TrainingOptions.Seed"/> are set per trial. Default batch 64, Adam 1e-3, weight decay 1e-4, cosine schedule.</summary>
    public TrainingOptions Training { get; init; } = new() { BatchSize = 64, LearningRate = 1e-3, WeightDecay = 1e-4, LearningRateSchedule = LearningRateSchedule.Cosine };

    /// <summary>Also train the same head on the raw 784 pixels with the same labels (default true).</summary>
    public bool IncludePixelBaseline { get; init; } = true;

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate()
    {
        if (LabelsPerClass is null || LabelsPerClass.Count == 0 || LabelsPerClass.Any(n => n <= 0))
        {
            throw new ArgumentException("Give at least one number of labels per class, each at least 1.", nameof(LabelsPerClass));
        }

        if (Seeds is null || Seeds.Count == 0 || Seeds.Distinct().Count() != Seeds.Count)
        {
            throw new ArgumentException("Give at least one seed, without repeats.", nameof(Seeds));
        }

        if (TrainingSteps <= 0)
        {
            throw new ArgumentException($"TrainingSteps must be at least 1; got {TrainingSteps}.", nameof(TrainingSteps));
        }

        ArgumentNullException.ThrowIfNull(Training);
        Training.Validate();
    }
}

/// <summary>One trained and tested classifier of the study.</summary>
/// <param name="Representation">The name of the encoder (or <see cref="LabelEfficiencyStudy.PixelBaselineName"/>).</param>
/// <param name="LabelsPerClass">Labelled training images per digit.</param>
/// <param name="Seed">The seed that chose the images and seeded the head.</param>
/// <param name="Accuracy">Top-1 accuracy on the test images.</param>
/// <param name="Epochs">Epochs trained.</param>
/// <param name="Duration">Wall time of training and testing.</param>
public sealed record LabelEfficiencyTrial(string Representation, int LabelsPerClass, int Seed, double Accuracy, int Epochs, TimeSpan Duration);

/// <summary>The trials of one representation at one number of labels, summarised over the seeds.</summary>
/// <param name="Representation">The name of the encoder (or the pixel baseline).</param>
/// <param name="LabelsPerClass">Labelled training images per digit.</param>
/// <param name="MeanAccuracy">Mean test accuracy over the seeds.</param>
/// <param name="StandardDeviation">Sample standard deviation over the seeds (0 for one seed).</param>
/// <param name="MinAccuracy">Lowest test accuracy.</param>
/// <param name="MaxAccuracy">Highest test accuracy.</param>
/// <param name="Seeds">Number of seeds.</param>
public sealed record LabelEfficiencyPoint(string Representation, int LabelsPerClass, double MeanAccuracy, double StandardDeviation, double MinAccuracy, double MaxAccuracy, int Seeds);

/// <summary>Progress of a <see cref="LabelEfficiencyStudy"/>: trials done out of the total, and the last one.</summary>
public sealed record LabelEfficiencyProgress(int Done, int Total, LabelEfficiencyTrial Last);

/// <summary>The outcome of <see cref="LabelEfficiencyStudy.Run"/>.</summary>
public sealed class LabelEfficiencyResult
{
    internal LabelEfficiencyResult(IReadOnlyList<LabelEfficiencyTrial> trials)
    {
        Trials = trials;
        Points = trials
            .GroupBy(t => (t.Representation, t.LabelsPerClass))
            .Select(g =>
            {
                var values = g.Select(t => t.Accuracy).ToArray();
                var mean = values.Average();
                var sd = values.Length < 2 ? 0 : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
                return new LabelEfficiencyPoint(g.Key.Representation, g.Key.LabelsPerClass, mean, sd, values.Min(), values.Max(), values.Length);
            })
            .ToArray();
    }

    /// <summary>Every trial, in the order run.</summary>
    public IReadOnlyList<LabelEfficiencyTrial> Trials { get; }

    /// <summary>Per representation and number of labels: mean, spread and range over the seeds.</summary>
    public IReadOnlyList<LabelEfficiencyPoint> Points { get; }
}

/// <summary>
/// How accuracy grows with the number of labels: for each encoder (trained beforehand, for example on all 60,000
/// images without labels) and each number of labels per class, train a fresh classifier head on a balanced, seeded
/// sample of labelled images and test it; repeat over the seeds; and do the same with the identical head on raw
/// values (<see cref="LatentClassifier.ForPixels(Dataset)"/>) as the baseline. The encoders stay frozen and unchanged.
/// </summary>
public static class LabelEfficiencyStudy
{
    /// <summary>The name of the raw-pixel baseline in the results.</summary>
    public const string PixelBaselineName = "Raw pixels";

    /// <summary>Runs the study.</summary>
    /// <param name="labelled">The pool labelled images are drawn from (the 60,000 training images).</param>
    /// <param name="test">The test images (the 10,000 MNIST test images).</param>
    /// <param name="encoders">Named trained autoencoders whose codes are classified.</param>
    /// <param name="options">Settings; <see langword="null"/> for the defaults.</param>
    /// <param name="progress">Receives one report per trial.</param>
    /// <param name="run">How each trial's classifier trains (threads, device, callbacks); <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops between trials or at a trial's next training batch.</param>
    /// <exception cref="TrainingCanceledException"><paramref name="cancellationToken"/> was cancelled; no result is returned.</exception>
    /// <exception cref="ArgumentException">A setting is out of range, a name repeats, the pool has too few samples of a class, or a dataset has no labels.</exception>
    public static LabelEfficiencyResult Run(
        Dataset labelled,
        Dataset test,
        IReadOnlyList<(string Name, IAutoencoder Autoencoder)> encoders,
        LabelEfficiencyOptions? options = null,
        IProgress<LabelEfficiencyProgress>? progress = null,
        TrainingRun? run = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(labelled);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(encoders);
        labelled.RequireLabels(nameof(labelled));
        test.RequireLabels(nameof(test));
        options ??= new LabelEfficiencyOptions();
        options.Validate();
        var representations = encoders.Select(e => (e.Name, Encoder: (IAutoencoder?)e.Autoencoder)).ToList();
        if (options.IncludePixelBaseline)
        {
            representations.Add((PixelBaselineName, null));
        }

        if (representations.Count == 0 || representations.Select(r => r.Name).Distinct().Count() != representations.Count)
        {
            throw new ArgumentException("Give at least one encoder (or the pixel baseline), with distinct names.", nameof(encoders));
        }

        var perClass = labelled.CountPerClass().Min();
        if (options.LabelsPerClass.Max() > perClass)
        {
            throw new ArgumentException($"Dataset '{labelled.Name}' has only {perClass} samples of its rarest class, fewer than {options.LabelsPerClass.Max()} labels per class.", nameof(labelled));
        }

        var trials = new List<LabelEfficiencyTrial>();
        var total = options.LabelsPerClass.Count * options.Seeds.Count * representations.Count;
        foreach (var count in options.LabelsPerClass)
        {
            foreach (var seed in options.Seeds)
            {
                var sample = labelled.TakePerClass(count, seed);
                var batchesPerEpoch = (int)Math.Ceiling(sample.Count / (double)Math.Min(options.Training.BatchSize, sample.Count));
                var epochs = Math.Max(1, (int)Math.Ceiling(options.TrainingSteps / (double)batchesPerEpoch));
                var training = options.Training with { Epochs = epochs, Seed = seed };
                foreach (var (name, encoder) in representations)
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        throw new TrainingCanceledException(
                            new TrainingHistory([], bestEpoch: null, stopReason: null),
                            $"The label-efficiency study was cancelled after {trials.Count} of {total} trials; no result is returned.",
                            cancellationToken);
                    }

                    var watch = Stopwatch.StartNew();
                    // Classes (and the baseline's input shape) come from the labelled pool: MNIST's ten digits or any other data.
                    var builder = (encoder is null ? LatentClassifier.ForPixels(labelled) : LatentClassifier.For(encoder).ForData(labelled))
                        .WithHiddenLayers([.. options.HiddenLayers])
                        .WithDropout(options.Dropout)
                        .WithSeed(seed)
                        .WithTrainingDefaults(training);
                    using var classifier = builder.Build();
                    classifier.Train(sample, training, run, cancellationToken);
                    var accuracy = classifier.Evaluate(test).Accuracy;
                    var trial = new LabelEfficiencyTrial(name, count, seed, accuracy, epochs, watch.Elapsed);
                    trials.Add(trial);
                    progress?.Report(new LabelEfficiencyProgress(trials.Count, total, trial));
                }
            }
        }

        return new LabelEfficiencyResult(trials);
    }
}
