using LatentKit.Samples.ResultTable;
using LatentKit.Samples.ResultTable.CommandLine;
using LatentKit.Samples.ResultTable.ConsoleUi;
using LatentKit.Samples.ResultTable.Report;
using Spectre.Console.Testing;

namespace LatentKit.Samples.Tests.ResultTable;

public class ConsoleUiTests
{
    [Fact]
    public async Task Download_reports_make_one_bar_per_file_that_follows_the_bytes()
    {
        var console = new TestConsole().Width(160);
        DownloadProgressBars? adapter = null;

        await ProgressDisplay.RunAsync(console, context =>
        {
            adapter = new DownloadProgressBars(context, console);
            adapter.Report(new DownloadUpdate("train-images-idx3-ubyte.gz", 0, 9_912_422, Source: "npm"));
            adapter.Report(new DownloadUpdate("train-labels-idx1-ubyte.gz", 0, null));
            adapter.Report(new DownloadUpdate("train-images-idx3-ubyte.gz", 4_000_000, 9_912_422, Source: "npm"));

            var images = adapter.Bars["train-images-idx3-ubyte.gz"];
            images.MaxValue.Should().Be(9_912_422);
            images.Value.Should().Be(4_000_000);
            images.IsFinished.Should().BeFalse();
            adapter.Bars["train-labels-idx1-ubyte.gz"].IsIndeterminate.Should().BeTrue();

            adapter.Report(new DownloadUpdate("train-images-idx3-ubyte.gz", 9_912_422, 9_912_422, Completed: true, Source: "npm"));
            adapter.Report(new DownloadUpdate("train-labels-idx1-ubyte.gz", 28_881, 28_881, Completed: true));
            return Task.FromResult(0);
        });

        adapter!.Bars.Should().HaveCount(2);
        adapter.Bars.Values.Should().AllSatisfy(bar =>
        {
            bar.IsFinished.Should().BeTrue();
            bar.Value.Should().Be(bar.MaxValue);
        });
        console.Output.Should().Contain("done: train-images-idx3-ubyte.gz from npm (9.5 MiB of 9.5 MiB)");
        console.Output.Should().Contain("done: train-labels-idx1-ubyte.gz (28.2 KiB of 28.2 KiB)");
    }

    [Theory]
    [InlineData(512, "512 B")]
    [InlineData(28_881, "28.2 KiB")]
    [InlineData(9_912_422, "9.5 MiB")]
    public void Sizes_are_written_for_people(long bytes, string expected) => DownloadProgressBars.Size(bytes).Should().Be(expected);

    [Fact]
    public async Task Training_bar_counts_batches_over_all_epochs_and_logs_one_line_per_epoch()
    {
        var console = new TestConsole().Width(200);

        await ProgressDisplay.RunAsync(console, context =>
        {
            var bar = new TrainingProgressBar(context, console, "scenario 1 autoencoder", epochs: 2, batchesPerEpoch: 10);
            bar.Task.MaxValue.Should().Be(20);

            bar.ReportBatch(1, 5, 0.25);
            bar.Task.Value.Should().Be(5);
            bar.CompleteEpoch(1, 0.2, 0.21, TimeSpan.FromSeconds(12.34), 4870.4);
            bar.Task.Value.Should().Be(10);

            bar.ReportBatch(2, 3);
            bar.Task.Value.Should().Be(13);
            bar.CompleteEpoch(2, 0.15, null, TimeSpan.FromSeconds(11), 5000);
            bar.Complete();
            bar.Task.IsFinished.Should().BeTrue();
            return Task.FromResult(0);
        });

        console.Output.Should().Contain("scenario 1 autoencoder: epoch 1/2, training loss 0.2000, validation loss 0.2100, 12.3 s, 4870 images/s");
        console.Output.Should().Contain("scenario 1 autoencoder: epoch 2/2, training loss 0.1500, 11.0 s, 5000 images/s");
    }
}
