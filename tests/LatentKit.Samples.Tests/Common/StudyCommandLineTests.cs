using System.Reflection;
using LatentKit.Samples.AnomalyDetection;
using LatentKit.Samples.Improvements;

namespace LatentKit.Samples.Tests.Common;

/// <summary>The anomaly-detection and improvements samples' command lines: wrong values are one-line usage errors, exit 2, before any work.</summary>
public class StudyCommandLineTests
{
    public static TheoryData<string, string[], string> WrongValues() => new()
    {
        { "anomaly", ["--seeds", "1,1"], "--seeds" },
        { "anomaly", ["--seeds", "abc"], "--seeds" },
        { "anomaly", ["--threads", "abc"], "--threads" },
        { "anomaly", ["--threads", "0"], "--threads" },
        { "anomaly", ["--threads", "100000"], "--threads" },
        { "anomaly", ["--epochs", "abc"], "--epochs" },
        { "anomaly", ["--epochs", "0"], "--epochs" },
        { "anomaly", ["--shrinkage", "abc"], "--shrinkage" },
        { "anomaly", ["--shrinkage", "1.5"], "--shrinkage" },
        { "anomaly", ["--digits", "x"], "--digits" },
        { "anomaly", ["--nonsense"], "--nonsense" },
        { "improvements", ["--seeds", "1,2"], "--seeds" },
        { "improvements", ["--threads", "x"], "--threads" },
        { "improvements", ["--threads", "100000"], "--threads" },
        { "improvements", ["--study", "x"], "'x'" },
    };

    [Theory]
    [MemberData(nameof(WrongValues))]
    public void A_wrong_value_is_a_usage_error_naming_the_option(string sample, string[] args, string option)
    {
        var (code, _, error) = ProgramRunner.Run(Program(sample), ["--quick", .. args]);

        code.Should().Be(2, error);
        error.Should().Contain(option).And.NotContain(" at ", "no stack trace").And.Contain("Run with --help");
    }

    [Theory]
    [InlineData("anomaly")]
    [InlineData("improvements")]
    public void An_output_that_is_a_file_or_cannot_be_created_is_refused_before_any_work(string sample)
    {
        using var folder = new TempDirectory();
        var file = folder.File("a-file");
        File.WriteAllText(file, "x");

        foreach (var output in new[] { file, Path.Combine(file, "below"), "/proc/latentkit-no-such/out" })
        {
            var (code, _, error) = ProgramRunner.Run(Program(sample), "--quick", "--data-dir", "/proc/latentkit-no-such-data", "--output", output);
            code.Should().Be(2, error);
            error.Should().Contain("--").And.NotContain(" at ");

            (code, _, error) = ProgramRunner.Run(Program(sample), "--quick", "--output", output, "--threads", "0");
            code.Should().Be(2, error);
        }

        var (exitCode, _, message) = ProgramRunner.Run(Program(sample), "--quick", "--output", file);
        exitCode.Should().Be(2);
        message.Should().Contain("--output").And.Contain("names a file");
        (exitCode, _, message) = ProgramRunner.Run(Program(sample), "--quick", "--output", "/proc/latentkit-no-such/out");
        exitCode.Should().Be(2);
        message.Should().StartWith("error: --output: cannot create the directory /proc/latentkit-no-such/out").And.NotContain(" at ");
    }

    [Theory]
    [InlineData("anomaly")]
    [InlineData("improvements")]
    public void A_data_dir_that_is_missing_a_file_or_empty_is_refused(string sample)
    {
        using var folder = new TempDirectory();
        var file = folder.File("a-file");
        File.WriteAllText(file, "x");
        var empty = Directory.CreateDirectory(folder.File("empty")).FullName;

        foreach (var (dataDir, says) in new[] { (folder.File("missing"), "there is no directory"), (file, "names a file"), (empty, "is empty") })
        {
            var (code, _, error) = ProgramRunner.Run(Program(sample), "--quick", "--output", folder.File("out"), "--data-dir", dataDir);
            code.Should().Be(2, error);
            error.Should().Contain("--data-dir").And.Contain(says);
        }

        Directory.Exists(folder.File("out")).Should().BeFalse("nothing runs on a wrong command line");
    }

    private static Assembly Program(string sample) => sample == "anomaly" ? typeof(AnomalyRunner).Assembly : typeof(ImprovementsRunner).Assembly;
}
