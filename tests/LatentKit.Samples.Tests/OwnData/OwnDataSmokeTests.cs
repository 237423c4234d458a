using System.Globalization;
using LatentKit.Imaging;
using LatentKit.Imaging.Tests;
using LatentKit.Samples.OwnData;
using SkiaSharp;
using Spectre.Console.Testing;

namespace LatentKit.Samples.Tests.OwnData;

/// <summary>The own-data sample and the README's non-MNIST example, on small generated folders.</summary>
public sealed class OwnDataSmokeTests : IDisposable
{
    private static readonly string[] Colours = ["blue", "green", "red", "yellow"];

    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    /// <summary>4 classes of 24 x 20 colour images (PNG and JPEG), each class a colour plus a per-image pattern.</summary>
    private string WriteColourFolder(int perClass = 12)
    {
        var root = temp.File("photos");
        for (var c = 0; c < Colours.Length; c++)
        {
            for (var i = 0; i < perClass; i++)
            {
                var planar = TestImages.Planar(3, 20, 24, i);
                for (var p = 0; p < planar.Length; p++)
                {
                    var channel = p / (20 * 24);
                    var strong = (c == 0 && channel == 2) || (c == 1 && channel == 1) || (c == 2 && channel == 0) || (c == 3 && channel < 2);
                    planar[p] = (byte)((strong ? 160 : 0) + (planar[p] / 4));
                }

                var format = i % 3 == 0 ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Png;
                TestImages.Write(Path.Combine(root, Colours[c], $"{i}.{(format == SKEncodedImageFormat.Jpeg ? "jpg" : "png")}"), planar, 3, 20, 24, format, 95);
            }
        }

        return root;
    }

    [Fact]
    public void The_readme_example_learns_the_generated_photos_and_saves_a_classifier_that_loads()
    {
        var folder = WriteColourFolder(perClass: 24);
        var modelPath = temp.File("photos.lkm");
        var printed = new StringWriter(CultureInfo.CurrentCulture);

        var (loss, accuracy) = ReadmeExample.Run(folder, modelPath, printed, epochs: 40, threads: 1);

        printed.ToString().Should().Be($"Test BCE {loss:0.0000}, accuracy {accuracy:P1} over blue, green, red, yellow{Environment.NewLine}");
        double.IsFinite(loss).Should().BeTrue();
        accuracy.Should().BeGreaterThan(0.5, "four well-separated colours must be learnt well above chance (0.25)");
        using var loaded = LatentClassifier.Load(modelPath);
        loaded.ClassNames.Should().Equal(Colours);
        var (_, test) = ImageFolder.Load(folder, new ImageFolderOptions { Width = 32, Height = 32, Channels = 3 }).SplitForValidation(0.2, seed: 1);
        loaded.Evaluate(test).Accuracy.Should().Be(accuracy);
    }

