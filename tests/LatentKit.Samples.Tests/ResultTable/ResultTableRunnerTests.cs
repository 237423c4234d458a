using LatentKit.Data;
using LatentKit.Samples.Common.Results;
using LatentKit.Samples.ResultTable;
using LatentKit.Samples.ResultTable.CommandLine;
using LatentKit.Samples.ResultTable.Report;
using LatentKit.Tests.Support;
using Spectre.Console.Testing;

namespace LatentKit.Samples.Tests.ResultTable;

/// <summary>
/// The runner end to end in quick mode on small synthetic MNIST-shaped sets (no download): exit code, files, table.
/// </summary>
public class ResultTableRunnerTests
{
    [Fact]
    public async Task A_quick_run_writes_the_results_the_pictures_and_the_models_and_prints_the_table()
    {
        using var output = new TempDirectory();
        var settings = new ResultTableSettings { Scenarios = [1, 4], Quick = true, OutputDirectory = output.Path, Threads = 2 };
        var console = new TestConsole().Width(200);
        var loaded = new List<MnistSplit>();

        var code = await new ResultTableRunner(settings, console, (split, _, progress, _) =>
        {
            loaded.Add(split);
            progress.Report(new MnistDownloadProgress("test source", $"{split}-images", 10, 10));
            return Task.FromResult(Synthetic.Digits(split == MnistSplit.Train ? 2_400 : 1_200, split == MnistSplit.Train ? 1 : 2));
        }).RunAsync();

        code.Should().Be(ResultTableRunner.SuccessExitCode, console.Output);
        loaded.Should().Equal(MnistSplit.Train, MnistSplit.Test);

        var document = JsonResultsWriter.Read<ResultsDocument>(output.File(ResultsDocument.JsonFileName))!;
        document.Settings.Quick.Should().BeTrue();
        document.Environment.ProcessorCount.Should().BePositive();
        document.Scenarios.Select(s => s.Scenario).Should().Equal(1, 4);
        foreach (var outcome in document.Scenarios)
        {
            outcome.TrainingImages.Should().Be(ResultTableSettings.QuickTrainingImages);
            outcome.TestImages.Should().Be(ResultTableSettings.QuickTestImages);
            outcome.AutoencoderEpochs.Should().Be(1);
            outcome.AutoencoderLoss.Should().BeInRange(0, 1);
            outcome.MeanSquaredError.Should().BeInRange(0, 1);
            outcome.ClassifierAccuracy.Should().BeInRange(0, 1);
            outcome.ConfusionMatrix!.SelectMany(r => r).Sum().Should().Be(ResultTableSettings.QuickTestImages);
            outcome.PerClassRecall.Should().HaveCount(10);
            outcome.AutoencoderEpochLog!.Single().TestLoss.Should().NotBeNull();
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
        using (var loadedModel = LatentKit.Models.LatentClassifier.Load(Path.Combine(output.Path, "models", "scenario-4-classifier.lkm")))
        {
            loadedModel.Autoencoder.LatentSize.Should().Be(49);
        }

        var markdown = File.ReadAllText(output.File(ResultsDocument.MarkdownFileName));
        markdown.Should().ContainAll(ResultTableFormatter.Headers);
        markdown.Should().Contain(" 0.087 |").And.Contain("Quick mode").And.Contain($"({ScenarioPictures.SamplesFile(4)})");

        console.Output.Should().Contain("scenario 1 autoencoder: epoch 1/1, training loss")
            .And.Contain("test loss")
            .And.Contain("Dense autoencoder, ReLU")
            .And.Contain("original accuracy")
            .And.Contain("0.910")
            .And.Contain("1 (quick)");
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
}
