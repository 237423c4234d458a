using LatentKit.Benchmarks;

namespace LatentKit.Samples.Tests.Benchmarks;

/// <summary>The benchmark's command line: wrong values are usage errors (exit 2) before any work, never a library stack trace or a native abort.</summary>
public class BenchmarkCommandLineTests
{
    [Theory]
    [InlineData("--nonsense", "--nonsense")]
    [InlineData("--threads 100000", "--threads must be 1 to 1024")]
    [InlineData("throughput --threads 100000", "--threads must be 1 to 1024")]
    [InlineData("throughput --threads 0", "--threads must be 1 to 1024")]
    [InlineData("throughput --threads abc", "abc")]
    [InlineData("throughput --train 0", "--train must be")]
    [InlineData("memory --threads 100000", "--threads must be 1 to 1024")]
    [InlineData("memory --epochs 0", "--epochs must be")]
    [InlineData("conv --threads 0", "--threads must be 1 to 1024")]
    [InlineData("conv --train -1", "--train must be 1 to 60000")]
    [InlineData("conv --c1 0", "--c1 must be 1 to 1024")]
    [InlineData("conv --c2 0", "--c2 must be 1 to 1024")]
    [InlineData("conv --epochs 0", "--epochs must be 1 to 10000")]
    [InlineData("layers --threads 0", "--threads must be 1 to 1024")]
    [InlineData("layers --threads -1", "--threads must be 1 to 1024")]
    [InlineData("layers --threads 100000", "--threads must be 1 to 1024")]
    [InlineData("onnx --test 100000", "--test must be 1 to 10000; got 100000")]
    [InlineData("onnx --test 0", "--test must be 1 to 10000; got 0")]
    [InlineData("onnx --threads 0", "--threads must be 1 to 1024")]
    public void A_wrong_value_is_a_usage_error(string args, string message)
    {
        var (code, _, error) = ProgramRunner.Run(typeof(ThroughputOptions).Assembly, args.Split(' '));

        code.Should().Be(2, error);
        error.Should().Contain(message).And.NotContain(" at ");
    }

    [Theory]
    [InlineData("throughput")]
    [InlineData("onnx")]
    public void An_output_page_that_cannot_be_written_is_refused_before_the_run(string command)
    {
        using var folder = new TempDirectory();
        var file = folder.File("a-file");
        File.WriteAllText(file, "x");

        foreach (var (output, says) in new[] { ("/proc/latentkit-no-such/perf.md", "--output: cannot write"), (Path.Combine(file, "perf.md"), "--output: cannot write"), (folder.Path, "--output names a directory") })
        {
            var (code, stdout, error) = ProgramRunner.Run(typeof(ThroughputOptions).Assembly, command, "--threads", "1", "--output", output);

            code.Should().Be(2, error);
            error.Should().Contain(says).And.NotContain(" at ");
            stdout.Should().BeEmpty("nothing was measured");
        }
    }

    [Theory]
    [InlineData("throughput")]
    [InlineData("memory")]
    [InlineData("conv")]
    [InlineData("onnx")]
    public void A_data_dir_that_is_missing_a_file_or_empty_is_refused(string command)
    {
        using var folder = new TempDirectory();
        var file = folder.File("a-file");
        File.WriteAllText(file, "x");
        var empty = Directory.CreateDirectory(folder.File("empty")).FullName;

        foreach (var (dataDir, says) in new[] { (folder.File("missing"), "there is no directory"), (file, "names a file"), (empty, "is empty") })
        {
            var (code, stdout, error) = ProgramRunner.Run(typeof(ThroughputOptions).Assembly, command, "--threads", "1", "--data-dir", dataDir);

            code.Should().Be(2, error);
            error.Should().Contain("--data-dir").And.Contain(says);
            stdout.Should().BeEmpty();
        }
    }
}
