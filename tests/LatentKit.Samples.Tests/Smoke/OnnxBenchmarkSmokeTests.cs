using System.Globalization;
using System.Text.RegularExpressions;
using LatentKit.Benchmarks;
using LatentKit.Tests.Support;

namespace LatentKit.Samples.Tests.Smoke;

/// <summary>The ONNX inference benchmark, one short round on a few synthetic digits, and its section of the page.</summary>
public class OnnxBenchmarkSmokeTests
{
    [Fact]
    public void One_round_measures_both_runtimes_for_every_model_and_writes_its_own_section_of_the_page()
    {
        using var folder = new TempDirectory();
        var page = Path.Combine(folder.Path, "performance.md");
        File.WriteAllText(page, "# Performance\n\nthe throughput table\n");
        var settings = new OnnxBenchmarkSettings(Threads: 1, Rounds: 1, LatencyCalls: 5, BatchSize: 100, TestCount: 200, DataDirectory: null, Output: page, CommandLine: "smoke test");

        OnnxBenchmark.Run(settings, () => Synthetic.Digits(300, 1)).Should().Be(0);
        OnnxBenchmark.Run(settings, () => Synthetic.Digits(300, 1)).Should().Be(0);

        var text = File.ReadAllText(page);
        text.Should().StartWith("# Performance\n\nthe throughput table\n\n<!-- section:onnx -->\n## Inference: ONNX Runtime against TorchSharp");
        Regex.Matches(text, "<!-- section:onnx -->").Should().ContainSingle("a second run replaces the section");
        foreach (var model in new[] { "dense", "convolutional", "variational" })
        {
            var row = Regex.Match(text, $@"^\| {model} [^|]+\| ([\d.]+) \| ([\d.]+) \| ([\d.]+)x \| ([\d,]+) \| ([\d,]+) \| ([\d.]+)x \|$", RegexOptions.Multiline);
            row.Success.Should().BeTrue("the table has a row for the {0} model:\n{1}", model, text);
            for (var g = 1; g <= 6; g++)
            {
                double.Parse(row.Groups[g].Value, NumberStyles.Number, CultureInfo.InvariantCulture).Should().BePositive();
            }
        }

        PageSections.KeepSections(page, "# Performance\n\na new throughput table\n").Should()
            .StartWith("# Performance\n\na new throughput table\n\n<!-- section:onnx -->").And.EndWith("<!-- /section:onnx -->\n", "regenerating the throughput page keeps the ONNX section");
        Directory.EnumerateFileSystemEntries(folder.Path).Select(Path.GetFileName).Should().Equal("performance.md");
    }
}
