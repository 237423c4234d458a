using System.Text.RegularExpressions;
using LatentKit.Csv;
using LatentKit.Imaging;
using Spectre.Console;

namespace LatentKit.Samples.OwnData;

/// <summary>What one run measured and where it saved the model.</summary>
/// <param name="ModelKind">The autoencoder chosen for the data's shape: "convolutional" or "dense".</param>
/// <param name="LossName">The reconstruction loss the model trains on ("BCE" for images, "MSE" for standardised features).</param>
/// <param name="TestLoss">That loss on the test set.</param>
/// <param name="BaselineLoss">The same loss (in the units the model trains in) for the training set's mean sample, the figure a useful model beats.</param>
/// <param name="TestAccuracy">The classifier's test accuracy; <see langword="null"/> for unlabelled data.</param>
/// <param name="ModelPath">The saved classifier (with its autoencoder), or the autoencoder for unlabelled data.</param>
public sealed record OwnDataResult(string ModelKind, string LossName, double TestLoss, double BaselineLoss, double? TestAccuracy, string ModelPath);

/// <summary>
/// Loads the data named by the settings, holds out a test set, picks a model for the data's shape (a convolutional
/// autoencoder for images, a dense one on standardised features for vectors), trains it and, for labelled data, a
/// classifier on its latent codes; prints the test figures and saves the models.
/// </summary>
/// <param name="settings">What to train on and how.</param>
/// <param name="console">Where the figures go.</param>
public sealed partial class OwnDataRunner(OwnDataSettings settings, IAnsiConsole console)
{
    /// <summary>Runs and returns the exit code: 0 done, 1 the data could not be loaded or trained on, 130 cancelled.</summary>
    /// <param name="cancellationToken">Stops training.</param>
    public int Run(CancellationToken cancellationToken = default)
    {
        try
        {
            Execute(cancellationToken);
            return 0;
        }
        catch (OperationCanceledException)
        {
            console.MarkupLine("[yellow]Cancelled.[/]");
            return 130;
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            console.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
            return 1;
        }
    }

    /// <summary>Does the work and returns its figures (exceptions propagate).</summary>
    /// <param name="cancellationToken">Stops training.</param>
    public OwnDataResult Execute(CancellationToken cancellationToken = default)
    {
        var data = Load();
        console.MarkupLineInterpolated($"[bold]{data.Name}[/]: {data.Count:N0} samples of {string.Join(" x ", data.SampleShape)}{(data.HasLabels ? $", {data.ClassCount} classes ({string.Join(", ", data.ClassNames)})" : ", unlabelled")}");
        var (training, test) = data.SplitForValidation(settings.TestFraction, settings.Seed);
        var options = new TrainingOptions { Epochs = settings.Epochs, BatchSize = settings.BatchSize, Seed = settings.Seed };
        var run = new TrainingRun { Threads = settings.Threads };

        var images = training.SampleShape.Count == 3;
        var standardizer = images ? null : FeatureStandardizer.Fit(training);
        var kind = images ? "convolutional" : "dense";
        using var autoencoder = BuildAutoencoder(training, standardizer);
        console.MarkupLineInterpolated($"Training a {kind} autoencoder, {settings.Epochs} epochs, on {training.Count:N0} samples ...");
        autoencoder.Train(training, options, run, cancellationToken);
        var metrics = autoencoder.Evaluate(test);
        var lossName = metrics.Loss == ReconstructionLoss.BinaryCrossEntropy ? "BCE" : "MSE";
        var baseline = standardizer is null ? MeanSampleLoss(training, test, metrics.Loss) : MeanSampleLoss(standardizer.Apply(training), standardizer.Apply(test), metrics.Loss);

        var table = new Table().AddColumns("Figure (test set)", "Value");
        table.AddRow($"Reconstruction {lossName}", $"{metrics.TrainingLossFigure:0.0000}");
        table.AddRow($"{lossName} of the mean training sample", $"{baseline:0.0000}");

        Directory.CreateDirectory(settings.OutputDirectory);
        double? accuracy = null;
        string modelPath;
        if (training.HasLabels && training.ClassCount >= 2)
        {
            using var classifier = LatentClassifier.For(autoencoder).ForData(training).WithHiddenLayers(64).Build();
            console.MarkupLineInterpolated($"Training a classifier on the {autoencoder.LatentSize}-value latent codes ...");
            classifier.Train(training, options, run, cancellationToken);
            var classification = classifier.Evaluate(test);
            accuracy = classification.Accuracy;
            table.AddRow("Classifier accuracy", $"{classification.Accuracy:P1}");
            table.AddRow("Chance (largest class)", $"{training.CountPerClass().Max() / (double)training.Count:P1}");
            foreach (var (name, recall) in classification.RecallByClass)
            {
                table.AddRow($"  recall of '{Markup.Escape(name)}'", double.IsNaN(recall) ? "-" : $"{recall:P1}");
            }

            modelPath = Path.Combine(settings.OutputDirectory, "classifier.lkm");
            classifier.Save(modelPath);
        }
        else
        {
            modelPath = Path.Combine(settings.OutputDirectory, "autoencoder.lkm");
            autoencoder.Save(modelPath);
        }

        console.Write(table);
        console.MarkupLineInterpolated($"Saved [bold]{modelPath}[/].");
        return new OwnDataResult(kind, lossName, metrics.TrainingLossFigure, baseline, accuracy, modelPath);
    }

