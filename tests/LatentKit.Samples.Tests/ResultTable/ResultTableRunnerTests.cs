using LatentKit.Samples.Common.Results;
using LatentKit.Samples.ResultTable;
using LatentKit.Samples.ResultTable.CommandLine;
using LatentKit.Samples.ResultTable.Report;
using LatentKit.Tests.Support;
using Spectre.Console.Testing;
using Xunit.Abstractions;

namespace LatentKit.Samples.Tests.ResultTable;

/// <summary>
/// The runner end to end in quick mode on small synthetic MNIST-shaped sets (no download): exit code, files, table.
/// </summary>
public class ResultTableRunnerTests(ITestOutputHelper log)
{
    [Fact]
    public async Task A_quick_run_writes_the_results_the_pictures_and_the_models_and_prints_the_table()
    {
        using var output = new TempDirectory();
        // Quick mode trains one epoch of each stage; batches of 16 make that 125 steps, enough for the synthetic digits
        // (with the presets' 128 both scenarios ended at accuracy 0.1000, chance), and 3 autoencoder epochs. Measured: BCE
        // 0.225 for both (the mean image gives 0.498), accuracy 1.000 for both.
        var settings = new ResultTableSettings { Scenarios = [1, 4], Quick = true, Epochs = QuickRunEpochs, BatchSize = 16, OutputDirectory = output.Path, Threads = 1 };
        var console = new TestConsole().Width(200);
        var loaded = new List<MnistSplit>();
        var train = Synthetic.Digits(2_400, 1);
        var test = Synthetic.Digits(1_200, 2);

        var code = await new ResultTableRunner(settings, console, (split, _, progress, _) =>
        {
            loaded.Add(split);
            progress.Report(new MnistDownloadProgress("test source", $"{split}-images", 10, 10));
            return Task.FromResult(split == MnistSplit.Train ? train : test);
        }).RunAsync();

        code.Should().Be(ResultTableRunner.SuccessExitCode, console.Output);
        loaded.Should().Equal(MnistSplit.Train, MnistSplit.Test);

        var document = JsonResultsWriter.Read<ResultsDocument>(output.File(ResultsDocument.JsonFileName))!;
        document.Settings.Quick.Should().BeTrue();
        document.Environment.ProcessorCount.Should().BePositive();
        document.Scenarios.Select(s => s.Scenario).Should().Equal(1, 4);
        var meanImage = Baselines.MeanImageBinaryCrossEntropy(train, test);
        foreach (var outcome in document.Scenarios)
        {
            log.WriteLine($"scenario {outcome.Scenario}: BCE {outcome.AutoencoderLoss:F4} (mean image {meanImage:F4}), accuracy {outcome.ClassifierAccuracy:F4}");
            outcome.TrainingImages.Should().Be(ResultTableSettings.QuickTrainingImages);
            outcome.TestImages.Should().Be(ResultTableSettings.QuickTestImages);
            outcome.AutoencoderEpochs.Should().Be(QuickRunEpochs);
            outcome.AutoencoderLoss.Should().BeGreaterThan(0).And.BeLessThan(meanImage - 0.1, "scenario {0} must reconstruct better than the mean image", outcome.Scenario);
            outcome.MeanSquaredError.Should().BeInRange(0, 1);
            outcome.ClassifierAccuracy.Should().BeGreaterThan(Baselines.Chance + 0.8, "scenario {0}'s classifier must learn the synthetic digits (chance 0.1)", outcome.Scenario);
            AssertConfusionMatrix(outcome);
            outcome.AutoencoderEpochLog!.Should().HaveCount(QuickRunEpochs).And.OnlyContain(e => e.TestLoss != null);
            outcome.Files.Should().OnlyContain(f => File.Exists(Path.Combine(output.Path, f)));
        }

        document.Scenarios[0].KlDivergence.Should().BeNull();
        document.Scenarios[1].KlDivergence.Should().BePositive();
        document.Scenarios[1].LossComparable.Should().BeFalse();

        foreach (var picture in new[]
        {
            ScenarioPictures.ReconstructionsFile(1), ScenarioPictures.AutoencoderLossFile(1), ScenarioPictures.ClassifierLossFile(1), ScenarioPictures.LatentFile(1),
            ScenarioPictures.ReconstructionsFile(4), ScenarioPictures.LatentFile(4), ScenarioPictures.SamplesFile(4),
        })
        {
            using var bitmap = Png.Decode(File.ReadAllBytes(output.File(picture)));
            bitmap.Width.Should().BeGreaterThan(50);
        }

        File.Exists(output.File(ScenarioPictures.SamplesFile(1))).Should().BeFalse("only the VAE samples from a prior");
        File.Exists(Path.Combine(output.Path, "models", "scenario-1-autoencoder.lkm")).Should().BeTrue();
        File.Exists(Path.Combine(output.Path, "models", "scenario-4-classifier.lkm")).Should().BeTrue();
        using (var loadedModel = LatentClassifier.Load(Path.Combine(output.Path, "models", "scenario-4-classifier.lkm")))
        {
            loadedModel.Autoencoder.LatentSize.Should().Be(49);
        }

        var markdown = File.ReadAllText(output.File(ResultsDocument.MarkdownFileName));
        markdown.Should().ContainAll(ResultTableFormatter.Headers);
        markdown.Should().Contain(" 0.087 |").And.Contain("Quick mode").And.Contain($"({ScenarioPictures.SamplesFile(4)})");

        console.Output.Should().Contain("scenario 1 autoencoder: epoch 3/3, training loss")
            .And.Contain("test loss")
            .And.Contain("Dense autoencoder, ReLU")
            .And.Contain("original accuracy")
            .And.Contain("0.910")
            .And.Contain("yes: 2000 training, 1000 test images");
    }

