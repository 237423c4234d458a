using System.Text.Json;
using LatentKit.Samples.Improvements;
using LatentKit.Tests.Support;
using Spectre.Console.Testing;

namespace LatentKit.Samples.Tests.Smoke;

/// <summary>The improvements sample in --quick mode, all three studies, on synthetic digits instead of MNIST.</summary>
public class ImprovementsSmokeTests
{
    [Fact]
    public void A_quick_run_of_every_study_writes_its_results_and_pictures()
    {
        using var folder = new TempDirectory();
        var settings = new ImprovementsSettings(Quick: true, Output: folder.Path, Seeds: 1, Threads: 1, DataDirectory: null, Study: "all");
        var console = new TestConsole().Width(200);
        var loaded = new List<MnistSplit>();

        var code = new ImprovementsRunner(settings, console, (split, _) =>
        {
            loaded.Add(split);
            return split == MnistSplit.Train ? Synthetic.Digits(1_000, 1) : Synthetic.Digits(600, 2);
        }).Run(CancellationToken.None);

        code.Should().Be(0, console.Output);
        loaded.Should().Equal(MnistSplit.Train, MnistSplit.Test);
        using var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder.Path, "results.json")));
        var root = results.RootElement;
        root.GetProperty("trainingImages").GetInt32().Should().Be(600, "quick mode takes 60 images per digit");
        root.GetProperty("testImages").GetInt32().Should().Be(500);

        var autoencoders = root.GetProperty("autoencoders").EnumerateArray().ToArray();
        autoencoders.Select(a => a.GetProperty("name").GetString()).Should().BeEquivalentTo("dense-relu", "conv", "dense-tanh", "vae", "dense-relu-denoising");
        autoencoders.Should().OnlyContain(a => a.GetProperty("testBce").GetDouble() > 0 && a.GetProperty("testBce").GetDouble() < 1);

        var improvements = root.GetProperty("improvements").EnumerateArray().ToArray();
        improvements.Should().HaveCount(10 + 8 + 2 + 4, "the head ladder, two heads per other representation, augmentation and fine-tuning");
        improvements.Should().OnlyContain(r => r.GetProperty("accuracy").GetDouble() >= 0 && r.GetProperty("accuracy").GetDouble() <= 1);

        // Label efficiency: 150 steps per trial teach even 10 labels per digit of the synthetic digits.
        var trials = root.GetProperty("labelEfficiency").GetProperty("trials").EnumerateArray().ToArray();
        trials.Should().HaveCount(5 * 2, "four encoders and the pixels, at 10 and 50 labels per digit, one seed");
        trials.Where(t => t.GetProperty("representation").GetString() == "Raw pixels")
            .Should().OnlyContain(t => t.GetProperty("accuracy").GetDouble() > Baselines.Chance + 0.8);

        foreach (var picture in new[] { "label-efficiency.png", "vae-prior-samples.png", "interpolation-dense.png", "interpolation-vae.png" })
        {
            root.GetProperty("pictures").EnumerateArray().Select(p => p.GetString()).Should().Contain(picture);
            using var bitmap = Png.Decode(File.ReadAllBytes(Path.Combine(folder.Path, picture)));
            bitmap.Width.Should().BeGreaterThan(50);
        }

        File.ReadAllText(Path.Combine(folder.Path, "results.md")).Should().Contain("study all, quick, 600 training / 500 test images");
    }
}
