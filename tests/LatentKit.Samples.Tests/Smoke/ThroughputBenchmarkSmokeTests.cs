using System.Globalization;
using System.Text.RegularExpressions;
using LatentKit.Benchmarks;
using LatentKit.Tests.Support;

namespace LatentKit.Samples.Tests.Smoke;

/// <summary>The throughput benchmark, every scenario, one round on a few synthetic digits.</summary>
public class ThroughputBenchmarkSmokeTests
{
    [Fact]
    public void One_round_on_a_few_images_measures_both_loops_for_every_scenario_and_writes_the_page()
    {
        using var folder = new TempDirectory();
        var page = Path.Combine(folder.Path, "performance.md");
        var settings = new ThroughputSettings([1, 2, 3, 4], BatchSize: 64, Threads: 1, TrainCount: 256, Rounds: 1, DataDirectory: null, WithCallback: true, Output: page, CommandLine: "smoke test");

        var code = ThroughputBenchmark.Run(settings, () => Synthetic.Digits(300, 1));

        code.Should().Be(0);
        var text = File.ReadAllText(page);
        text.Should().Contain("```bash\nsmoke test\n```").And.Contain("median of 1 alternating rounds on the first 256 MNIST training images")
            .And.Contain("LatentKit's runs have a callback that does nothing (`--with-callback`)");
        foreach (var (scenario, model) in new[] { (1, "dense, ReLU"), (2, "convolutional, ReLU"), (3, "dense, Tanh"), (4, "variational, ReLU") })
        {
            var row = Regex.Match(text, $@"^\| {scenario} \| {model} \| 64 \| 1 \| ([\d,]+) \| ([\d,]+) \| ([\d.]+) \|", RegexOptions.Multiline);
            row.Success.Should().BeTrue("the table has a row for scenario {0}:\n{1}", scenario, text);
            double.Parse(row.Groups[1].Value, NumberStyles.Number, CultureInfo.InvariantCulture).Should().BePositive("LatentKit's images per second");
            double.Parse(row.Groups[2].Value, NumberStyles.Number, CultureInfo.InvariantCulture).Should().BePositive("the hand-written loop's images per second");
            double.Parse(row.Groups[3].Value, CultureInfo.InvariantCulture).Should().BePositive("the ratio");
        }

        Directory.EnumerateFileSystemEntries(folder.Path).Select(Path.GetFileName).Should().Equal("performance.md");
    }

    [Fact]
    public void The_memory_command_walks_the_result_tables_steps_and_reports_resident_and_peak_memory_after_each()
    {
        var lines = MemoryBenchmark.Run([1, 4], epochs: 1, threads: 1, dataDirectory: null, load: () => (Synthetic.Digits(300, 1), Synthetic.Digits(100, 2)));

        lines.Should().HaveCount(2 + (2 * 4));
        lines[1].Should().StartWith("RESULT memory after MNIST training and test images loaded:");
        lines[^1].Should().StartWith("RESULT memory after scenario 4: classifier evaluated on the test set:");
        foreach (var line in lines)
        {
            var figures = Regex.Match(line, @"resident (\d+) MiB, peak so far (\d+) MiB, live managed (\d+) MiB$");
            figures.Success.Should().BeTrue(line);
            var resident = int.Parse(figures.Groups[1].Value, CultureInfo.InvariantCulture);
            resident.Should().BePositive();
            int.Parse(figures.Groups[2].Value, CultureInfo.InvariantCulture).Should().BeGreaterThanOrEqualTo(resident, "the peak is at least the current resident memory");
        }
    }
}
