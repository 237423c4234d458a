using LatentKit.Samples.OnnxServing.Export;

namespace LatentKit.Samples.Tests.OnnxServing;

/// <summary>
/// The export program's command line, in process: help, usage errors (one line naming the option, exit 2) and a file
/// that is not a model (one line, exit 1), all before MNIST is read or anything is trained.
/// </summary>
public class ExportCommandLineTests
{
    [Fact]
    public async Task Help_lists_the_options_and_exits_0()
    {
        var (code, output, error) = await Run("--help");

        code.Should().Be(0);
        output.Should().Contain("--model").And.Contain("--output").And.Contain("--epochs").And.Contain("--data");
        error.Should().BeEmpty();
    }

    [Theory]
    [InlineData("--bogus", "--bogus")]
    [InlineData("--epochs abc", "--epochs")]
    [InlineData("--epochs", "--epochs")]
    [InlineData("--epochs 0", "--epochs")]
    [InlineData("--epochs -1", "--epochs")]
    [InlineData("--epochs 1 --epochs 2", "--epochs")]
    [InlineData("extra", "extra")]
    public async Task A_wrong_option_is_one_line_naming_it_with_exit_2(string args, string named)
    {
        var (code, output, error) = await Run(args.Split(' '));

        code.Should().Be(2);
        output.Should().BeEmpty("nothing is trained");
        OneLine(error).Should().StartWith("error: ").And.Contain(named);
    }

    [Fact]
    public async Task Missing_or_wrong_kinds_of_paths_are_refused_before_any_work()
    {
        using var folder = new TempDirectory();
        var file = Path.Combine(folder.Path, "notes.txt");
        File.WriteAllText(file, "not a model");
        var missing = Path.Combine(folder.Path, "none.lkm");

        foreach (var (args, named, says) in new[]
        {
            (new[] { "--model", missing }, "--model", "does not exist"),
            (["--model", folder.Path], "--model", "is a folder"),
            (["--data", Path.Combine(folder.Path, "nodir")], "--data", "does not exist"),
            (["--data", file], "--data", "is a file"),
            (["--data", folder.Path], "--data", "t10k-images-idx3-ubyte"),
            (["--output", folder.Path], "--output", "is a folder"),
            (["--output", "/proc/x"], "--output", "/proc"),
            (["--output", Path.Combine(folder.Path, "nodir", "m.onnx")], "--output", "does not exist"),
            (["--model", file, "--epochs", "3"], "--epochs", "--model"),
        })
        {
            var (code, output, error) = await Run(args);

            code.Should().Be(2, string.Join(' ', args));
            output.Should().BeEmpty();
            OneLine(error).Should().StartWith("error: ").And.Contain(named).And.Contain(says);
        }
    }

    [Fact]
    public async Task A_file_that_is_not_a_model_is_one_error_line_with_exit_1()
    {
        using var folder = new TempDirectory();
        var file = Path.Combine(folder.Path, "model.lkm");
        File.WriteAllText(file, "not a model");

        // An empty --data folder would be refused; the model must fail first, before MNIST is read.
        var (code, output, error) = await Run("--model", file, "--output", Path.Combine(folder.Path, "m.onnx"));

        code.Should().Be(1);
        output.Should().BeEmpty();
        OneLine(error).Should().StartWith("error: ").And.Contain(file);
        File.Exists(Path.Combine(folder.Path, "m.onnx")).Should().BeFalse();
    }

    internal static string OneLine(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().ContainSingle(text);
        text.Should().NotContain("   at ", "no stack trace");
        return lines[0];
    }

    private static async Task<(int Code, string Output, string Error)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await ExportProgram.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
