using System.CommandLine;
using LatentKit.Samples.Common.CommandLine;

namespace LatentKit.Samples.Tests.Common;

/// <summary>The options the anomaly-detection and improvements samples share, and their rules.</summary>
public class StudyOptionsTests
{
    private static (ParseResult Result, Option<string> Output, Option<int> Seeds, Option<int?> Threads, Option<string?> DataDirectory) Parse(params string[] args)
    {
        var output = StudyOptions.Output("study-output");
        var seeds = StudyOptions.Seeds("Seeds.");
        var threads = StudyOptions.Threads();
        var dataDirectory = StudyOptions.DataDirectory();
        var root = new RootCommand("test") { output, seeds, threads, dataDirectory };
        return (root.Parse(args), output, seeds, threads, dataDirectory);
    }

    [Fact]
    public void Without_arguments_the_defaults_hold_and_nothing_is_refused()
    {
        var (result, output, seeds, threads, dataDirectory) = Parse();

        result.Errors.Should().BeEmpty();
        result.GetValue(output).Should().Be("study-output");
        result.GetValue(seeds).Should().Be(0, "0 lets the sample choose its default");
        result.GetValue(threads).Should().BeNull();
        result.GetValue(dataDirectory).Should().BeNull();
    }

    [Fact]
    public void Given_values_are_read()
    {
        using var mnist = new TempDirectory();
        File.WriteAllText(mnist.File("train-images-idx3-ubyte.gz"), string.Empty);
        var (result, output, seeds, threads, dataDirectory) = Parse("-o", "out", "--seeds", "5", "--threads", "2", "--data-dir", mnist.Path);

        result.Errors.Should().BeEmpty();
        (result.GetValue(output), result.GetValue(seeds), result.GetValue(threads), result.GetValue(dataDirectory)).Should().Be(("out", 5, (int?)2, mnist.Path));
    }

    [Theory]
    [InlineData("--seeds", "0", "--seeds must be at least 1.")]
    [InlineData("--seeds", "-3", "--seeds must be at least 1.")]
    [InlineData("--threads", "0", "--threads must be between 1 and 1024.")]
    [InlineData("--threads", "-1", "--threads must be between 1 and 1024.")]
    [InlineData("--threads", "1025", "--threads must be between 1 and 1024.")]
    public void Values_out_of_range_are_refused(string option, string value, string message)
    {
        var (result, _, _, _, _) = Parse(option, value);

        result.Errors.Select(e => e.Message).Should().Equal(message);
    }

    [Theory]
    [InlineData("--seeds", "abc")]
    [InlineData("--seeds", "1,1")]
    [InlineData("--threads", "abc")]
    public void A_value_that_does_not_parse_has_only_the_parser_s_error(string option, string value)
    {
        var (result, _, _, _, _) = Parse(option, value);

        result.Errors.Select(e => e.Message).Should().ContainSingle().Which.Should().Contain(option).And.Contain(value);
    }
}
