using System.Diagnostics;
using System.Globalization;
using LatentKit.Samples.Common.Data;
using LatentKit.Samples.Common.Imaging;
using LatentKit.Samples.Common.Results;
using LatentKit.Studies;
using Spectre.Console;
using TorchSharp;

namespace LatentKit.Samples.Improvements;

/// <summary>The sample's settings, from the command line.</summary>
internal sealed record ImprovementsSettings(bool Quick, string Output, int Seeds, int? Threads, string? DataDirectory, string Study)
{
    public bool Runs(string study) => Study == "all" || Study == study;
}

/// <summary>One classifier configuration of the improvements study and its test accuracy.</summary>
internal sealed record ImprovementRow(string Group, string Encoder, string Idea, string Head, string Training, string EncoderMode, double Accuracy, double Seconds);

/// <summary>One autoencoder trained for the run.</summary>
internal sealed record AutoencoderRow(string Name, string Description, int Epochs, double TestBce, double Seconds);

/// <summary>A classifier head and its training, as tried in the study.</summary>
internal sealed record HeadConfig(string Name, ClassifierHead Kind, int[] Hidden, double Dropout, bool BatchNorm, int Epochs, LearningRateSchedule Schedule)
{
    public string Describe() =>
        $"{(Kind == ClassifierHead.Logits ? "logits" : "sigmoid")} [{string.Join(", ", Hidden)}]" + (BatchNorm ? " BN" : string.Empty) + (Dropout > 0 ? $" dropout {Dropout.ToString(CultureInfo.InvariantCulture)}" : string.Empty);

    public string DescribeTraining() => $"{Epochs} ep" + (Schedule == LearningRateSchedule.None ? string.Empty : $", {Schedule.ToString().ToLowerInvariant()}");
}

/// <summary>Runs the studies and writes the results.</summary>
/// <param name="settings">What to run.</param>
/// <param name="console">Where progress and results are shown.</param>
/// <param name="loadMnist">Loads a split with the run's options (default: MnistDataset.Load); the smoke test gives synthetic digits.</param>
internal sealed class ImprovementsRunner(ImprovementsSettings settings, IAnsiConsole console, Func<MnistSplit, MnistLoadOptions, MnistDataset>? loadMnist = null)
{
    private const int Seed = ReferenceScenarios.Seed;
    private readonly Dictionary<string, IAutoencoder> autoencoders = [];
    private readonly List<AutoencoderRow> autoencoderRows = [];
    private readonly List<ImprovementRow> improvementRows = [];
    private readonly List<string> pictures = [];
    private MnistDataset train = null!;
    private MnistDataset test = null!;
    private MnistDataset? augmented;
    private LabelEfficiencyResult? labelEfficiency;

    public int Run(CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        try
        {
            (train, test) = SampleMnist.Prepare(settings.Threads, settings.Output, settings.DataDirectory, loadMnist);
            if (settings.Quick)
            {
                train = train.TakePerClass(60, Seed);
                test = test.Take(500);
            }

            console.MarkupLineInterpolated($"[bold]LatentKit improvements[/]: {train.Count} training and {test.Count} test images, study {settings.Study}{(settings.Quick ? " (quick)" : string.Empty)}, {torch.get_num_threads()} threads");
            if (settings.Runs("improvements"))
            {
                RunImprovements(cancellationToken);
            }

            if (settings.Runs("label-efficiency"))
            {
                RunLabelEfficiency(cancellationToken);
            }

            if (settings.Runs("generation"))
            {
                RunGeneration();
            }

            var elapsed = total.Elapsed;
            Write(elapsed);
            console.MarkupLineInterpolated($"[green]Done[/] in {elapsed.TotalMinutes:F1} min; results in {Path.GetFullPath(settings.Output)}");
            return 0;
        }
        catch (OperationCanceledException)
        {
            console.MarkupLine("[yellow]Cancelled.[/]");
            return 130;
        }
        finally
        {
            foreach (var model in autoencoders.Values)
            {
                model.Dispose();
            }
        }
    }

    private int Epochs(int full, int quick = 1) => settings.Quick ? quick : full;

    private TrainingOptions HeadTraining(HeadConfig head) => new()
    {
        Epochs = Epochs(head.Epochs, 2),
        BatchSize = 128,
        LearningRate = 1e-3,
        Seed = Seed,
        LearningRateSchedule = head.Schedule,
        LearningRateStepEpochs = Math.Max(1, Epochs(head.Epochs, 2) / 3),
        LearningRateStepFactor = 0.1,
    };

