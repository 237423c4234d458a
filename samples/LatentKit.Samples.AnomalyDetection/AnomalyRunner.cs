using System.Diagnostics;
using System.Globalization;
using LatentKit.Samples.Common.Data;
using LatentKit.Samples.Common.Imaging;
using LatentKit.Samples.Common.Results;
using Spectre.Console;
using TorchSharp;

namespace LatentKit.Samples.AnomalyDetection;

/// <summary>The sample's settings, from the command line.</summary>
internal sealed record AnomalySettings(bool Quick, string Output, int Seeds, int? Threads, string? DataDirectory, int[] Digits, string[] Models, int? Epochs, double Shrinkage = GaussianLatentModel.DefaultShrinkage)
{
    public static readonly string[] KnownModels = ["dense", "conv", "vae"];

    /// <summary>Parses "0-9", "3", "3,5,8" or "0-4,9".</summary>
    public static bool TryParseDigits(string text, out int[] digits, out string? error)
    {
        var set = new SortedSet<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var ends = part.Split('-');
            if (ends.Length is < 1 or > 2 || !ends.All(e => int.TryParse(e, NumberStyles.None, CultureInfo.InvariantCulture, out var d) && d <= 9))
            {
                (digits, error) = ([], $"--digits: '{part}' is not a digit 0-9 or a range such as 0-9.");
                return false;
            }

            var from = int.Parse(ends[0], CultureInfo.InvariantCulture);
            var to = int.Parse(ends[^1], CultureInfo.InvariantCulture);
            for (var d = Math.Min(from, to); d <= Math.Max(from, to); d++)
            {
                set.Add(d);
            }
        }

        digits = [.. set];
        error = set.Count == 0 ? "--digits: give at least one digit." : null;
        return set.Count > 0;
    }

    /// <summary>Parses a comma-separated list of dense, conv and vae.</summary>
    public static bool TryParseModels(string text, out string[] models, out string? error)
    {
        models = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(m => m.ToLowerInvariant()).Distinct().ToArray();
        var unknown = models.FirstOrDefault(m => !KnownModels.Contains(m));
        error = models.Length == 0 ? "--models: give at least one of dense, conv, vae." : unknown is null ? null : $"--models: '{unknown}' is not one of dense, conv, vae.";
        return error is null;
    }
}

/// <summary>One autoencoder of the comparison.</summary>
internal sealed record ModelConfig(string Name, string Description, int Epochs, double LearningRate, Func<int, IAutoencoder> Build);

/// <summary>The test AUROC of one score kind of one model, for one normal digit and one seed.</summary>
internal sealed record DigitRun(string Model, string Score, int Digit, int Seed, double Auroc, double AveragePrecision, double F1, double FalsePositiveRate);

/// <summary>Training and scoring time of one model for one digit and seed.</summary>
internal sealed record RunTime(string Model, int Digit, int Seed, int TrainingImages, int Epochs, double TrainSeconds, double ScoreSeconds);

/// <summary>A model and score kind over all digits: AUROC per digit (mean over seeds) and the mean over digits, mean ± sd over seeds.</summary>
internal sealed record Summary(string Model, string Score, double[] PerDigit, double[] PerDigitSd, double Mean, double MeanSd, double AveragePrecision);

/// <summary>Runs the one-class MNIST protocol and writes the results.</summary>
/// <param name="settings">What to run.</param>
/// <param name="console">Where progress and results are shown.</param>
/// <param name="loadMnist">Loads a split (default: MnistDataset.Load); the smoke test gives synthetic digits.</param>
internal sealed class AnomalyRunner(AnomalySettings settings, IAnsiConsole console, Func<MnistSplit, MnistLoadOptions, MnistDataset>? loadMnist = null)
{
    /// <summary>The expected false-positive rate the thresholds are calibrated for on the training digit.</summary>
    public const double FalsePositiveRate = 0.05;

    /// <summary>One-Class Deep SVDD, Ruff et al., "Deep One-Class Classification", ICML 2018 (PMLR 80), AUROC % per digit 0-9.</summary>
    public static readonly double[] DeepSvdd = [98.0, 99.7, 91.7, 91.9, 94.9, 88.5, 98.3, 94.6, 93.9, 96.5];

    public const string DeepSvddSource = "Ruff et al., \"Deep One-Class Classification\", ICML 2018 (PMLR 80), One-Class Deep SVDD";

    private readonly List<DigitRun> runs = [];
    private readonly List<RunTime> times = [];
    private readonly List<string> pictures = [];

    // Seed-1 scores and extremes per (model, score, digit), for the pictures of the best configuration.
    private readonly Dictionary<(string Model, string Score, int Digit), double[]> firstSeedScores = [];
    private readonly Dictionary<(string Model, string Score, int Digit), Extremes> extremes = [];
    private bool[][] isAnomalyByDigit = [];
    private MnistDataset train = null!;
    private MnistDataset test = null!;

