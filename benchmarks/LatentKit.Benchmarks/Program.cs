using System.Diagnostics;
using LatentKit.Benchmarks;
using LatentKit.Building;
using LatentKit.Data;
using LatentKit.Training;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

// LatentKit measurements: scenario reproduction, training-loop speed against a hand-written TorchSharp loop, and
// native memory across epochs. Usage:
//   dotnet run -c Release --project benchmarks/LatentKit.Benchmarks -- <scenarios|speed|memory> [options]
// MNIST: the folder of raw IDX files in LATENTKIT_MNIST_DIR (default /work/dev-mnist/package/data).
var command = args.Length > 0 ? args[0] : "help";
var folder = Environment.GetEnvironmentVariable("LATENTKIT_MNIST_DIR") ?? "/work/dev-mnist/package/data";
int Arg(string name, int fallback) => args.SkipWhile(a => a != name).Skip(1).Select(int.Parse).DefaultIfEmpty(fallback).First();

switch (command)
{
    case "scenarios":
        Scenarios(Arg("--train", 60000), Arg("--epochs", 0), args.SkipWhile(a => a != "--only").Skip(1).Select(int.Parse).ToArray());
        break;
    case "speed":
        Speed(Arg("--threads", 1), Arg("--batch", 128), Arg("--epochs", 3), Arg("--train", 20000));
        break;
    case "memory":
        Memory(Arg("--epochs", 10), Arg("--train", 10000));
        break;
    default:
        Console.WriteLine("usage: <scenarios [--train N] [--epochs E] [--only 1 2 ..]|speed [--threads T] [--batch B] [--epochs E] [--train N]|memory [--epochs E] [--train N]>");
        break;
}

void Scenarios(int trainCount, int epochs, int[] only)
{
    var train = IdxFiles.Read(folder, MnistSplit.Train).Take(trainCount);
    var test = IdxFiles.Read(folder, MnistSplit.Test);
    var logger = new ConsoleLogger();
    var total = Stopwatch.StartNew();
    foreach (var scenario in ReferenceScenarios.All.Where(s => only.Length == 0 || only.Contains(s.Number)))
    {
        var watch = Stopwatch.StartNew();
        var aeOptions = epochs > 0 ? scenario.AutoencoderTraining with { Epochs = epochs } : scenario.AutoencoderTraining;
        var clOptions = epochs > 0 ? scenario.ClassifierTraining with { Epochs = epochs } : scenario.ClassifierTraining;
        using var autoencoder = scenario.CreateAutoencoderBuilder().Build();
        var aeHistory = autoencoder.Train(train, aeOptions, logger: logger);
        var aeTime = watch.Elapsed;
        using var classifier = scenario.CreateClassifierBuilder(autoencoder).Build();
        var clHistory = classifier.Train(train, clOptions, logger: logger);
        var reconstruction = autoencoder.Evaluate(test);
        var classification = classifier.Evaluate(test);
        Console.WriteLine(
            $"RESULT scenario {scenario.Number}: test BCE {reconstruction.BinaryCrossEntropy:F4} (original {scenario.OriginalLoss:F3}), MSE {reconstruction.MeanSquaredError:F4}, KL {reconstruction.KlDivergence?.ToString("F2") ?? "-"}, " +
            $"accuracy {classification.Accuracy:F4} (original {scenario.OriginalAccuracy:F2}); AE {aeOptions.Epochs} epochs {aeTime.TotalSeconds:F1} s, classifier {clOptions.Epochs} epochs {(watch.Elapsed - aeTime).TotalSeconds:F1} s, train {train.Count}");
    }

    Console.WriteLine($"RESULT total {total.Elapsed.TotalSeconds:F1} s");
}

void Speed(int threads, int batch, int epochs, int trainCount)
{
    var train = IdxFiles.Read(folder, MnistSplit.Train).Take(trainCount);
    torch.set_num_threads(threads);
    var options = new TrainingOptions { Epochs = epochs, BatchSize = batch, Threads = threads, Seed = 1 };

    // Warm-up of both paths (JIT, allocator).
    using (var warm = Autoencoders.Dense().WithSeed(1).Build())
    {
        warm.Train(train.Take(2000), options with { Epochs = 1 });
    }

    HandWritten(train, threads, batch, 1);

    for (var round = 1; round <= 2; round++)
    {
        using var model = Autoencoders.Dense().WithSeed(1).Build();
        var history = model.Train(train, options);
        var latentKit = history.Epochs.Average(e => e.ImagesPerSecond);
        var hand = HandWritten(train, threads, batch, epochs);
        Console.WriteLine($"RESULT speed round {round}: LatentKit {latentKit:F0} images/s, hand-written {hand:F0} images/s, ratio {latentKit / hand:F3} (threads {threads}, batch {batch}, {trainCount} images, {epochs} epochs)");
    }
}

// The minimal hand-written TorchSharp loop on the same model (784-256-128-49-128-256-784, ReLU, sigmoid, BCE),
// with the whole training set preloaded as one float tensor: only forward, loss, backward, step per batch.
double HandWritten(MnistDataset train, int threads, int batch, int epochs)
{
    torch.set_num_threads(threads);
    torch.manual_seed(1);
    var model = nn.Sequential(
        nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 49),
        nn.Linear(49, 128), nn.ReLU(), nn.Linear(128, 256), nn.ReLU(), nn.Linear(256, 784));
    using var optimizer = optim.Adam(model.parameters(), 1e-3);
    using var images = train.ImagesToTensor();
    var n = train.Count;
    var rates = new List<double>();
    for (var epoch = 0; epoch < epochs; epoch++)
    {
        using var permutation = randperm(n);
        var watch = Stopwatch.StartNew();
        for (var start = 0; start < n; start += batch)
        {
            using var scope = NewDisposeScope();
            var x = images.index_select(0, permutation.narrow(0, start, Math.Min(batch, n - start)));
            optimizer.zero_grad();
            var loss = nn.functional.binary_cross_entropy_with_logits(model.forward(x), x);
            loss.backward();
            optimizer.step();
            _ = loss.item<float>();
        }

        rates.Add(n / watch.Elapsed.TotalSeconds);
    }

    model.Dispose();
    return rates.Average();
}

void Memory(int epochs, int trainCount)
{
    var train = IdxFiles.Read(folder, MnistSplit.Train).Take(trainCount);
    using var model = Autoencoders.Convolutional().WithSeed(1).Build();
    var progress = new EpochEndReporter(epochs);
    var options = new TrainingOptions { Epochs = epochs, BatchSize = 128, Threads = 2, ValidationFraction = 0.1 };
    model.Train(train, options, progress);
}

/// <summary>Prints the process's resident memory at the end of each epoch (reported synchronously).</summary>
internal sealed class EpochEndReporter(int epochs) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value)
    {
        if (value.Batch == value.TotalBatches)
        {
            using var process = Process.GetCurrentProcess();
            GC.Collect();
            Console.WriteLine($"RESULT memory after epoch {value.Epoch}/{epochs}: RSS {process.WorkingSet64 / (1024.0 * 1024.0):F1} MiB, managed {GC.GetTotalMemory(false) / (1024.0 * 1024.0):F1} MiB");
        }
    }
}

/// <summary>Writes log lines to the console (keeps this program free of logging-provider packages).</summary>
internal sealed class ConsoleLogger : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
        {
            Console.WriteLine($"{DateTime.Now:HH:mm:ss} {formatter(state, exception)}");
        }
    }
}
