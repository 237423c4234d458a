using System.Globalization;
using LatentKit.Samples.OwnData;
using Spectre.Console.Testing;

namespace LatentKit.Samples.Tests.OwnData;

/// <summary>The own-data sample's command-line errors and the wording of its data errors (no training).</summary>
public sealed class OwnDataCommandLineTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Theory]
    [InlineData("--images D --width abc --height 3", "abc")]
    [InlineData("--images D --width 3 --height abc", "abc")]
    [InlineData("--csv a --csv b", "--csv")]
    [InlineData("--images a --images b", "--images")]
    [InlineData("--csv a --label-column x --label-column y", "--label-column")]
    [InlineData("--images D --threads 1025", "--threads must be 1 to 1024; got 1025")]
    public async Task A_value_that_does_not_parse_or_is_repeated_is_a_usage_error_not_a_crash(string args, string message)
    {
        var (code, error, ran) = await Invoke(args.Split(' '));

        code.Should().Be(OwnDataCommandLine.UsageErrorExitCode, error);
        ran.Should().BeFalse();
        error.Should().Contain(message).And.NotContain(" at ");
    }

    [Fact]
    public async Task An_output_that_is_a_file_or_cannot_be_created_is_refused_before_the_run()
    {
        var file = temp.File("a-file");
        File.WriteAllText(file, "x");

        foreach (var (output, says) in new[] { (file, "--output names a file, not a directory"), (Path.Combine(file, "below"), "--output: cannot create the directory"), ("/proc/latentkit-no-such/out", "--output: cannot create the directory") })
        {
            var (code, error, ran) = await Invoke(["--csv", "x.csv", "--output", output]);

            code.Should().Be(OwnDataCommandLine.UsageErrorExitCode, error);
            ran.Should().BeFalse("the output folder is checked before training, not after");
            error.Should().Contain(says).And.NotContain(" at ");
        }
    }

    [Fact]
    public void A_text_cell_without_label_column_suggests_the_sample_s_option()
    {
        var csv = temp.File("labelled.csv");
        File.WriteAllLines(csv, ["a,state", "1,on", "2,off"]);
        var console = new TestConsole().Width(400);

        var code = new OwnDataRunner(new OwnDataSettings { CsvFile = csv, Threads = 1, OutputDirectory = temp.File("out") }, console).Run();

        code.Should().Be(1);
        console.Output.Should().Contain("--label-column state").And.NotContain("CsvLoadOptions").And.Contain(csv);
    }

    [Fact]
    public void An_empty_image_folder_is_called_a_folder()
    {
        var empty = Directory.CreateDirectory(temp.File("emptydir")).FullName;
        var console = new TestConsole().Width(400);

        var code = new OwnDataRunner(new OwnDataSettings { ImagesDirectory = empty, Threads = 1, OutputDirectory = temp.File("out") }, console).Run();

        code.Should().Be(1);
        console.Output.Should().Contain($"Image folder '{empty}'").And.Contain("is empty").And.NotContain("Data file");
    }

    private static async Task<(int Code, string Error, bool Ran)> Invoke(string[] args)
    {
        var error = new StringWriter(CultureInfo.InvariantCulture);
        var ran = false;
        var code = await OwnDataCommandLine.InvokeAsync(args, (_, _) => { ran = true; return Task.FromResult(0); }, TextWriter.Null, error);
        return (code, error.ToString(), ran);
    }
}