    private sealed record Extremes(float[][] Most, float[][] MostMaps, float[][] Least, float[][] LeastMaps);

    public int Run(CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        try
        {
            (train, test) = SampleMnist.Prepare(settings.Threads, settings.Output, settings.DataDirectory, loadMnist);
            if (settings.Quick)
            {
                test = test.Take(Math.Min(test.Count, 2_000));
            }

            isAnomalyByDigit = Enumerable.Range(0, 10).Select(d => Enumerable.Range(0, test.Count).Select(i => test.GetLabel(i) != d).ToArray()).ToArray();
            var configs = settings.Models.Select(Config).ToArray();
            console.MarkupLineInterpolated($"[bold]LatentKit one-class MNIST[/]: digits {string.Join(",", settings.Digits)}, models {string.Join(", ", settings.Models)}, {settings.Seeds} seed(s), {test.Count} test images{(settings.Quick ? " (quick)" : string.Empty)}, {torch.get_num_threads()} threads");
            var work = configs.Sum(c => c.Epochs) * settings.Seeds * settings.Digits.Length;
            console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(context =>
                {
                    var task = context.AddTask("training", maxValue: work);
                    foreach (var config in configs)
                    {
                        for (var seed = 1; seed <= settings.Seeds; seed++)
                        {
                            foreach (var digit in settings.Digits)
                            {
                                task.Description = $"{config.Name}, digit {digit}, seed {seed}";
                                RunOne(config, digit, seed, task, cancellationToken);
                            }
                        }
                    }
                });

            var summaries = Summarise();
            ShowTable(summaries);
            var elapsed = total.Elapsed;
            Pictures(summaries);
            Write(summaries, elapsed);
            console.MarkupLineInterpolated($"[green]Done[/] in {elapsed.TotalMinutes:F1} min; results in {Path.GetFullPath(settings.Output)}");
            return 0;
        }
        catch (OperationCanceledException)
        {
            console.MarkupLine("[yellow]Cancelled.[/]");
            return 130;
        }
    }

    private ModelConfig Config(string name)
    {
        int E(int full) => settings.Epochs ?? (settings.Quick ? 2 : full);
        return name switch
        {
            "dense" => new ModelConfig("dense", "dense 784-256-128-32, ReLU, BCE", E(10), 1e-3, seed => Autoencoders.Dense().WithHiddenLayers(256, 128).WithLatentSize(32).WithActivation(Activation.ReLU).WithSeed(seed).Build()),
            "conv" => new ModelConfig("conv", "convolutional 32-64 channels, 7x7x1 code, ReLU, BCE", E(5), 2e-3, seed => Autoencoders.Convolutional().WithChannels(32, 64).WithLatentSize(49).WithActivation(Activation.ReLU).WithSeed(seed).Build()),
            "vae" => new ModelConfig("vae", "variational 784-256-128-16, ReLU", E(10), 1e-3, seed => Autoencoders.Variational().WithHiddenLayers(256, 128).WithLatentSize(16).WithActivation(Activation.ReLU).WithSeed(seed).Build()),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown model."),
        };
    }

    private void RunOne(ModelConfig config, int digit, int seed, ProgressTask task, CancellationToken cancellationToken)
    {
        var normal = train.Subset(Enumerable.Range(0, train.Count).Where(i => train.GetLabel(i) == digit).ToArray(), $"training digit {digit}");
        if (settings.Quick)
        {
            normal = normal.Take(Math.Min(normal.Count, 300));
        }

        var watch = Stopwatch.StartNew();
        using var model = config.Build(seed);
        var options = new TrainingOptions { Epochs = config.Epochs, BatchSize = 128, LearningRate = config.LearningRate, Seed = seed };
        var start = task.Value;
        var run = new TrainingRun
        {
            Threads = settings.Threads,
            Progress = new Progress<TrainingProgress>(p => task.Value = start + (p.Epoch - 1) + ((double)p.Batch / p.TotalBatches)),
        };
        model.Train(normal, options, run, cancellationToken);
        task.Value = start + config.Epochs;
        var trainSeconds = watch.Elapsed.TotalSeconds;
        watch.Restart();

        using var detector = AnomalyDetector.Fit(model, normal, new AnomalyDetectorOptions { FalsePositiveRate = FalsePositiveRate, LatentShrinkage = settings.Shrinkage });
        var onNormal = detector.FittedScores!;
        var onTest = detector.ScoreAll(test);
        var isAnomaly = isAnomalyByDigit[digit];
        foreach (var kind in Kinds(model))
        {
            var scores = onTest.Get(kind);
            var threshold = AnomalyThreshold.FromFalsePositiveRate(onNormal.Get(kind), FalsePositiveRate);
            var at = AnomalyMetrics.AtThreshold(scores, isAnomaly, threshold.Value);
            runs.Add(new DigitRun(config.Name, Name(kind), digit, seed, AnomalyMetrics.RocAuc(scores, isAnomaly), AnomalyMetrics.AveragePrecision(scores, isAnomaly), at.F1, at.FalsePositiveRate));
            if (seed == 1)
            {
                firstSeedScores[(config.Name, Name(kind), digit)] = scores;
                extremes[(config.Name, Name(kind), digit)] = FindExtremes(detector, scores);
            }
        }

        times.Add(new RunTime(config.Name, digit, seed, normal.Count, config.Epochs, trainSeconds, watch.Elapsed.TotalSeconds));
        var line = string.Join("  ", runs.Where(r => r.Model == config.Name && r.Digit == digit && r.Seed == seed).Select(r => $"{r.Score} {r.Auroc:F3}"));
        console.MarkupLineInterpolated($"  {config.Name}, digit {digit}, seed {seed}: {line}  ({trainSeconds:F0} s + {watch.Elapsed.TotalSeconds:F0} s)");
    }

