using System.Diagnostics;
using System.Globalization;
using LatentKit;
using TorchSharp;

namespace LatentKit.Benchmarks;

/// <summary>
/// The result table's steps, one scenario after another in one process as the sample runs them, with the process's
/// resident memory and its peak so far after each step: where the table's peak memory comes from.
/// </summary>
internal static class MemoryBenchmark
{
    /// <summary>Runs the steps and prints a line after each; returns the lines. <paramref name="load"/> replaces MNIST (tests).</summary>
    public static IReadOnlyList<string> Run(IReadOnlyList<int> scenarios, int? epochs, int threads, string? dataDirectory, Func<(Dataset Train, Dataset Test)>? load = null)
    {
        var lines = new List<string>();
        void Report(string step)
        {
            using var process = Process.GetCurrentProcess();
            static string MiB(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("F0", CultureInfo.InvariantCulture);
            var line = $"RESULT memory after {step}: resident {MiB(process.WorkingSet64)} MiB, peak so far {MiB(process.PeakWorkingSet64)} MiB, live managed {MiB(GC.GetTotalMemory(forceFullCollection: true))} MiB";
            Console.WriteLine(line);
            lines.Add(line);
        }

        torch.set_num_threads(threads);
        using (torch.zeros(1))
        {
            Report("TorchSharp loaded");
        }

        var options = new MnistLoadOptions { DataDirectory = dataDirectory };
        var (train, test) = load?.Invoke() ?? (MnistDataset.Load(MnistSplit.Train, options), MnistDataset.Load(MnistSplit.Test, options));
        Report("MNIST training and test images loaded");

        // A callback, as the result-table sample has: the loop then adds up the epoch figures.
        var run = new TrainingRun { Threads = threads, ValidationSet = test, Callbacks = [new NoOpCallback()] };
        foreach (var scenario in ReferenceScenarios.All.Where(s => scenarios.Contains(s.Number)))
        {
            var aeOptions = epochs is { } e ? scenario.AutoencoderTraining with { Epochs = e } : scenario.AutoencoderTraining;
            var classifierOptions = epochs is { } c ? scenario.ClassifierTraining with { Epochs = c } : scenario.ClassifierTraining;
            using var autoencoder = scenario.CreateAutoencoderBuilder().Build();
            autoencoder.Train(train, aeOptions, run);
            Report($"scenario {scenario.Number}: autoencoder trained, {aeOptions.Epochs} epoch(s), test set validated each epoch");
            _ = autoencoder.Evaluate(test);
            Report($"scenario {scenario.Number}: autoencoder evaluated on the test set");
            using var classifier = scenario.CreateClassifierBuilder(autoencoder).Build();
            classifier.Train(train, classifierOptions, run);
            Report($"scenario {scenario.Number}: classifier trained, {classifierOptions.Epochs} epoch(s) (training images encoded first)");
            _ = classifier.Evaluate(test);
            Report($"scenario {scenario.Number}: classifier evaluated on the test set");
        }

        return lines;
    }
}
