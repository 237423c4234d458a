using LatentKit;
using System.CommandLine;
using System.Diagnostics;
using LatentKit.Benchmarks;
using TorchSharp;
using static TorchSharp.torch;

// LatentKit measurements. The default command, throughput, compares LatentKit's training loop with a hand-written
// TorchSharp loop for each reference scenario; memory, conv and layers are smaller investigations. --help lists them.
var root = new RootCommand("LatentKit benchmarks. Without a command: throughput.");
var throughputRoot = new ThroughputOptions();
throughputRoot.AddTo(root);
root.SetAction(result => throughputRoot.Run(result, args));

var throughput = new Command("throughput", "Images per second of LatentKit's training loop against a minimal hand-written TorchSharp loop on the same model, for each scenario's autoencoder; the ratio, time per 60k-image epoch and peak memory.");
var throughputOptions = new ThroughputOptions();
throughputOptions.AddTo(throughput);
throughput.SetAction(result => throughputOptions.Run(result, args));
root.Subcommands.Add(throughput);

var memory = new Command("memory", "The result table's steps (load, train each autoencoder with the test set validated every epoch, evaluate, train and evaluate its classifier) in one process: resident memory and the peak so far after each step.");
var memoryScenarios = new Option<string>("--scenarios", "-s") { Description = "Scenarios, comma-separated, run in order as the result table does.", DefaultValueFactory = _ => "1,2,3,4" };
var memoryEpochs = new Option<int?>("--epochs") { Description = "Epochs for every autoencoder and classifier (default: each preset's, as the result table)." }.InRange(1, 10_000);
var memoryThreads = new Option<int>("--threads") { Description = "TorchSharp threads (1 to 1024).", DefaultValueFactory = _ => 2 }.ThreadsInRange();
var memoryData = DataDirectoryOption();
foreach (var option in new Option[] { memoryScenarios, memoryEpochs, memoryThreads, memoryData })
{
    memory.Options.Add(option);
}

memory.SetAction(result =>
{
    var numbers = ThroughputOptions.ParseScenarios(result.GetValue(memoryScenarios));
    if (numbers is null)
    {
        return CommandLineRules.UsageError("--scenarios: give scenario numbers from 1 to 4, comma-separated.");
    }

    MemoryBenchmark.Run(numbers, result.GetValue(memoryEpochs), result.GetValue(memoryThreads), result.GetValue(memoryData));
    return 0;
});
root.Subcommands.Add(memory);

var conv = new Command("conv", "Throughput and test BCE of a convolutional autoencoder with the given channels.");
var convThreads = new Option<int>("--threads") { Description = "TorchSharp threads (1 to 1024).", DefaultValueFactory = _ => 1 }.ThreadsInRange();
var convTrain = new Option<int>("--train") { Description = "Training images (1 to 60,000).", DefaultValueFactory = _ => 5000 }.InRange(1, 60_000);
var convC1 = new Option<int>("--c1") { Description = "First encoder channels (1 to 1024).", DefaultValueFactory = _ => 16 }.InRange(1, 1_024);
var convC2 = new Option<int>("--c2") { Description = "Second encoder channels (1 to 1024).", DefaultValueFactory = _ => 32 }.InRange(1, 1_024);
var convEpochs = new Option<int>("--epochs") { Description = "Epochs (1 to 10,000).", DefaultValueFactory = _ => 1 }.InRange(1, 10_000);
var convData = DataDirectoryOption();
foreach (var option in new Option[] { convThreads, convTrain, convC1, convC2, convEpochs, convData })
{
    conv.Options.Add(option);
}

conv.SetAction(result => ConvSpeed(result.GetValue(convThreads), result.GetValue(convTrain), result.GetValue(convC1), result.GetValue(convC2), result.GetValue(convEpochs), result.GetValue(convData)));
root.Subcommands.Add(conv);

