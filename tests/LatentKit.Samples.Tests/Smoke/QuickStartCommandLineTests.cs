using LatentKit.Samples.QuickStart;

namespace LatentKit.Samples.Tests.Smoke;

/// <summary>The quick start takes no arguments: --help describes it (exit 0), anything else is a usage error (exit 2), nothing runs.</summary>
public class QuickStartCommandLineTests
{
    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public void Help_describes_the_program_and_exits_0(string help)
    {
        var (output, error) = (new StringWriter(), new StringWriter());

        QuickStartCommandLine.Check([help], output, error).Should().Be(0);

        output.ToString().Should().Contain("MNIST").And.Contain("quick-start.lkm");
        error.ToString().Should().BeEmpty();
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("extra")]
    [InlineData("--epochs", "3")]
    [InlineData("--version")]
    public void Any_argument_is_one_usage_line_with_exit_2(params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());

        QuickStartCommandLine.Check(args, output, error).Should().Be(2);

        output.ToString().Should().BeEmpty();
        var lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().ContainSingle();
        lines[0].Should().StartWith("error: ").And.Contain(args[0]);
    }

    [Fact]
    public void No_arguments_run_the_program()
    {
        QuickStartCommandLine.Check([], TextWriter.Null, TextWriter.Null).Should().BeNull();
    }
}
