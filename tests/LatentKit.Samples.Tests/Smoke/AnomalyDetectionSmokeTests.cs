using System.Text.Json;
using LatentKit.Samples.AnomalyDetection;
using LatentKit.Tests.Support;
using Spectre.Console.Testing;

namespace LatentKit.Samples.Tests.Smoke;

/// <summary>The anomaly-detection sample in --quick mode, every model, on synthetic digits instead of MNIST.</summary>
public class AnomalyDetectionSmokeTests
{
    [Fact]
    public void A_quick_run_writes_every_model_and_score_kind_beside_deep_svdd()
    {
        using var folder = new TempDirectory();
        var settings = new AnomalySettings(Quick: true, Output: folder.Path, Seeds: 2, Threads: 1, DataDirectory: null, Digits: [0, 3], Models: ["dense", "conv", "vae"], Epochs: null);
        var console = new TestConsole().Width(200);
        var loaded = new List<MnistSplit>();

        var code = new AnomalyRunner(settings, console, (split, _) =>
        {
            loaded.Add(split);
            return split == MnistSplit.Train ? Synthetic.Digits(1_000, 1) : Synthetic.Digits(600, 2);
        }).Run(CancellationToken.None);

        code.Should().Be(0, console.Output);
        loaded.Should().Equal(MnistSplit.Train, MnistSplit.Test);
        using var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder.Path, "results.json")));
        var root = results.RootElement;
        root.GetProperty("testImages").GetInt32().Should().Be(600);
        root.GetProperty("reference").GetProperty("mean").GetDouble().Should().BeApproximately(94.8, 0.01);

        var summaries = root.GetProperty("summaries").EnumerateArray().ToArray();
        summaries.Select(s => $"{s.GetProperty("model").GetString()}/{s.GetProperty("score").GetString()}").Should().BeEquivalentTo(
            "dense/reconstruction", "dense/latent Mahalanobis", "dense/combined",
            "conv/reconstruction", "conv/latent Mahalanobis", "conv/combined",
            "vae/reconstruction", "vae/negative ELBO", "vae/latent Mahalanobis", "vae/combined");

        // The synthetic patterns differ in where the bars are: a model trained on one pattern flags the others.
        summaries.Should().OnlyContain(s => s.GetProperty("mean").GetDouble() >= 0 && s.GetProperty("mean").GetDouble() <= 1);
        summaries.Max(s => s.GetProperty("mean").GetDouble()).Should().BeGreaterThan(0.95);
        var runs = root.GetProperty("runs").EnumerateArray().ToArray();
        runs.Should().HaveCount(2 * 2 * 10, "two digits, two seeds, ten model/score rows");
        root.GetProperty("times").EnumerateArray().Should().HaveCount(3 * 2 * 2);

        var pictures = root.GetProperty("pictures").EnumerateArray().Select(p => p.GetString()!).ToArray();
        pictures.Should().Contain(["roc-curves.png", "auroc-by-score.png", "histogram-digit-0.png", "histogram-digit-3.png", "extremes-digit-0.png", "extremes-digit-3.png"]);
        foreach (var picture in pictures)
        {
            using var bitmap = Png.Decode(File.ReadAllBytes(Path.Combine(folder.Path, picture)));
            bitmap.Width.Should().BeGreaterThan(50);
        }

        var markdown = File.ReadAllText(Path.Combine(folder.Path, "results.md"));
        markdown.Should().MatchRegex(@"One-Class Deep SVDD \(Ruff et al. 2018\) \|\s+98.0 \|\s+91.9 \|\s+95.0 \|").And.Contain("| conv / latent Mahalanobis").And.Contain("Quick run");
    }

    [Theory]
    [InlineData("0-9", new[] { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 })]
    [InlineData("3,5, 8", new[] { 3, 5, 8 })]
    [InlineData("0-2,9", new[] { 0, 1, 2, 9 })]
    public void Digits_parse_from_lists_and_ranges(string text, int[] expected)
    {
        AnomalySettings.TryParseDigits(text, out var digits, out var error).Should().BeTrue();
        error.Should().BeNull();
        digits.Should().Equal(expected);
    }

    [Theory]
    [InlineData("10")]
    [InlineData("a")]
    [InlineData("")]
    [InlineData("1-2-3")]
    public void Bad_digits_are_refused_with_a_message(string text)
    {
        AnomalySettings.TryParseDigits(text, out _, out var error).Should().BeFalse();
        error.Should().StartWith("--digits");
    }

    [Fact]
    public void Unknown_models_are_refused()
    {
        AnomalySettings.TryParseModels("dense,gan", out _, out var error).Should().BeFalse();
        error.Should().Contain("'gan'");
        AnomalySettings.TryParseModels("conv, dense", out var models, out _).Should().BeTrue();
        models.Should().Equal("conv", "dense");
    }
}