var layers = new Command("layers", "Forward + backward time of single convolution layers on a batch of 128.");
var layerThreads = new Option<int>("--threads") { Description = "TorchSharp threads (1 to 1024).", DefaultValueFactory = _ => 2 }.ThreadsInRange();
layers.Options.Add(layerThreads);
layers.SetAction(result => LayerTimes(result.GetValue(layerThreads)));
root.Subcommands.Add(layers);

var onnx = new Command("onnx", "Encoder inference, ONNX Runtime against TorchSharp on the same weights: microseconds per one-image call and images per second in batches, in alternating rounds; writes its section of the page.");
var onnxThreads = new Option<int>("--threads") { Description = "Threads for each runtime (1 to 1024).", DefaultValueFactory = _ => 1 }.ThreadsInRange();
var onnxRounds = new Option<int>("--rounds") { Description = "Alternating rounds; medians are reported.", DefaultValueFactory = _ => 7 }.InRange(1, int.MaxValue);
var onnxCalls = new Option<int>("--calls") { Description = "One-image calls per round.", DefaultValueFactory = _ => 2000 }.InRange(1, int.MaxValue);
var onnxBatch = new Option<int>("--batch-size") { Description = "Images per batch for the throughput figure.", DefaultValueFactory = _ => 1000 }.InRange(1, int.MaxValue);
var onnxTest = new Option<int>("--test") { Description = "Test images used (the first N of the 10,000; 1 to 10,000).", DefaultValueFactory = _ => 10000 }.InRange(1, 10_000);
var onnxData = DataDirectoryOption();
var onnxOutput = new Option<string?>("--output", "-o") { Description = "Write the results as the ONNX section of this markdown page (for example docs/performance.md)." }.OutputFile();
foreach (var option in new Option[] { onnxThreads, onnxRounds, onnxCalls, onnxBatch, onnxTest, onnxData, onnxOutput })
{
    onnx.Options.Add(option);
}

onnx.SetAction(result =>
{
    var settings = new OnnxBenchmarkSettings(result.GetValue(onnxThreads), result.GetValue(onnxRounds), result.GetValue(onnxCalls), result.GetValue(onnxBatch), result.GetValue(onnxTest), result.GetValue(onnxData), result.GetValue(onnxOutput), "dotnet run -c Release --project benchmarks/LatentKit.Benchmarks -- " + string.Join(' ', args));
    if (!CommandLineRules.TryPrepareOutputFile(settings.Output, out var outputError))
    {
        return CommandLineRules.UsageError(outputError!);
    }

    return OnnxBenchmark.Run(settings);
});
root.Subcommands.Add(onnx);

return CommandLineRules.Invoke(root, args);

static Option<string?> DataDirectoryOption() => new Option<string?>("--data-dir")
{
    Description = "A folder holding the four raw MNIST IDX files, read in place; by default LatentKit's cache, filled from its sources on first use.",
}.ExistingDirectory();

static MnistDataset LoadTrain(string? dataDirectory) => MnistDataset.Load(MnistSplit.Train, new MnistLoadOptions { DataDirectory = dataDirectory });

static void ConvSpeed(int threads, int trainCount, int c1, int c2, int epochs, string? dataDirectory)
{
    var train = LoadTrain(dataDirectory).Take(trainCount);
    var test = MnistDataset.Load(MnistSplit.Test, new MnistLoadOptions { DataDirectory = dataDirectory });
    using var model = Autoencoders.Convolutional().WithChannels(c1, c2).WithSeed(42).Build();
    var history = model.Train(train, new TrainingOptions { Epochs = epochs, BatchSize = 128, LearningRate = 2e-3 }, new TrainingRun { Threads = threads });
    Console.WriteLine($"RESULT conv ({c1}, {c2}) threads {threads}: {history.Epochs.Average(e => e.ImagesPerSecond):F0} images/s, test BCE {model.Evaluate(test).BinaryCrossEntropy:F4}");
}

