using System.Diagnostics;
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
        Scenarios(Arg("--train", 60000), Arg("--epochs", 0), Arg("--threads", 0), args.SkipWhile(a => a != "--only").Skip(1).TakeWhile(a => int.TryParse(a, out _)).Select(int.Parse).ToArray());
        break;
    case "speed":
        Speed(Arg("--threads", 1), Arg("--batch", 128), Arg("--rounds", 7), Arg("--train", 10000));
        break;
    case "conv":
        ConvSpeed(Arg("--threads", 1), Arg("--train", 5000), Arg("--c1", 16), Arg("--c2", 32), Arg("--epochs", 1));
        break;
    case "layers":
        LayerTimes(Arg("--threads", 2));
        break;
    case "memory":
        Memory(Arg("--epochs", 10), Arg("--train", 10000));
        break;
    default:
        Console.WriteLine("usage: <scenarios [--train N] [--epochs E] [--threads T] [--only 1 2 ..]|speed [--threads T] [--batch B] [--rounds R] [--train N]|memory [--epochs E] [--train N]>");
        break;
}

void Scenarios(int trainCount, int epochs, int threads, int[] only)
{
    var train = MnistDataset.LoadFromDirectory(folder, MnistSplit.Train).Take(trainCount);
    var test = MnistDataset.LoadFromDirectory(folder, MnistSplit.Test);
    var logger = new ConsoleLogger();
    var total = Stopwatch.StartNew();
    foreach (var scenario in ReferenceScenarios.All.Where(s => only.Length == 0 || only.Contains(s.Number)))
    {
        var watch = Stopwatch.StartNew();
        var aeOptions = epochs > 0 ? scenario.AutoencoderTraining with { Epochs = epochs } : scenario.AutoencoderTraining;
        var clOptions = epochs > 0 ? scenario.ClassifierTraining with { Epochs = epochs } : scenario.ClassifierTraining;
        if (args.Contains("--validate-on-test"))
        {
            // For tuning only: the per-epoch validation loss is then the test loss.
            aeOptions = aeOptions with { ValidationSet = test };
            clOptions = clOptions with { ValidationSet = test };
        }

        var lr = args.SkipWhile(a => a != "--lr").Skip(1).Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();
        if (lr > 0)
        {
            aeOptions = aeOptions with { LearningRate = lr };
        }

        var batch = Arg("--batch", 0);
        if (batch > 0)
        {
            aeOptions = aeOptions with { BatchSize = batch };
        }

        if (threads > 0)
        {
            aeOptions = aeOptions with { Threads = threads };
            clOptions = clOptions with { Threads = threads };
        }
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
    var train = MnistDataset.LoadFromDirectory(folder, MnistSplit.Train).Take(trainCount);
    torch.set_num_threads(threads);
    var options = new TrainingOptions { Epochs = epochs, BatchSize = batch, Threads = threads, Seed = 1 };

    // Warm-up of both paths (JIT, allocator).
    using (var warm = Autoencoders.Dense().WithSeed(1).Build())
    {
        warm.Train(train.Take(2000), options with { Epochs = 1 });
    }

    HandWritten(train, threads, batch, 1);

    // Alternate one LatentKit epoch and one hand-written epoch, several times, and compare the medians: on a machine
    // shared with other work, the throughput of back-to-back runs varies more than the difference being measured.
    var ours = new List<double>();
    var theirs = new List<double>();
    using var model = Autoencoders.Dense().WithSeed(1).Build();
    for (var round = 1; round <= epochs; round++)
    {
        // Swap the order every round so that neither loop always runs first.
        if (round % 2 == 1)
        {
            ours.Add(model.Train(train, options with { Epochs = 1, Seed = round }).Epochs[0].ImagesPerSecond);
            theirs.Add(HandWritten(train, threads, batch, 1));
        }
        else
        {
            theirs.Add(HandWritten(train, threads, batch, 1));
            ours.Add(model.Train(train, options with { Epochs = 1, Seed = round }).Epochs[0].ImagesPerSecond);
        }
        Console.WriteLine($"round {round}: LatentKit {ours[^1]:F0} images/s, hand-written {theirs[^1]:F0} images/s");
    }

    double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
    Console.WriteLine($"RESULT speed: LatentKit median {Median(ours):F0} images/s, hand-written median {Median(theirs):F0} images/s, ratio {Median(ours) / Median(theirs):F3} (threads {threads}, batch {batch}, {trainCount} images, {epochs} alternating rounds)");
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

void ConvSpeed(int threads, int trainCount, int c1, int c2, int epochs)
{
    var train = MnistDataset.LoadFromDirectory(folder, MnistSplit.Train).Take(trainCount);
    var test = MnistDataset.LoadFromDirectory(folder, MnistSplit.Test);
    using var model = Autoencoders.Convolutional().WithChannels(c1, c2).WithSeed(42).Build();
    var history = model.Train(train, new TrainingOptions { Epochs = epochs, BatchSize = 128, LearningRate = 2e-3, Threads = threads }, logger: new ConsoleLogger());
    Console.WriteLine($"RESULT conv ({c1}, {c2}) threads {threads}: {history.Epochs.Average(e => e.ImagesPerSecond):F0} images/s, test BCE {model.Evaluate(test).BinaryCrossEntropy:F4}");
}

void LayerTimes(int threads)
{
    torch.set_num_threads(threads);
    (string, nn.Module<Tensor, Tensor>, long[])[] layers =
    [
        ("conv 1->16 s1 @28", nn.Conv2d(1, 16, 3, stride: 1, padding: 1), [128, 1, 28, 28]),
        ("conv 16->32 s2 @28", nn.Conv2d(16, 32, 3, stride: 2, padding: 1), [128, 16, 28, 28]),
        ("conv 32->1 s2 @14", nn.Conv2d(32, 1, 3, stride: 2, padding: 1), [128, 32, 14, 14]),
        ("convT 1->32 s2 @7", nn.ConvTranspose2d(1, 32, 3, stride: 2, padding: 1, output_padding: 1), [128, 1, 7, 7]),
        ("convT 32->16 s2 @14", nn.ConvTranspose2d(32, 16, 3, stride: 2, padding: 1, output_padding: 1), [128, 32, 14, 14]),
        ("conv 16->1 s1 @28", nn.Conv2d(16, 1, 3, stride: 1, padding: 1), [128, 16, 28, 28]),
        ("upsample+conv 32->16 @14", nn.Sequential(nn.Upsample(scale_factor: [2.0, 2.0]), nn.Conv2d(32, 16, 3, stride: 1, padding: 1)), [128, 32, 14, 14]),
    ];
    foreach (var (name, layer, shape) in layers)
    {
        var watch = new Stopwatch();
        for (var i = 0; i < 13; i++)
        {
            using var scope = NewDisposeScope();
            var x = randn(shape, requires_grad: true);
            if (i == 3) watch.Start();
            layer.forward(x).sum().backward();
        }

        Console.WriteLine($"RESULT layer {name}: {watch.Elapsed.TotalMilliseconds / 10:F1} ms per batch of 128 (forward + backward)");
    }
}

void Memory(int epochs, int trainCount)
{
    var train = MnistDataset.LoadFromDirectory(folder, MnistSplit.Train).Take(trainCount);
    using var model = Autoencoders.Dense().WithSeed(1).Build();
    var progress = new EpochEndReporter(epochs);
    var options = new TrainingOptions { Epochs = epochs, BatchSize = 128, Threads = 1, ValidationFraction = 0.1 };
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