    /// <summary>The run environment of every training here: the command line's threads and, when given, a callback that prints each epoch's figures.</summary>
    private TrainingRun Run(string? epochLabel = null) => new()
    {
        Threads = settings.Threads,
        Callbacks = epochLabel is null ? [] : [new EpochPrinter(console, epochLabel)],
    };

    private IAutoencoder Autoencoder(string name, CancellationToken cancellationToken)
    {
        if (autoencoders.TryGetValue(name, out var existing))
        {
            return existing;
        }

        var (builder, training, description) = name switch
        {
            "dense-relu" => (ReferenceScenarios.Scenario1DenseRelu.CreateAutoencoderBuilder(), ReferenceScenarios.Scenario1DenseRelu.AutoencoderTraining, "scenario 1: dense 784-256-128-49, ReLU"),
            "conv" => (ReferenceScenarios.Scenario2Convolutional.CreateAutoencoderBuilder(), ReferenceScenarios.Scenario2Convolutional.AutoencoderTraining, "scenario 2: convolutional 32-64, 7x7x1 code"),
            "dense-tanh" => (ReferenceScenarios.Scenario3DenseTanh.CreateAutoencoderBuilder(), ReferenceScenarios.Scenario3DenseTanh.AutoencoderTraining, "scenario 3: dense 784-256-128-49, Tanh"),
            "vae" => (ReferenceScenarios.Scenario4Variational.CreateAutoencoderBuilder(), ReferenceScenarios.Scenario4Variational.AutoencoderTraining, "scenario 4: variational 784-256-128-49, ReLU"),
            "dense-relu-denoising" => (
                (IAutoencoderBuilder)Autoencoders.Dense().WithHiddenLayers(256, 128).WithLatentSize(49).WithActivation(Activation.ReLU).WithDenoising(0.3, 0.2).WithSeed(Seed),
                ReferenceScenarios.Scenario1DenseRelu.AutoencoderTraining,
                "scenario 1 architecture, denoising (20 % masking + Gaussian noise 0.3)"),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown autoencoder."),
        };
        // The convolutional preset trains 10 epochs (about 3 minutes here); 5 are used here to keep the run short (the docs say so).
        training = training with { Epochs = Epochs(name == "conv" ? 5 : training.Epochs) };
        var watch = Stopwatch.StartNew();
        var model = builder.Build();
        console.MarkupLineInterpolated($"Training autoencoder [bold]{name}[/] ({description}), {training.Epochs} epochs ...");
        model.Train(train, training, Run("epoch"), cancellationToken);
        var bce = model.Evaluate(test).BinaryCrossEntropy;
        autoencoderRows.Add(new AutoencoderRow(name, description, training.Epochs, bce, watch.Elapsed.TotalSeconds));
        console.MarkupLineInterpolated($"  {name}: test BCE {bce:F4} in {watch.Elapsed.TotalSeconds:F0} s");
        autoencoders[name] = model;
        return model;
    }

    private MnistDataset Augmented => augmented ??= train.AugmentWithShifts(maxShift: 2, copies: settings.Quick ? 1 : 2, seed: 7);

    private void Frozen(string group, string encoderName, string idea, HeadConfig head, bool withShifts, CancellationToken cancellationToken)
    {
        var encoder = Autoencoder(encoderName, cancellationToken);
        var watch = Stopwatch.StartNew();
        var options = HeadTraining(head);
        using var classifier = LatentClassifier.For(encoder)
            .WithHead(head.Kind).WithHiddenLayers(head.Hidden).WithDropout(head.Dropout).WithBatchNorm(head.BatchNorm)
            .WithSeed(Seed).WithTrainingDefaults(options).Build();
        classifier.Train(withShifts ? Augmented : train, options, Run(), cancellationToken);
        var accuracy = classifier.Evaluate(test).Accuracy;
        Add(new ImprovementRow(group, encoderName, idea, head.Describe(), head.DescribeTraining() + (withShifts ? ", shifted copies" : string.Empty), "frozen", accuracy, watch.Elapsed.TotalSeconds));
    }

