using System.Diagnostics;
using System.Globalization;
using System.Text;
using LatentKit.Samples.Common.Results;
using LatentKit.Samples.ResultTable.CommandLine;
using LatentKit.Samples.ResultTable.ConsoleUi;
using LatentKit.Samples.ResultTable.Report;
using Spectre.Console;
using TorchSharp;

namespace LatentKit.Samples.ResultTable;

/// <summary>
/// The result-table run for parsed settings: loads MNIST (downloading it into the cache when missing), trains the
/// chosen reference scenarios with progress bars and one log line per epoch, writes results.json, results.md, the
/// pictures and the trained models to the output directory, and prints the table beside the original's.
/// </summary>
public sealed class ResultTableRunner
{
    /// <summary>Exit code of a finished run (whether or not every row meets the original: the table says which do).</summary>
    public const int SuccessExitCode = 0;

    /// <summary>Exit code of a run that could not produce the table (MNIST unavailable, training diverged, ...).</summary>
    public const int FailureExitCode = 1;

    /// <summary>Exit code of a run cancelled with Ctrl+C (128 + SIGINT, as shells report it).</summary>
    public const int CancelledExitCode = 130;

    /// <summary>Folder of the saved models inside the output directory.</summary>
    public const string ModelsFolder = "models";

    private readonly ResultTableSettings settings;
    private readonly IAnsiConsole console;
    private readonly MnistLoader loadMnist;

    /// <summary>Creates a runner for <paramref name="settings"/> that writes to <paramref name="console"/>.</summary>
    public ResultTableRunner(ResultTableSettings settings, IAnsiConsole console)
        : this(settings, console, DefaultLoader)
    {
    }