    private Dataset Load()
    {
        try
        {
            return LoadData();
        }
        catch (DatasetFormatException e)
        {
            throw new IOException(InTheSamplesWords(e), e);
        }
    }

    /// <summary>
    /// The library's message in this sample's terms: a folder is called a folder (the exception names its path as
    /// the "data file"), and the CSV hint names the <c>--label-column</c> option rather than the library setting.
    /// </summary>
    private static string InTheSamplesWords(DatasetFormatException e)
    {
        var message = e.Message;
        var prefix = $"Data file '{e.File}'";
        if (Directory.Exists(e.File) && message.StartsWith(prefix, StringComparison.Ordinal))
        {
            message = $"Image folder '{e.File}'" + message[prefix.Length..];
        }

        return LabelColumnHint().Replace(message, m => $"give --label-column {Quote(m.Groups[1].Value)}");
    }

    private static string Quote(string name) => name.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'' or '$') ? $"'{name.Replace("'", "'\\''", StringComparison.Ordinal)}'" : name;

    [GeneratedRegex("""set CsvLoadOptions\.LabelColumn = "(.*?)"(?=\.)""")]
    private static partial Regex LabelColumnHint();

    private Dataset LoadData()
    {
        if (settings.ImagesDirectory is { } folder)
        {
            return ImageFolder.Load(folder, new ImageFolderOptions
            {
                Width = settings.Width,
                Height = settings.Height,
                Channels = settings.Grey ? 1 : null,
                Streaming = settings.Streaming,
            });
        }

        if (settings.CsvFile is { } csv)
        {
            // A header row names the columns; every cell but the label column's is a number.
            return CsvDataset.Load(csv, new CsvLoadOptions { LabelColumn = settings.LabelColumn });
        }

        throw new ArgumentException("Give an image folder (--images) or a CSV file (--csv).", nameof(settings));
    }

    /// <summary>A model for the data's shape: images (C x H x W) get a convolutional autoencoder, feature vectors a dense one on standardised features.</summary>
    private IAutoencoder BuildAutoencoder(Dataset training, FeatureStandardizer? standardizer)
    {
        if (standardizer is null)
        {
            // Without --latent-size the builder's default: one code map, ceil(H / 4) x ceil(W / 4) for two stride-2 convolutions.
            var convolutional = Autoencoders.Convolutional().ForData(training).WithChannels(16, 32).WithSeed(settings.Seed);
            return (settings.LatentSize is { } latentSize ? convolutional.WithLatentSize(latentSize) : convolutional).Build();
        }

        var features = training.SampleSize;
        return Autoencoders.Dense()
            .ForData(training)
            .WithStandardization(standardizer)
            .WithHiddenLayers(Math.Max(16, 2 * features))
            .WithLatentSize(settings.LatentSize ?? Math.Max(2, features / 4))
            .WithSeed(settings.Seed)
            .Build();
    }

    /// <summary>The loss of predicting every test sample by the mean training sample (in the data's units).</summary>
    private static double MeanSampleLoss(Dataset training, Dataset test, ReconstructionLoss loss)
    {
        var mean = new double[training.SampleSize];
        foreach (var batch in training.GetBatches(256))
        {
            using (batch)
            {
                var values = batch.Samples.data<float>().ToArray();
                for (var i = 0; i < values.Length; i++)
                {
                    mean[i % mean.Length] += values[i] / training.Count;
                }
            }
        }

        double total = 0;
        foreach (var batch in test.GetBatches(256))
        {
            using (batch)
            {
                var values = batch.Samples.data<float>().ToArray();
                for (var i = 0; i < values.Length; i++)
                {
                    var m = mean[i % mean.Length];
                    total += loss == ReconstructionLoss.BinaryCrossEntropy
                        ? -((values[i] * Math.Log(Math.Clamp(m, 1e-7, 1))) + ((1 - values[i]) * Math.Log(Math.Clamp(1 - m, 1e-7, 1))))
                        : (values[i] - m) * (values[i] - m);
                }
            }
        }

        return total / ((double)test.Count * test.SampleSize);
    }
}
