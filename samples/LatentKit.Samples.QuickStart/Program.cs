using LatentKit.Building;
using LatentKit.Data;
using LatentKit.Models;
using LatentKit.Training;
using Microsoft.Extensions.Logging;

// One log line per download attempt and per training epoch.
using var logging = LoggerFactory.Create(builder => builder.AddSimpleConsole(o => o.SingleLine = true));
var log = logging.CreateLogger("QuickStart");

// MNIST is downloaded once into the cache (~/.cache/latentkit/mnist by default), then read from there.
var training = MnistDataset.Load(MnistSplit.Train, logger: log);
var test = MnistDataset.Load(MnistSplit.Test, logger: log);

// A dense autoencoder: 784 -> 256 -> 128 -> 49 and back, ReLU, sigmoid output, binary cross-entropy.
using var autoencoder = Autoencoders.Dense()
    .WithHiddenLayers(256, 128)
    .WithLatentSize(49)
    .WithActivation(Activation.ReLU)
    .Build();
autoencoder.Train(training, new TrainingOptions { Epochs = 5 }, logger: log);

// A classifier on the latent codes of the frozen encoder.
using var classifier = LatentClassifier.For(autoencoder).WithHiddenLayers(128).Build();
classifier.Train(training, new TrainingOptions { Epochs = 5 }, logger: log);

var loss = autoencoder.Evaluate(test).BinaryCrossEntropy;
var accuracy = classifier.Evaluate(test).Accuracy;
Console.WriteLine($"Test loss (mean per-pixel BCE) {loss:0.0000}, test accuracy {accuracy:P2}");

// One file holds the classifier and its autoencoder: LatentClassifier.Load("output/quick-start.lkm").
classifier.Save("output/quick-start.lkm");
