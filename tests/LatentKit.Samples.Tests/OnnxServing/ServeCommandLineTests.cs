using LatentKit.Samples.Tests.Smoke;

namespace LatentKit.Samples.Tests.OnnxServing;

/// <summary>
/// The serving program's command line, as its own process: help, usage errors (one line naming the argument, exit 2,
/// checked before MNIST is read) and files ONNX Runtime refuses (one line, exit 1, before MNIST is read).
/// </summary>
public class ServeCommandLineTests
{
    [Fact]
    public void Help_lists_the_arguments_and_exits_0()
    {
        var (code, output) = OnnxServingSmokeTests.Run(OnnxServingSmokeTests.ServeAssembly(), "--help");

        code.Should().Be(0, output);
        output.Should().Contain("--no-mlnet").And.Contain("model");
    }

    [Fact]
    public void Wrong_arguments_are_one_line_naming_them_with_exit_2()
    {
        using var folder = new TempDirectory();
        var model = Path.Combine(folder.Path, "m.onnx");
        File.WriteAllText(model, "not checked before the arguments are");
        var mnist = Path.Combine(folder.Path, "mnist");
        Directory.CreateDirectory(mnist);
        File.WriteAllText(Path.Combine(mnist, "t10k-images-idx3-ubyte"), "x");
        File.WriteAllText(Path.Combine(mnist, "t10k-labels-idx1-ubyte"), "x");

        foreach (var (args, says) in new[]
        {
            (Array.Empty<string>(), "model"),
            ([Path.Combine(folder.Path, "none.onnx"), mnist], "does not exist"),
            ([folder.Path, mnist], "is a folder"),
            ([model, Path.Combine(folder.Path, "nodir")], "does not exist"),
            ([model, model], "is a file"),
            ([model, folder.Path], "t10k-images-idx3-ubyte"),
            ([model, mnist, "--bogus"], "--bogus"),
            ([model, mnist, "extra"], "extra"),
        })
        {
            var (code, output) = OnnxServingSmokeTests.Run(OnnxServingSmokeTests.ServeAssembly(), args);

            code.Should().Be(2, output);
            ExportCommandLineTests.OneLine(output).Should().StartWith("error: ").And.Contain(says);
        }
    }

    [Fact]
    public void A_file_ONNX_Runtime_refuses_is_one_error_line_with_exit_1_before_MNIST_is_read()
    {
        using var folder = new TempDirectory();
        var mnist = Path.Combine(folder.Path, "mnist");
        Directory.CreateDirectory(mnist);

        // Broken MNIST files: reading them first would name them instead of the model.
        File.WriteAllText(Path.Combine(mnist, "t10k-images-idx3-ubyte"), "x");
        File.WriteAllText(Path.Combine(mnist, "t10k-labels-idx1-ubyte"), "x");
        foreach (var name in new[] { "notes.onnx", "classifier.lkm" })
        {
            var model = Path.Combine(folder.Path, name);
            File.WriteAllText(model, "not an ONNX model");

            var (code, output) = OnnxServingSmokeTests.Run(OnnxServingSmokeTests.ServeAssembly(), model, mnist);

            code.Should().Be(1, output);
            ExportCommandLineTests.OneLine(output).Should().StartWith("error: ").And.Contain(model).And.NotContain("idx");
        }
    }
}
