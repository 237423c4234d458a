using LatentKit;
using LatentKit.Samples.OnnxServing.Export;

// Usage: [--model classifier.latentkit] [--output classifier.onnx] [--epochs 5] [--data <folder with MNIST's IDX files>]
// Without --model it trains the quick-start classifier; with it, it exports the saved classifier.
var arguments = args.Select((a, i) => (a, i)).Where(p => p.a.StartsWith("--", StringComparison.Ordinal))
    .ToDictionary(p => p.a, p => p.i + 1 < args.Length ? args[p.i + 1] : "");
var output = arguments.GetValueOrDefault("--output", "classifier.onnx");
var epochs = int.Parse(arguments.GetValueOrDefault("--epochs", "5"), System.Globalization.CultureInfo.InvariantCulture);
var load = (MnistSplit split) => arguments.TryGetValue("--data", out var folder)
    ? MnistDataset.LoadFromDirectory(folder, split)
    : MnistDataset.Load(split);

var test = load(MnistSplit.Test);
using var classifier = arguments.TryGetValue("--model", out var modelPath)
    ? LatentClassifier.Load(modelPath)
    : ExportSample.Train(load(MnistSplit.Train), epochs, Console.Out);
ExportSample.Export(classifier, test, output, Console.Out);
Console.WriteLine($"Serve it without LatentKit or TorchSharp: dotnet run --project samples/LatentKit.Samples.OnnxServing/Serve -c Release -- {output}");