    private static AnomalyScoreKind[] Kinds(IAutoencoder model) => model is IVariationalAutoencoder
        ? [AnomalyScoreKind.Reconstruction, AnomalyScoreKind.NegativeElbo, AnomalyScoreKind.Latent, AnomalyScoreKind.Combined]
        : [AnomalyScoreKind.Reconstruction, AnomalyScoreKind.Latent, AnomalyScoreKind.Combined];

    internal static string Name(AnomalyScoreKind kind) => kind switch
    {
        AnomalyScoreKind.Reconstruction => "reconstruction",
        AnomalyScoreKind.NegativeElbo => "negative ELBO",
        AnomalyScoreKind.Latent => "latent Mahalanobis",
        _ => "combined",
    };

    /// <summary>The 8 most and 8 least anomalous test images by <paramref name="scores"/>, and their reconstruction-error maps.</summary>
    private Extremes FindExtremes(AnomalyDetector detector, double[] scores)
    {
        const int count = 8;
        var order = Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).ToArray();
        (float[][] Images, float[][] Maps) Take(IEnumerable<int> indices)
        {
            var chosen = indices.Take(count).ToArray();
            using var images = test.ImagesToTensor(chosen);
            using var maps = detector.ErrorMaps(images);
            var pixels = images.data<float>().ToArray();
            var errors = maps.data<float>().ToArray();
            return (Enumerable.Range(0, chosen.Length).Select(i => pixels[(i * 784)..((i + 1) * 784)]).ToArray(), Enumerable.Range(0, chosen.Length).Select(i => errors[(i * 784)..((i + 1) * 784)]).ToArray());
        }