    [Fact]
    public async Task A_cancelled_run_exits_with_130()
    {
        using var output = new TempDirectory();
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();
        var settings = new ResultTableSettings { Scenarios = [1], Quick = true, OutputDirectory = output.Path };

        var code = await new ResultTableRunner(settings, new TestConsole(), (_, _, _, _) => Task.FromResult(Synthetic.Digits(2_000, 1))).RunAsync(cancellation.Token);

        code.Should().Be(ResultTableRunner.CancelledExitCode);
        File.Exists(output.File(ResultsDocument.JsonFileName)).Should().BeFalse();
    }

    [Fact]
    public async Task Mnist_that_cannot_be_fetched_exits_with_1_and_the_reason()
    {
        using var output = new TempDirectory();
        var settings = new ResultTableSettings { Scenarios = [1], Quick = true, OutputDirectory = output.Path };
        var console = new TestConsole().Width(200);

        var code = await new ResultTableRunner(settings, console, (split, options, _, _) =>
            Task.FromException<MnistDataset>(new MnistSourceException("train-images-idx3-ubyte", [new MnistSourceAttempt("mirror", "offline")], options.CacheDirectory))).RunAsync();

        code.Should().Be(ResultTableRunner.FailureExitCode);
        console.Output.Should().Contain("The run failed").And.Contain("offline");
    }

    private const int QuickRunEpochs = 3;

    /// <summary>
    /// The confusion matrix is 10 x 10; each row holds the balanced quick subset's 100 images of its digit; the
    /// diagonal gives the reported accuracy and per-class recall; and every digit is predicted as itself more often
    /// than as any other digit.
    /// </summary>
    private static void AssertConfusionMatrix(ScenarioOutcome outcome)
    {
        var matrix = outcome.ConfusionMatrix!;
        matrix.Should().HaveCount(10).And.OnlyContain(row => row.Count == 10);
        var perDigit = ResultTableSettings.QuickTestImages / 10;
        var diagonal = 0;
        for (var actual = 0; actual < 10; actual++)
        {
            matrix[actual].Sum().Should().Be(perDigit, "row {0} holds the test images of digit {0}", actual);
            outcome.PerClassRecall![actual].Should().BeApproximately(matrix[actual][actual] / (double)perDigit, 1e-9);
            diagonal += matrix[actual][actual];
            for (var predicted = 0; predicted < 10; predicted++)
            {
                if (predicted != actual)
                {
                    matrix[actual][predicted].Should().BeLessThan(matrix[actual][actual], "scenario {0}: digit {1} must be predicted as itself more often than as {2}", outcome.Scenario, actual, predicted);
                }
            }
        }

        outcome.ClassifierAccuracy.Should().BeApproximately(diagonal / (double)ResultTableSettings.QuickTestImages, 1e-9);
    }
}