    private void FineTuned(string encoderName, string idea, HeadConfig head, double encoderLearningRate, bool withShifts, bool pretrained, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        using var scratch = pretrained ? null : ReferenceScenarios.Scenario1DenseRelu.CreateAutoencoderBuilder().Build();
        var encoder = pretrained ? Autoencoder(encoderName, cancellationToken) : scratch!;
        var options = HeadTraining(head);
        using var classifier = LatentClassifier.For(encoder)
            .WithHead(head.Kind).WithHiddenLayers(head.Hidden).WithDropout(head.Dropout).WithBatchNorm(head.BatchNorm)
            .WithFineTuning(encoderLearningRate).WithSeed(Seed).WithTrainingDefaults(options).Build();
        classifier.Train(withShifts ? Augmented : train, options, Run("fine-tuning epoch"), cancellationToken);
        var accuracy = classifier.Evaluate(test).Accuracy;
        Add(new ImprovementRow(
            "Fine-tuning (end to end)",
            pretrained ? encoderName : "dense-relu, untrained",
            idea,
            head.Describe(),
            head.DescribeTraining() + (withShifts ? ", shifted copies" : string.Empty),
            $"fine-tuned, encoder lr {encoderLearningRate.ToString(CultureInfo.InvariantCulture)}",
            accuracy,
            watch.Elapsed.TotalSeconds));
    }

    private void Add(ImprovementRow row)
    {
        improvementRows.Add(row);
        console.MarkupLineInterpolated($"  [bold]{row.Accuracy:F4}[/]  {row.Encoder} | {row.Idea} | {row.Head} | {row.Training} | {row.EncoderMode} ({row.Seconds:F0} s)");
    }

    private void RunImprovements(CancellationToken ct)
    {
        console.MarkupLine("[bold]Study 1: improving classification accuracy (latent 49)[/]");
        var reference = new HeadConfig("reference", ClassifierHead.SigmoidCrossEntropy, [128], 0, false, 15, LearningRateSchedule.None);
        var logits = reference with { Name = "logits", Kind = ClassifierHead.Logits };
        var wide = logits with { Name = "wide", Hidden = [512] };
        var dropout = wide with { Name = "dropout", Dropout = 0.3 };
        var batchNorm = dropout with { Name = "bn", BatchNorm = true };
        var longer = batchNorm with { Name = "longer", Epochs = 30 };
        var cosine = longer with { Name = "cosine", Schedule = LearningRateSchedule.Cosine };
        var step = longer with { Name = "step", Schedule = LearningRateSchedule.Step };
        var deeper = cosine with { Name = "deeper", Hidden = [512, 256] };
        (HeadConfig Head, string Idea)[] ladder =
        [
            (reference, "reference head (sigmoid + BCE, 128, 15 epochs)"),
            (logits, "logits + softmax cross-entropy"),
            (wide, "+ width 512"),
            (dropout, "+ dropout 0.3"),
            (batchNorm, "+ batch norm"),
            (longer, "+ 30 epochs"),
            (cosine, "+ 30 epochs, cosine schedule"),
            (step, "+ 30 epochs, step schedule (x0.1 every 10)"),
            (deeper, "two hidden layers 512, 256, cosine"),
            (logits with { Name = "logits-cosine", Epochs = 30, Schedule = LearningRateSchedule.Cosine }, "logits 128, 30 epochs cosine (no width/BN/dropout)"),
        ];
        foreach (var (head, idea) in ladder)
        {
            Frozen("Classifier head (frozen encoder)", "dense-relu", idea, head, withShifts: false, ct);
        }

        foreach (var encoder in new[] { "conv", "dense-tanh", "vae", "dense-relu-denoising" })
        {
            Frozen("Representation (frozen encoder)", encoder, "reference head", reference, withShifts: false, ct);
            Frozen("Representation (frozen encoder)", encoder, "best frozen head (512 BN dropout, 30 ep cosine)", cosine, withShifts: false, ct);
        }

        var shiftedHead = cosine with { Epochs = 10 };
        foreach (var encoder in new[] { "dense-relu", "conv" })
        {
            Frozen("Augmentation (frozen encoder)", encoder, "+ shifted copies (±2 px, 2 per image), 10 ep cosine", shiftedHead, withShifts: true, ct);
        }

        var fine = batchNorm with { Name = "fine", Epochs = 15, Schedule = LearningRateSchedule.Cosine };
        var fineShifted = fine with { Epochs = 8 };
        FineTuned("dense-relu", "end to end, pretrained encoder", fine, 5e-4, withShifts: false, pretrained: true, ct);
        FineTuned("dense-relu", "end to end, no pretraining (control)", fine, 5e-4, withShifts: false, pretrained: false, ct);
        FineTuned("dense-relu", "end to end, pretrained + shifted copies", fineShifted, 5e-4, withShifts: true, pretrained: true, ct);
        FineTuned("conv", "end to end, pretrained encoder", fine with { Epochs = 4 }, 5e-4, withShifts: false, pretrained: true, ct);
    }