    [Fact]
    public void The_readme_shows_the_code_the_smoke_test_runs()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        var section = readme[readme.IndexOf("## Your own data: a folder of images", StringComparison.Ordinal)..];
        var start = section.IndexOf("```csharp", StringComparison.Ordinal) + "```csharp".Length;
        var code = section[start..section.IndexOf("```", start, StringComparison.Ordinal)];
        var example = File.ReadAllText(Path.Combine(RepositoryRoot(), "samples", "LatentKit.Samples.OwnData", "ReadmeExample.cs"));
        var lines = code.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("using LatentKit", StringComparison.Ordinal)).ToList();

        lines.Should().HaveCountGreaterThan(10);
        foreach (var line in lines)
        {
            // The example takes as parameters what the README spells out.
            var expected = line
                .Replace("\"photos\"", "folder", StringComparison.Ordinal)
                .Replace("\"photos.lkm\"", "modelPath", StringComparison.Ordinal)
                .Replace("{ Epochs = 10, BatchSize = 32 });", "{ Epochs = epochs, BatchSize = 32 }, new TrainingRun { Threads = threads });", StringComparison.Ordinal)
                .Replace("Console.WriteLine", "output.WriteLine", StringComparison.Ordinal);
            example.Should().Contain(expected, "README line '{0}' must be what ReadmeExample.cs runs", line);
        }
    }

    [Fact]
    public void The_sample_trains_on_an_image_folder_prints_its_figures_and_saves_the_classifier()
    {
        var folder = WriteColourFolder();
        var output = temp.File("out");
        var console = new TestConsole().Width(200);
        OwnDataCommandLine.TryParse(["--images", folder, "--width", "16", "--height", "16", "--epochs", "30", "--batch-size", "8", "--threads", "1", "--output", output], out var settings, out var errors)
            .Should().BeTrue(string.Join("; ", errors));

        var result = new OwnDataRunner(settings!, console).Execute();

        result.ModelKind.Should().Be("convolutional");
        result.LossName.Should().Be("BCE");
        result.TestLoss.Should().BeLessThan(result.BaselineLoss, "the autoencoder must beat the mean training image");
        result.TestAccuracy.Should().BeGreaterThan(0.5);
        result.ModelPath.Should().Be(Path.Combine(output, "classifier.lkm"));
        File.Exists(result.ModelPath).Should().BeTrue();
        console.Output.Should().Contain("48 samples of 3 x 16 x 16, 4 classes (blue, green, red, yellow)")
            .And.Contain("Reconstruction BCE").And.Contain("Classifier accuracy").And.Contain("recall of 'yellow'");
    }

    [Fact]
    public void The_sample_trains_an_autoencoder_on_an_unlabelled_streaming_folder()
    {
        var folder = temp.File("flat");
        for (var i = 0; i < 10; i++)
        {
            TestImages.Write(Path.Combine(folder, $"{i}.png"), TestImages.Planar(1, 12, 10, i), 1, 12, 10);
        }

        var console = new TestConsole().Width(200);
        var settings = new OwnDataSettings { ImagesDirectory = folder, Streaming = true, Epochs = 2, Threads = 1, OutputDirectory = temp.File("out") };

        var code = new OwnDataRunner(settings, console).Run();

        code.Should().Be(0, console.Output);
        console.Output.Should().Contain("10 samples of 1 x 12 x 10, unlabelled");
        File.Exists(Path.Combine(settings.OutputDirectory, "autoencoder.lkm")).Should().BeTrue();
    }

    [Fact]
    public void A_broken_image_ends_the_run_with_exit_1_naming_it()
    {
        var folder = WriteColourFolder(perClass: 2);
        var broken = Path.Combine(folder, "red", "broken.png");
        File.WriteAllBytes(broken, [1, 2, 3]);
        var console = new TestConsole().Width(400);

        var code = new OwnDataRunner(new OwnDataSettings { ImagesDirectory = folder, Threads = 1, OutputDirectory = temp.File("out") }, console).Run();

        code.Should().Be(1);
        console.Output.Should().Contain(broken).And.Contain("cannot be decoded");
    }

    /// <summary>30-wide rows of two classes ("low", "high") in different units per column, with a label column in the middle.</summary>
    private string WriteCsv(int rows)
    {
        var random = new Random(4);
        var path = temp.File("sensors.csv");
        var lines = new List<string> { string.Join(",", Enumerable.Range(0, 30).Select(i => i == 12 ? $"s{i},state" : $"s{i}")) };
        for (var r = 0; r < rows; r++)
        {
            var high = r % 2 == 0;
            var cells = Enumerable.Range(0, 30).Select(i =>
            {
                var value = ((i + 1) * 10.0) + ((high && i < 10 ? 3 : 0) + random.NextDouble() - 0.5) * (i + 1);
                var cell = value.ToString("0.###", CultureInfo.InvariantCulture);
                return i == 12 ? $"{cell},{(high ? "high" : "low")}" : cell;
            });
            lines.Add(string.Join(",", cells));
        }

        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void The_sample_trains_a_standardised_dense_autoencoder_and_a_classifier_on_a_csv_file()
    {
        var csv = WriteCsv(200);
        var output = temp.File("out");
        var console = new TestConsole().Width(200);
        OwnDataCommandLine.TryParse(["--csv", csv, "--label-column", "state", "--epochs", "20", "--batch-size", "16", "--threads", "1", "--output", output], out var settings, out var errors)
            .Should().BeTrue(string.Join("; ", errors));

        var result = new OwnDataRunner(settings!, console).Execute();

        result.ModelKind.Should().Be("dense");
        result.LossName.Should().Be("MSE");
        result.TestLoss.Should().BeLessThan(result.BaselineLoss * 0.9, "the autoencoder must beat the mean standardised row");
        result.TestAccuracy.Should().BeGreaterThan(0.8, "the two states differ by three standard deviations in ten columns");
        console.Output.Should().Contain("200 samples of 30, 2 classes (high, low)").And.Contain("Reconstruction MSE");
        using var loaded = LatentClassifier.Load(result.ModelPath);
        loaded.ClassNames.Should().Equal("high", "low");
    }

    [Fact]
    public void A_csv_cell_that_is_not_a_number_ends_the_run_with_exit_1_naming_the_line_and_column()
    {
        var csv = temp.File("bad.csv");
        File.WriteAllLines(csv, ["a,b,label", "1,2,x", "3,oops,y"]);
        var console = new TestConsole().Width(400);

        var code = new OwnDataRunner(new OwnDataSettings { CsvFile = csv, LabelColumn = "label", Threads = 1, OutputDirectory = temp.File("out") }, console).Run();

        code.Should().Be(1);
        console.Output.Should().Contain(csv).And.Contain("line 3");
    }

    [Theory]
    [InlineData("", "Give either --images DIR or --csv FILE")]
    [InlineData("--images a --csv b", "Give either --images DIR or --csv FILE")]
    [InlineData("--images a --label-column y", "--label-column goes with --csv")]
    [InlineData("--csv a --grey", "--width, --height, --grey and --streaming go with --images")]
    [InlineData("--images a --width 8", "Give --width and --height together")]
    [InlineData("--images a --epochs 0", "--epochs must be 1 to 10000; got 0")]
    public async Task A_wrong_command_line_exits_2_with_the_reason(string args, string message)
    {
        var error = new StringWriter(CultureInfo.InvariantCulture);
        var ran = false;

        var code = await OwnDataCommandLine.InvokeAsync(
            args.Split(' ', StringSplitOptions.RemoveEmptyEntries),
            (_, _) => { ran = true; return Task.FromResult(0); },
            TextWriter.Null,
            error);

        code.Should().Be(OwnDataCommandLine.UsageErrorExitCode);
        ran.Should().BeFalse();
        error.ToString().Should().Contain(message);
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "LatentKit.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("LatentKit.sln not found above the test binaries.");
    }
}