static void LayerTimes(int threads)
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
            if (i == 3)
            {
                watch.Start();
            }

            layer.forward(x).sum().backward();
        }

        Console.WriteLine($"RESULT layer {name}: {watch.Elapsed.TotalMilliseconds / 10:F1} ms per batch of 128 (forward + backward)");
    }
}

/// <summary>The throughput options (one instance per command: System.CommandLine symbols belong to one parent).</summary>
internal sealed class ThroughputOptions
{
    public Option<string> Scenarios { get; } = new("--scenarios", "-s")
    {
        Description = "Scenarios to measure, comma-separated: 1 dense ReLU, 2 convolutional, 3 dense Tanh, 4 variational.",
        DefaultValueFactory = _ => "1,2,3,4",
    };

    public Option<int?> BatchSize { get; } = new Option<int?>("--batch-size", "-b") { Description = "Batch size for every scenario (default: each preset's, 128)." }.InRange(1, int.MaxValue);

    public Option<int?> Threads { get; } = new Option<int?>("--threads", "-t") { Description = "TorchSharp threads for both loops, 1 to 1024 (default: TorchSharp's own default)." }.ThreadsInRange();

    public Option<int> Train { get; } = new Option<int>("--train") { Description = "Training images per epoch (the first N of the 60,000).", DefaultValueFactory = _ => 10000 }.InRange(1, int.MaxValue);

    public Option<int> Rounds { get; } = new Option<int>("--rounds", "-r") { Description = "Alternating rounds (one epoch of each loop per round); medians are reported.", DefaultValueFactory = _ => 3 }.InRange(1, int.MaxValue);

    public Option<string?> DataDirectory { get; } = new Option<string?>("--data-dir")
    {
        Description = "A folder holding the four raw MNIST IDX files, read in place; by default LatentKit's cache, filled from its sources on first use.",
    }.ExistingDirectory();

    public Option<bool> WithCallback { get; } = new("--with-callback")
    {
        Description = "Give LatentKit's runs a callback that does nothing (it gets each epoch's figures), to measure what a callback costs.",
    };

    public Option<string?> Output { get; } = new Option<string?>("--output", "-o") { Description = "Write the results as a markdown page to this file (for example docs/performance.md)." }.OutputFile();

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Scenarios, BatchSize, Threads, Train, Rounds, DataDirectory, WithCallback, Output })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>Checks the scenarios and the output page's folder (the validators have checked the rest), then runs the benchmark; 2 on a bad value.</summary>
    public int Run(ParseResult result, string[] args)
    {
        if (ParseScenarios(result.GetValue(Scenarios)) is null)
        {
            return CommandLineRules.UsageError("--scenarios: give scenario numbers from 1 to 4, comma-separated.");
        }

        if (!CommandLineRules.TryPrepareOutputFile(result.GetValue(Output), out var outputError))
        {
            return CommandLineRules.UsageError(outputError!);
        }

        return ThroughputBenchmark.Run(ToSettings(result, args));
    }

    private ThroughputSettings ToSettings(ParseResult result, string[] args) => new(
        ParseScenarios(result.GetValue(Scenarios))!,
        result.GetValue(BatchSize),
        result.GetValue(Threads) ?? torch.get_num_threads(),
        result.GetValue(Train),
        result.GetValue(Rounds),
        result.GetValue(DataDirectory),
        result.GetValue(WithCallback),
        result.GetValue(Output),
        "dotnet run -c Release --project benchmarks/LatentKit.Benchmarks --" + string.Concat(args.Select(a => " " + a)));

    /// <summary>Scenario numbers 1 to 4 from a comma-separated list, in order; <see langword="null"/> when the list is empty or holds anything else.</summary>
    internal static int[]? ParseScenarios(string? value)
    {
        var parts = (value ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var numbers = parts.Select(p => int.TryParse(p, out var n) && n is >= 1 and <= 4 ? n : 0).ToArray();
        return numbers.Length == 0 || numbers.Contains(0) ? null : numbers.Distinct().Order().ToArray();
    }
}