    private void RunLabelEfficiency(CancellationToken ct)
    {
        console.MarkupLine("[bold]Study 2: label efficiency[/] (autoencoders trained on all training images without labels)");
        string[] names = ["dense-relu", "conv", "dense-tanh", "vae"];
        var encoders = names.Select(n => (n, Autoencoder(n, ct))).ToArray();
        var options = new LabelEfficiencyOptions
        {
            LabelsPerClass = settings.Quick ? [10, 50] : [10, 100, 1000],
            Seeds = Enumerable.Range(1, settings.Seeds).ToArray(),
            TrainingSteps = settings.Quick ? 150 : 1000,
        };
        labelEfficiency = LabelEfficiencyStudy.Run(train, test, encoders, options, new Progress<LabelEfficiencyProgress>(p =>
            console.MarkupLineInterpolated($"  [[{p.Done}/{p.Total}]] {p.Last.Representation}, {p.Last.LabelsPerClass} per class, seed {p.Last.Seed}: {p.Last.Accuracy:F4} ({p.Last.Duration.TotalSeconds:F1} s)")), Run(), ct);
        var path = Path.Combine(settings.Output, "label-efficiency.png");
        LabelEfficiencyPlot.SavePng(path, labelEfficiency.Points);
        pictures.Add(path);
    }

    private void RunGeneration()
    {
        console.MarkupLine("[bold]Study 3: generation and the latent space[/]");
        var vae = (IVariationalAutoencoder)Autoencoder("vae", CancellationToken.None);
        var dense = Autoencoder("dense-relu", CancellationToken.None);
        using (var samples = vae.Sample(64, Seed))
        {
            Save("vae-prior-samples.png", DigitGrid.RenderGridPng(samples.contiguous().data<float>().ToArray(), 8));
        }

        (int From, int To)[] pairs = [(0, 6), (1, 7), (3, 8), (4, 9), (2, 5)];
        foreach (var (name, model) in new[] { ("dense", dense), ("vae", (IAutoencoder)vae) })
        {
            var rows = new List<IReadOnlyList<ReadOnlyMemory<float>>>();
            foreach (var (from, to) in pairs)
            {
                using var a = test.ImagesToTensor(FirstOf(from), 1);
                using var b = test.ImagesToTensor(FirstOf(to), 1);
                using var row = model.Interpolate(a, b, 10);
                var values = row.contiguous().data<float>().ToArray();
                rows.Add(Enumerable.Range(0, 10).Select(i => new ReadOnlyMemory<float>(values, i * 784, 784)).ToArray());
            }

            Save($"interpolation-{name}.png", DigitGrid.RenderPng(rows));
        }
    }

    private int FirstOf(int digit) => Enumerable.Range(0, test.Count).First(i => test.GetLabel(i) == digit);

    private void Save(string file, byte[] png)
    {
        var path = Path.Combine(settings.Output, file);
        AtomicFile.WriteAllBytes(path, png);
        pictures.Add(path);
        console.MarkupLineInterpolated($"  wrote {path}");
    }

    private void Write(TimeSpan elapsed)
    {
        var document = new
        {
            settings.Quick,
            settings.Study,
            settings.Seeds,
            settings.Threads,
            TrainingImages = train.Count,
            TestImages = test.Count,
            Machine = new { Environment.ProcessorCount, Os = Environment.OSVersion.VersionString, Date = DateTime.UtcNow.ToString("u", CultureInfo.InvariantCulture) },
            TotalSeconds = elapsed.TotalSeconds,
            Autoencoders = autoencoderRows,
            Improvements = improvementRows,
            LabelEfficiency = labelEfficiency is null ? null : new { labelEfficiency.Points, labelEfficiency.Trials },
            Pictures = pictures.Select(Path.GetFileName).ToArray(),
        };
        JsonResultsWriter.Write(Path.Combine(settings.Output, "results.json"), document);
        AtomicFile.WriteAllText(Path.Combine(settings.Output, "results.md"), ResultsMarkdown.Render(settings, train.Count, test.Count, elapsed, autoencoderRows, improvementRows, labelEfficiency));
    }
}

/// <summary>Prints one line per finished epoch (its training loss and throughput), from the training loop's epoch-end callback.</summary>
internal sealed class EpochPrinter(IAnsiConsole console, string label) : ITrainingCallback
{
    /// <inheritdoc/>
    public void OnEpochEnd(EpochSummary summary, TrainingControl control) =>
        console.MarkupLineInterpolated($"  {label} {summary.Epoch}/{summary.TotalEpochs}: loss {summary[Metric.Loss]:F4}, {summary.SamplesPerSecond:F0} images/s");
}