        var most = Take(order);
        var least = Take(order.Reverse());
        return new Extremes(most.Images, most.Maps, least.Images, least.Maps);
    }

    private List<Summary> Summarise()
    {
        var list = new List<Summary>();
        foreach (var group in runs.GroupBy(r => (r.Model, r.Score)))
        {
            var perDigit = new double[10];
            var perDigitSd = new double[10];
            Array.Fill(perDigit, double.NaN);
            Array.Fill(perDigitSd, double.NaN);
            foreach (var d in group.GroupBy(r => r.Digit))
            {
                var values = d.Select(r => r.Auroc).ToArray();
                perDigit[d.Key] = values.Average();
                perDigitSd[d.Key] = Sd(values);
            }

            // Mean over digits for each seed; then mean and sd of those over the seeds.
            var seedMeans = group.GroupBy(r => r.Seed).Select(s => s.Average(r => r.Auroc)).ToArray();
            list.Add(new Summary(group.Key.Model, group.Key.Score, perDigit, perDigitSd, seedMeans.Average(), Sd(seedMeans), group.Average(r => r.AveragePrecision)));
        }

        return list;
    }

    private static double Sd(double[] values) => values.Length < 2 ? 0 : Math.Sqrt(values.Sum(v => (v - values.Average()) * (v - values.Average())) / (values.Length - 1));

    private void ShowTable(List<Summary> summaries)
    {
        var table = new Table().Title("AUROC (%) per normal digit, mean over seeds");
        table.AddColumn("model / score");
        foreach (var d in settings.Digits)
        {
            table.AddColumn(new TableColumn(d.ToString(CultureInfo.InvariantCulture)).RightAligned());
        }

        table.AddColumn(new TableColumn("mean ± sd").RightAligned());
        table.AddRow([.. new[] { "One-Class Deep SVDD (Ruff et al. 2018)" }, .. settings.Digits.Select(d => DeepSvdd[d].ToString("F1", CultureInfo.InvariantCulture)), settings.Digits.Average(d => DeepSvdd[d]).ToString("F1", CultureInfo.InvariantCulture)]);
        foreach (var s in summaries)
        {
            table.AddRow([.. new[] { Markup.Escape($"{s.Model} / {s.Score}") }, .. settings.Digits.Select(d => (100 * s.PerDigit[d]).ToString("F1", CultureInfo.InvariantCulture)), $"{100 * s.Mean:F1} ± {100 * s.MeanSd:F1}"]);
        }

        console.Write(table);
    }

    private void Pictures(List<Summary> summaries)
    {
        var best = summaries.OrderByDescending(s => s.Mean).First();
        var label = $"{best.Model} / {best.Score}";
        var rocCurves = settings.Digits.Select(d => (d, AnomalyMetrics.RocCurve(firstSeedScores[(best.Model, best.Score, d)], isAnomalyByDigit[d]))).ToArray();
        Save("roc-curves.png", AnomalyPlots.RocPng($"ROC curves, {label}, seed 1", rocCurves));
        Save("auroc-by-score.png", AnomalyPlots.AurocBarsPng("Mean AUROC over digits (± sd over seeds)", summaries.Select(s => ($"{s.Model}\n{Short(s.Score)}", s.Mean, s.MeanSd)).ToArray(), DeepSvdd.Average() / 100));
        foreach (var d in settings.Digits)
        {
            var scores = firstSeedScores[(best.Model, best.Score, d)];
            var isAnomaly = isAnomalyByDigit[d];
            Save($"histogram-digit-{d}.png", AnomalyPlots.HistogramPng($"Scores ({label}), normal digit {d}, seed 1", scores.Where((_, i) => !isAnomaly[i]).ToArray(), scores.Where((_, i) => isAnomaly[i]).ToArray()));
            var e = extremes[(best.Model, best.Score, d)];
            float[][] Scaled(float[][] maps)
            {
                var max = Math.Max(1e-6f, maps.SelectMany(m => m).DefaultIfEmpty(0).Max());
                return maps.Select(m => m.Select(v => v / max).ToArray()).ToArray();
            }

            IReadOnlyList<ReadOnlyMemory<float>> Row(float[][] images) => images.Select(i => new ReadOnlyMemory<float>(i)).ToArray();
            Save($"extremes-digit-{d}.png", DigitGrid.RenderPng([Row(e.Most), Row(Scaled(e.MostMaps)), Row(e.Least), Row(Scaled(e.LeastMaps))]));
        }
    }

    private static string Short(string score) => score switch
    {
        "reconstruction" => "recon.",
        "negative ELBO" => "-ELBO",
        "latent Mahalanobis" => "latent",
        _ => score,
    };

    private void Save(string file, byte[] png)
    {
        var path = Path.Combine(settings.Output, file);
        AtomicFile.WriteAllBytes(path, png);
        pictures.Add(file);
    }

    private void Write(List<Summary> summaries, TimeSpan elapsed)
    {
        var best = summaries.OrderByDescending(s => s.Mean).First();
        var document = new
        {
            Protocol = "one-class MNIST (Ruff et al. 2018): train on the training images of one digit; score all test images; that digit normal, the nine others anomalies; AUROC",
            Preprocessing = "pixels scaled to [0, 1] (bytes / 255); no global contrast normalisation",
            settings.Quick,
            settings.Seeds,
            settings.Threads,
            settings.Digits,
            LatentShrinkage = settings.Shrinkage,
            Models = settings.Models.Select(Config).Select(c => new { c.Name, c.Description, c.Epochs, c.LearningRate, BatchSize = 128 }).ToArray(),
            TestImages = test.Count,
            FalsePositiveRate,
            Machine = new { Environment.ProcessorCount, Os = Environment.OSVersion.VersionString, Date = DateTime.UtcNow.ToString("u", CultureInfo.InvariantCulture) },
            TotalSeconds = elapsed.TotalSeconds,
            Reference = new { Name = "One-Class Deep SVDD", Source = DeepSvddSource, AurocPercent = DeepSvdd, Mean = Math.Round(DeepSvdd.Average(), 2) },
            Best = new { best.Model, best.Score, best.Mean, best.MeanSd },
            Summaries = summaries,
            Runs = runs,
            Times = times,
            Pictures = pictures,
        };
        JsonResultsWriter.Write(Path.Combine(settings.Output, "results.json"), document);
        AtomicFile.WriteAllText(Path.Combine(settings.Output, "results.md"), AnomalyMarkdown.Render(settings, test.Count, elapsed, summaries, times, pictures));
    }
}
