using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using TorchSharp;

namespace LatentKit.Benchmarks;

/// <summary>Settings of the throughput benchmark.</summary>
internal sealed record ThroughputSettings(IReadOnlyList<int> Scenarios, int? BatchSize, int Threads, int TrainCount, int Rounds, string? DataDirectory, bool WithCallback, string? Output, string CommandLine);

/// <summary>One scenario's result: medians over the rounds.</summary>
internal sealed record ThroughputRow(
    int Scenario, string Model, int BatchSize, int Threads, double LatentKit, double HandWritten, double PeakMiB, double RssMiB, IReadOnlyList<double> LatentKitRounds, IReadOnlyList<double> HandWrittenRounds)
{
    public double Ratio => LatentKit / HandWritten;

    /// <summary>Seconds per full-MNIST epoch (60,000 images) at LatentKit's median throughput.</summary>
    public double SecondsPerEpoch => 60_000 / LatentKit;
}

/// <summary>
/// Images per second of LatentKit's training loop (<see cref="IAutoencoder.Train"/>) against a minimal hand-written
/// TorchSharp loop on an identical model, same batch size, threads and images, in alternating rounds.
/// </summary>
internal static class ThroughputBenchmark
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static int Run(ThroughputSettings settings) =>
        Run(settings, () => MnistDataset.Load(MnistSplit.Train, new MnistLoadOptions { DataDirectory = settings.DataDirectory }));

    /// <summary>Runs the benchmark on the first <see cref="ThroughputSettings.TrainCount"/> images of what <paramref name="loadTrain"/> gives (the smoke test gives synthetic digits).</summary>
    public static int Run(ThroughputSettings settings, Func<MnistDataset> loadTrain)
    {
        torch.set_num_threads(settings.Threads);
        var started = DateTimeOffset.UtcNow;
        var total = Stopwatch.StartNew();
        var train = loadTrain().Take(settings.TrainCount);
        Console.WriteLine($"{train.Count} training images, {settings.Threads} TorchSharp threads, {settings.Rounds} alternating rounds");

        var rows = new List<ThroughputRow>();
        foreach (var scenario in ReferenceScenarios.All.Where(s => settings.Scenarios.Contains(s.Number)))
        {
            rows.Add(RunScenario(scenario, train, settings));
            var row = rows[^1];
            Console.WriteLine(
                $"RESULT scenario {row.Scenario} ({row.Model}): LatentKit {row.LatentKit:F0} images/s, hand-written {row.HandWritten:F0} images/s, " +
                $"ratio {row.Ratio:F3}, {row.SecondsPerEpoch:F1} s per 60k epoch, peak {row.PeakMiB:F0} MiB, RSS {row.RssMiB:F0} MiB");
        }

        total.Stop();
        Console.WriteLine($"RESULT total {total.Elapsed.TotalSeconds:F1} s");
        if (settings.Output is { } output)
        {
            WritePage(output, PageSections.KeepSections(output, Markdown(rows, settings, train.Count, started, total.Elapsed)));
            Console.WriteLine($"Wrote {output}");
        }

        return 0;
    }

    private static ThroughputRow RunScenario(ReferenceScenario scenario, MnistDataset train, ThroughputSettings settings)
    {
        var preset = scenario.AutoencoderTraining;
        var batch = settings.BatchSize ?? preset.BatchSize;
        var options = preset with { Epochs = 1, BatchSize = batch, ValidationFraction = null };
        var run = new TrainingRun { Threads = settings.Threads, Callbacks = settings.WithCallback ? [new NoOpCallback()] : [] };

        // Two models from the same builder: the same layers and the same initial weights.
        using var ours = scenario.CreateAutoencoderBuilder().Build();
        using var theirsModel = scenario.CreateAutoencoderBuilder().Build();
        using var theirs = new HandWrittenLoop((AutoencoderBase)theirsModel, train, batch, preset.LearningRate, preset.Seed);
        torch.set_num_threads(settings.Threads);

        // One warm-up epoch per side (JIT, allocator, thread pool), not measured.
        ours.Train(train, options, run);
        theirs.TrainEpoch();

        var latentKit = new List<double>();
        var handWritten = new List<double>();
        for (var round = 1; round <= settings.Rounds; round++)
        {
            // Alternate which loop goes first, so that neither always runs on a warmer (or busier) machine.
            if (round % 2 == 1)
            {
                latentKit.Add(ours.Train(train, options with { Seed = preset.Seed + round }, run).Epochs[0].ImagesPerSecond);
                handWritten.Add(theirs.TrainEpoch());
            }
            else
            {
                handWritten.Add(theirs.TrainEpoch());
                latentKit.Add(ours.Train(train, options with { Seed = preset.Seed + round }, run).Epochs[0].ImagesPerSecond);
            }

            Console.WriteLine($"scenario {scenario.Number} round {round}: LatentKit {latentKit[^1]:F0} images/s, hand-written {handWritten[^1]:F0} images/s");
        }

        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return new ThroughputRow(
            scenario.Number,
            ModelName(scenario.Number),
            batch,
            settings.Threads,
            Median(latentKit),
            Median(handWritten),
            process.PeakWorkingSet64 / (1024.0 * 1024.0),
            process.WorkingSet64 / (1024.0 * 1024.0),
            latentKit,
            handWritten);
    }

    private static string ModelName(int scenario) => scenario switch
    {
        1 => "dense, ReLU",
        2 => "convolutional, ReLU",
        3 => "dense, Tanh",
        4 => "variational, ReLU",
        _ => scenario.ToString(Invariant),
    };

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Markdown(List<ThroughputRow> rows, ThroughputSettings settings, int imageCount, DateTimeOffset started, TimeSpan elapsed)
    {
        var s = new StringBuilder();
        s.AppendLine("# Performance");
        s.AppendLine();
        s.AppendLine("Throughput of LatentKit's training loop (`IAutoencoder.Train`) against a minimal hand-written TorchSharp loop on the same model, measured side by side in one run by the benchmark program in `benchmarks/LatentKit.Benchmarks`. This page is its output.");
        s.AppendLine();
        s.AppendLine("```bash");
        s.AppendLine(settings.CommandLine);
        s.AppendLine("```");
        s.AppendLine();
        s.AppendLine("## The table");
        s.AppendLine();
        s.AppendLine("| # | model | batch | threads | LatentKit images/s | hand-written images/s | ratio | s per 60k-image epoch | peak memory MiB |");
        s.AppendLine("| :-: | :-- | --: | --: | --: | --: | --: | --: | --: |");
        foreach (var r in rows)
        {
            s.AppendLine(Invariant, $"| {r.Scenario} | {r.Model} | {r.BatchSize} | {r.Threads} | {r.LatentKit:N0} | {r.HandWritten:N0} | {r.Ratio:F3} | {r.SecondsPerEpoch:F1} | {r.PeakMiB:F0} |");
        }

        s.AppendLine();
        var callbacks = settings.WithCallback
            ? "LatentKit's runs have a callback that does nothing (`--with-callback`), which gets each epoch's figures; as every run, they add up the figures (the loss's terms) for the history."
            : "LatentKit's runs have no callbacks (with `--with-callback` they get one that does nothing); as every run, they add up the epoch figures (the loss's terms) for the history.";
        s.AppendLine(Invariant, $"Each figure is the median of {settings.Rounds} alternating rounds on the first {imageCount:N0} MNIST training images. A round is one epoch of LatentKit's `Train` and one epoch of the hand-written loop, the order swapped every round; one warm-up epoch per side precedes the rounds and is not counted. Both sides start from the same weights (two models from the scenario's builder) and use the preset's optimizer settings (Adam, its learning rate) and batch size. {callbacks}");
        s.AppendLine();
        s.AppendLine("- **LatentKit images/s**: `TrainingHistory.Epochs[0].ImagesPerSecond` of a one-epoch `Train` call (the batch loop; building the training tensors and the optimizer happen outside it on every call and are not counted).");
        s.AppendLine("- **Hand-written images/s**: the whole training subset preloaded as one float tensor in the network's shape; per batch `index_select`, `zero_grad`, forward, loss, `item`, `backward`, `step`. The loss is the model's: mean per-pixel BCE from logits; for the VAE, BCE summed per image plus the KL term, with the reparameterisation trick.");
        s.AppendLine("- **Ratio**: LatentKit / hand-written; above 1 means LatentKit was faster in that run. The aim is at least 0.95.");
        s.AppendLine("- **s per 60k-image epoch**: 60,000 / LatentKit's median images per second, training only (no validation).");
        s.AppendLine("- **Peak memory**: the process's peak working set (`Process.PeakWorkingSet64`) after the scenario; it is a high-water mark of the whole process, so it never decreases from one row to the next. Most of it is the hand-written loop's: TorchSharp's own Adam, which it uses, grows resident memory by about 300 MiB per epoch over its first epochs; LatentKit's optimizer steps do not (see the memory article, docs/articles/memory.md).");
        s.AppendLine();
        s.AppendLine("Rounds, per scenario (images/s, in order):");
        s.AppendLine();
        foreach (var r in rows)
        {
            s.AppendLine(Invariant, $"- {r.Scenario}: LatentKit {string.Join(", ", r.LatentKitRounds.Select(v => v.ToString("N0", Invariant)))}; hand-written {string.Join(", ", r.HandWrittenRounds.Select(v => v.ToString("N0", Invariant)))}; resident memory after the scenario {r.RssMiB:F0} MiB");
        }

        s.AppendLine();
        s.AppendLine("## The machine");
        s.AppendLine();
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024.0 * 1024.0);
        s.AppendLine(Invariant, $"- {Environment.ProcessorCount} logical processors ({RuntimeInformation.ProcessArchitecture}), {memory:F1} GiB of memory available to the process, {OperatingSystem()}");
        s.AppendLine(Invariant, $"- {RuntimeInformation.FrameworkDescription}, TorchSharp {TorchSharpVersion()} on the CPU (`TorchSharp-cpu`), {settings.Threads} TorchSharp threads");
        s.AppendLine(Invariant, $"- Run started {started:yyyy-MM-dd HH:mm} UTC, took {elapsed.TotalSeconds:F0} s (loading MNIST included){LoadAverage()}");
        return s.ToString();
    }

    private static string OperatingSystem()
    {
        const string osRelease = "/etc/os-release";
        if (File.Exists(osRelease))
        {
            var line = File.ReadLines(osRelease).FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal));
            if (line is not null)
            {
                return line["PRETTY_NAME=".Length..].Trim('"');
            }
        }

        return RuntimeInformation.OSDescription;
    }

    private static string TorchSharpVersion()
    {
        var version = typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? typeof(torch).Assembly.GetName().Version?.ToString() ?? "?";
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? version : version[..plus];
    }

    private static string LoadAverage()
    {
        const string loadavg = "/proc/loadavg";
        if (!File.Exists(loadavg))
        {
            return string.Empty;
        }

        var parts = File.ReadAllText(loadavg).Split(' ');
        return $"; load average at the end {parts[0]} {parts[1]} {parts[2]} (1, 5, 15 min)";
    }

    /// <summary>Writes <paramref name="text"/> to <paramref name="path"/> atomically: a temporary file beside it, then a rename.</summary>
    private static void WritePage(string path, string text)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        File.WriteAllText(temp, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        File.Move(temp, full, overwrite: true);
    }
}

/// <summary>A callback that does nothing: its presence makes the training loop add up the epoch figures.</summary>
internal sealed class NoOpCallback : ITrainingCallback
{
    public void OnEpochEnd(EpochSummary summary, TrainingControl control)
    {
    }
}
