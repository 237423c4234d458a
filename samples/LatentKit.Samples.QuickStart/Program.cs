using LatentKit;
using LatentKit.Samples.QuickStart;
using Microsoft.Extensions.Logging;

// No arguments: --help (or -h) describes the program, anything else is a usage error.
if (QuickStartCommandLine.Check(args, Console.Out, Console.Error) is { } exitCode)
{
    return exitCode;
}

// One log line per download attempt and per training epoch.
using var logging = LoggerFactory.Create(builder => builder.AddSimpleConsole(o => o.SingleLine = true));
var log = logging.CreateLogger("QuickStart");

// MNIST is downloaded once into the cache (~/.cache/latentkit/mnist by default), then read from there.
var training = MnistDataset.Load(MnistSplit.Train, logger: log);
var test = MnistDataset.Load(MnistSplit.Test, logger: log);

// Trains the autoencoder and the classifier (5 epochs each), prints the test figures and saves the classifier.
QuickStartModels.Run(training, test, log, Console.Out);
return 0;