    /// <summary>Creates a runner that gets MNIST from <paramref name="loadMnist"/> (tests use small synthetic sets).</summary>
    internal ResultTableRunner(ResultTableSettings settings, IAnsiConsole console, MnistLoader loadMnist)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(loadMnist);
        this.settings = settings;
        this.console = console;
        this.loadMnist = loadMnist;
    }

    /// <summary>Loads one split of MNIST.</summary>
    internal delegate Task<MnistDataset> MnistLoader(MnistSplit split, MnistLoadOptions options, IProgress<MnistDownloadProgress> progress, CancellationToken cancellationToken);

    /// <summary>Runs and returns the process exit code.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken = default)
    {
        var startedAt = DateTimeOffset.Now;
        var environment = RunEnvironment.Capture();
        console.Write(DescribePlan(settings, environment));
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (settings.Threads is { } threads)
            {
                torch.set_num_threads(threads);
            }

            environment = environment with { TorchThreads = torch.get_num_threads() };
            var (training, test) = await LoadDataAsync(cancellationToken).ConfigureAwait(false);
            Directory.CreateDirectory(settings.OutputDirectory);
            Directory.CreateDirectory(Path.Combine(settings.OutputDirectory, ModelsFolder));

            var total = Stopwatch.StartNew();
            var outcomes = new List<ScenarioOutcome>();
            foreach (var number in settings.Scenarios)
            {
                var scenario = ReferenceScenarios.All.Single(s => s.Number == number);
                outcomes.Add(await RunScenarioAsync(scenario, training, test, cancellationToken).ConfigureAwait(false));

                // Written after every scenario, so an interrupted run keeps the rows it finished.
                WriteResults(new ResultsDocument(startedAt, settings, environment, outcomes.ToArray()) { TotalWallTimeSeconds = total.Elapsed.TotalSeconds });
            }

            total.Stop();
            var document = new ResultsDocument(startedAt, settings, environment, outcomes) { TotalWallTimeSeconds = total.Elapsed.TotalSeconds };
            WriteResults(document);

            console.WriteLine();
            console.Write(ResultTableFormatter.ToConsoleTable(outcomes));
            foreach (var note in Notes(document))
            {
                console.WriteLine(note);
            }

            console.WriteLine(FormattableString.Invariant($"Total wall time {ResultTableFormatter.WallTime(total.Elapsed)}. Results in {Path.GetFullPath(settings.OutputDirectory)}"));
            return SuccessExitCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            console.MarkupLine("[yellow]Cancelled.[/] results.json and results.md hold the scenarios that finished, if any.");
            return CancelledExitCode;
        }
        catch (Exception e) when (e is MnistSourceException or MnistFormatException or TrainingDivergedException or IOException or UnauthorizedAccessException)
        {
            console.MarkupLine($"[red]The run failed:[/] {Markup.Escape(e.Message)}");
            return FailureExitCode;
        }
    }

    private void WriteResults(ResultsDocument document)
    {
        JsonResultsWriter.Write(Path.Combine(settings.OutputDirectory, ResultsDocument.JsonFileName), document);
        AtomicFile.WriteAllText(Path.Combine(settings.OutputDirectory, ResultsDocument.MarkdownFileName), ResultsMarkdown(document));
    }

    /// <summary>A console table of the settings and the environment of a run.</summary>
    public static Table DescribePlan(ResultTableSettings settings, RunEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(environment);
        static string OrPreset(int? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "each preset's own";

        var table = new Table().Border(TableBorder.Rounded).Title("result table run");
        table.AddColumn("setting");
        table.AddColumn("value");
        void Row(string name, string value) => table.AddRow(Markup.Escape(name), Markup.Escape(value));
        Row("scenarios", string.Join(", ", settings.Scenarios));
        Row("autoencoder epochs", settings.Epochs?.ToString(CultureInfo.InvariantCulture) ?? (settings.Quick ? $"{ResultTableSettings.QuickEpochs} (quick)" : "each preset's own"));
        Row("batch size", OrPreset(settings.BatchSize));
        Row("seed", OrPreset(settings.Seed));
        Row("threads", settings.Threads?.ToString(CultureInfo.InvariantCulture) ?? "TorchSharp's default");
        Row("MNIST cache", settings.DataDirectory ?? "the library's default");
        Row("output", Path.GetFullPath(settings.OutputDirectory));
        Row("quick", settings.Quick ? $"yes: {ResultTableSettings.QuickTrainingImages} training, {ResultTableSettings.QuickTestImages} test images" : "no");
        Row("LatentKit / TorchSharp", $"{environment.LatentKitVersion} / {environment.TorchSharpVersion}");
        Row(".NET", environment.DotnetVersion);
        Row("machine", $"{environment.OperatingSystem}, {environment.Architecture}, {environment.ProcessorCount} logical processors, {environment.MemoryGiB.ToString(CultureInfo.InvariantCulture)} GiB");
        return table;
    }

    /// <summary>The autoencoder's training settings for a scenario after the command line's overrides.</summary>
    internal static TrainingOptions AutoencoderOptions(ReferenceScenario scenario, ResultTableSettings settings) =>
        scenario.AutoencoderTraining with
        {
            Epochs = settings.EffectiveEpochs(scenario.AutoencoderTraining.Epochs),
            BatchSize = settings.BatchSize ?? scenario.AutoencoderTraining.BatchSize,
            Seed = settings.Seed ?? scenario.AutoencoderTraining.Seed,
        };

    /// <summary>The classifier's training settings (epochs are the preset's, or <see cref="ResultTableSettings.QuickEpochs"/> in quick mode).</summary>
    internal static TrainingOptions ClassifierOptions(ReferenceScenario scenario, ResultTableSettings settings) =>
        scenario.ClassifierTraining with
        {
            Epochs = settings.Quick ? ResultTableSettings.QuickEpochs : scenario.ClassifierTraining.Epochs,
            BatchSize = settings.BatchSize ?? scenario.ClassifierTraining.BatchSize,
            Seed = settings.Seed ?? scenario.ClassifierTraining.Seed,
        };

    /// <summary>results.md: the table, the settings, the machine, the notes and the pictures.</summary>
    internal static string ResultsMarkdown(ResultsDocument document)
    {
        var env = document.Environment;
        var text = new StringBuilder();
        text.AppendLine("# Result table").AppendLine();
        text.AppendLine(ResultTableFormatter.ToMarkdown(document.Scenarios).TrimEnd()).AppendLine();
        foreach (var note in Notes(document))
        {
            text.AppendLine(note).AppendLine();
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"Run started {document.StartedAt:yyyy-MM-dd HH:mm zzz}; total wall time {ResultTableFormatter.WallTime(TimeSpan.FromSeconds(document.TotalWallTimeSeconds))}.");
        text.AppendLine(CultureInfo.InvariantCulture, $"LatentKit {env.LatentKitVersion}, TorchSharp {env.TorchSharpVersion} (CPU), {env.DotnetVersion}, {env.OperatingSystem} {env.Architecture}, {env.ProcessorCount} logical processors, {env.MemoryGiB} GiB, {env.TorchThreads?.ToString(CultureInfo.InvariantCulture) ?? "default"} TorchSharp threads.");
        text.AppendLine();
        foreach (var outcome in document.Scenarios)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"## Scenario {outcome.Scenario}: {outcome.Name}").AppendLine();
            if (outcome.Description is { } description)
            {
                text.AppendLine(description).AppendLine();
            }

            foreach (var file in (outcome.Files ?? []).Where(f => f.EndsWith(".png", StringComparison.Ordinal)))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"![{Path.GetFileNameWithoutExtension(file)}]({file})").AppendLine();
            }
        }

        return text.ToString();
    }

    private static IEnumerable<string> Notes(ResultsDocument document)
    {
        if (document.Settings.Quick)
        {
            yield return "Quick mode: small subsets and 1 epoch, a smoke run; its figures are not comparable with the original's.";
        }

        foreach (var outcome in document.Scenarios.Where(o => o.OriginalLossNote is not null))
        {
            yield return $"Row {outcome.Scenario}: {outcome.OriginalLossNote}";
        }

        yield return "Autoencoder loss: mean per-pixel binary cross-entropy on the test images (for the VAE, of the decoded means, with the mean KL per image beside it); accuracy: top-1 on the test images.";
    }

    private static Task<MnistDataset> DefaultLoader(MnistSplit split, MnistLoadOptions options, IProgress<MnistDownloadProgress> progress, CancellationToken cancellationToken) =>
        MnistDataset.LoadAsync(split, options, progress, logger: null, cancellationToken);

    private static IAutoencoderBuilder WithSeed(IAutoencoderBuilder builder, int? seed) => seed is not { } s ? builder : builder switch
    {
        DenseAutoencoderBuilder dense => dense.WithSeed(s),
        ConvolutionalAutoencoderBuilder convolutional => convolutional.WithSeed(s),
        VariationalAutoencoderBuilder variational => variational.WithSeed(s),
        _ => throw new NotSupportedException($"Cannot set the seed of a {builder.GetType().Name}."),
    };

    private static TrainingSettingsRecord Record(TrainingOptions o, TrainingRun run) =>
        new(o.Epochs, o.BatchSize, o.LearningRate, o.Optimizer.ToString(), o.Seed, run.Threads);

    /// <summary>The run environment of one training: the command line's threads, the test set as validation (the "test" loss of the bars and the epoch log), and the reporter for progress and epoch ends.</summary>
    private TrainingRun Run(TrainingReporter reporter, MnistDataset monitor) =>
        new() { Threads = settings.Threads, ValidationSet = monitor, Progress = reporter, Callbacks = [reporter] };

    private static IReadOnlyList<EpochRecord> Record(TrainingHistory history) =>
        history.Epochs.Select(e => new EpochRecord(e.Epoch, e.TrainingLoss, e.ValidationLoss, e.Duration.TotalSeconds, e.ImagesPerSecond)).ToArray();

    private async Task<(MnistDataset Training, MnistDataset Test)> LoadDataAsync(CancellationToken cancellationToken)
    {
        var options = new MnistLoadOptions();
        if (settings.DataDirectory is { } directory)
        {
            options.CacheDirectory = Path.GetFullPath(directory);
        }

        var (training, test) = await ProgressDisplay.RunAsync(console, async context =>
        {
            var bars = new DownloadProgressBars(context, console);
            var lastSeen = new Dictionary<string, MnistDownloadProgress>(StringComparer.Ordinal);
            var progress = new SynchronousProgress<MnistDownloadProgress>(p =>
            {
                lock (lastSeen)
                {
                    lastSeen[p.FileName] = p;
                }

                bars.Report(new DownloadUpdate(p.FileName, p.BytesDone, p.TotalBytes, Completed: p.TotalBytes is { } t && p.BytesDone >= t, p.Source));
            });
            var train = await loadMnist(MnistSplit.Train, options, progress, cancellationToken).ConfigureAwait(false);
            var testSet = await loadMnist(MnistSplit.Test, options, progress, cancellationToken).ConfigureAwait(false);
            lock (lastSeen)
            {
                foreach (var p in lastSeen.Values)
                {
                    bars.Report(new DownloadUpdate(p.FileName, p.BytesDone, p.TotalBytes ?? p.BytesDone, Completed: true, p.Source));
                }
            }

            return (train, testSet);
        }).ConfigureAwait(false);

        console.WriteLine(FormattableString.Invariant($"MNIST: {training.Count:N0} training and {test.Count:N0} test images ({options.CacheDirectory})."));
        if (settings.Quick)
        {
            var seed = settings.Seed ?? ReferenceScenarios.Seed;
            training = training.TakePerClass(ResultTableSettings.QuickTrainingImages / MnistDataset.ClassCount, seed);
            test = test.TakePerClass(ResultTableSettings.QuickTestImages / MnistDataset.ClassCount, seed);
            console.WriteLine(FormattableString.Invariant($"Quick mode: a balanced {training.Count:N0} training and {test.Count:N0} test images."));
        }

        return (training, test);
    }

    private async Task<ScenarioOutcome> RunScenarioAsync(ReferenceScenario scenario, MnistDataset training, MnistDataset test, CancellationToken cancellationToken)
    {
        var n = scenario.Number;
        console.WriteLine();
        console.MarkupLine($"[bold]Scenario {n}: {Markup.Escape(scenario.Name)}[/]");
        console.WriteLine(scenario.Description);
        var autoencoderOptions = AutoencoderOptions(scenario, settings);
        var classifierOptions = ClassifierOptions(scenario, settings);
        var stopwatch = Stopwatch.StartNew();

        return await ProgressDisplay.RunAsync(console, context => Task.Run(
            () =>
            {
                var label = $"scenario {n}";
                using var autoencoder = WithSeed(scenario.CreateAutoencoderBuilder(), settings.Seed).Build();
                var aeBar = new TrainingProgressBar(context, console, $"{label} autoencoder", autoencoderOptions.Epochs, Batches(training.Count, autoencoderOptions.BatchSize), "test");
                var aeReporter = new TrainingReporter(aeBar);
                var autoencoderRun = Run(aeReporter, test);
                var autoencoderHistory = autoencoder.Train(training, autoencoderOptions, autoencoderRun, cancellationToken);
                aeBar.Complete();
                cancellationToken.ThrowIfCancellationRequested();

                var classifierBuilder = scenario.CreateClassifierBuilder(autoencoder);
                if (settings.Seed is { } seed)
                {
                    classifierBuilder = classifierBuilder.WithSeed(seed);
                }

                using var classifier = classifierBuilder.Build();
                var clBar = new TrainingProgressBar(context, console, $"{label} classifier", classifierOptions.Epochs, Batches(training.Count, classifierOptions.BatchSize), "test");
                var clReporter = new TrainingReporter(clBar);
                var classifierRun = Run(clReporter, test);
                var classifierHistory = classifier.Train(training, classifierOptions, classifierRun, cancellationToken);
                clBar.Complete();
                cancellationToken.ThrowIfCancellationRequested();

                var reconstruction = autoencoder.Evaluate(test);
                var classification = classifier.Evaluate(test);
                var files = new List<string>(ScenarioPictures.Write(settings.OutputDirectory, n, scenario.Name, autoencoder, test, autoencoderHistory, classifierHistory));
                var autoencoderFile = Path.Combine(ModelsFolder, $"scenario-{n}-autoencoder.lkm");
                var classifierFile = Path.Combine(ModelsFolder, $"scenario-{n}-classifier.lkm");
                autoencoder.Save(Path.Combine(settings.OutputDirectory, autoencoderFile));
                classifier.Save(Path.Combine(settings.OutputDirectory, classifierFile));
                files.Add(autoencoderFile.Replace('\\', '/'));
                files.Add(classifierFile.Replace('\\', '/'));
                stopwatch.Stop();

                var matrix = classification.ConfusionMatrix;
                var outcome = new ScenarioOutcome(
                    n,
                    scenario.Name,
                    reconstruction.BinaryCrossEntropy,
                    reconstruction.KlDivergence,
                    classification.Accuracy,
                    scenario.OriginalLoss,
                    scenario.OriginalAccuracy,
                    scenario.OriginalLossIsPerPixelBce,
                    autoencoderHistory.Epochs.Count,
                    classifierHistory.Epochs.Count,
                    stopwatch.Elapsed)
                {
                    Description = scenario.Description,
                    MeanSquaredError = reconstruction.MeanSquaredError,
                    OriginalLossNote = scenario.OriginalLossNote,
                    TestImages = test.Count,
                    TrainingImages = training.Count,
                    ConfusionMatrix = Enumerable.Range(0, matrix.GetLength(0)).Select(t => (IReadOnlyList<int>)Enumerable.Range(0, matrix.GetLength(1)).Select(p => matrix[t, p]).ToArray()).ToArray(),
                    PerClassRecall = classification.PerClassRecall.ToArray(),
                    AutoencoderTraining = Record(autoencoderOptions, autoencoderRun),
                    ClassifierTraining = Record(classifierOptions, classifierRun),
                    AutoencoderEpochLog = Record(autoencoderHistory),
                    ClassifierEpochLog = Record(classifierHistory),
                    Files = files,
                };
                var kl = outcome.KlDivergence is { } k ? FormattableString.Invariant($", KL {k:0.00} per image") : string.Empty;
                console.WriteLine(FormattableString.Invariant(
                    $"scenario {n}: test BCE {outcome.AutoencoderLoss:0.0000}{kl}, MSE {outcome.MeanSquaredError:0.0000}, accuracy {outcome.ClassifierAccuracy:0.0000}, {ResultTableFormatter.WallTime(outcome.WallTime)}"));
                return outcome;
            },
            cancellationToken)).ConfigureAwait(false);
    }

    private static int Batches(int count, int batchSize)
    {
        var size = Math.Min(batchSize, count);
        return (count + size - 1) / size;
    }

    /// <summary>An <see cref="IProgress{T}"/> that calls back on the reporting thread (no synchronisation context).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
