using LatentKit.Samples.ResultTable.CommandLine;

namespace LatentKit.Samples.Tests.ResultTable;

public class CommandLineTests
{
    private static async Task<(int ExitCode, ResultTableSettings? Settings, string Output, string Error)> Invoke(params string[] args)
    {
        ResultTableSettings? received = null;
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await ResultTableCommandLine.InvokeAsync(
            args,
            (settings, _) =>
            {
                received = settings;
                return Task.FromResult(0);
            },
            output,
            error);
        return (code, received, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task No_arguments_run_all_four_scenarios_with_the_presets_values()
    {
        var (code, settings, _, error) = await Invoke();

        code.Should().Be(0);
        error.Should().BeEmpty();
        settings.Should().BeEquivalentTo(new ResultTableSettings());
        settings!.Scenarios.Should().Equal(1, 2, 3, 4);
        settings.OutputDirectory.Should().Be("./output/result-table");
        settings.Epochs.Should().BeNull();
        settings.Quick.Should().BeFalse();
    }

    [Fact]
    public async Task Every_option_reaches_the_settings()
    {
        using var directory = new TempDirectory();
        var (code, settings, _, _) = await Invoke(
            "--scenarios", "3,1", "--epochs", "5", "--batch-size", "128", "--seed", "7", "--threads", "2",
            "--data-dir", directory.Path, "--output", directory.File("out"), "--quick");

        code.Should().Be(0);
        settings.Should().BeEquivalentTo(new ResultTableSettings
        {
            Scenarios = [3, 1],
            Epochs = 5,
            BatchSize = 128,
            Seed = 7,
            Threads = 2,
            DataDirectory = directory.Path,
            OutputDirectory = directory.File("out"),
            Quick = true,
        });
    }

    [Theory]
    [InlineData(new[] { "--scenarios", "2" }, new[] { 2 })]
    [InlineData(new[] { "--scenarios", "4,2,4" }, new[] { 4, 2 })]
    [InlineData(new[] { "--scenarios", "1", "3" }, new[] { 1, 3 })]
    [InlineData(new[] { "-s", " 1 , 2 " }, new[] { 1, 2 })]
    public void Scenarios_are_read_in_order_without_repeats(string[] args, int[] expected)
    {
        ResultTableCommandLine.TryParse(args, out var settings, out var errors).Should().BeTrue(string.Join("; ", errors));
        settings!.Scenarios.Should().Equal(expected);
    }

    [Theory]
    [InlineData("There is no scenario '5'", "--scenarios", "5")]
    [InlineData("There is no scenario '0'", "--scenarios", "1,0")]
    [InlineData("There is no scenario 'two'", "--scenarios", "two")]
    [InlineData("--scenarios needs at least one scenario", "--scenarios", ",")]
    [InlineData("--epochs must be a positive number of epochs (1 to 10000); got 0", "--epochs", "0")]
    [InlineData("--epochs must be a positive number of epochs", "--epochs", "-3")]
    [InlineData("--epochs must be a positive number of epochs", "--epochs", "10001")]
    [InlineData("--batch-size must be a positive batch size", "--batch-size", "0")]
    [InlineData("--batch-size must be a positive batch size", "--batch-size", "60001")]
    [InlineData("--threads must be a positive number of threads", "--threads", "-1")]
    [InlineData("--threads must be a positive number of threads", "--threads", "0")]
    [InlineData("'abc'", "--epochs", "abc")]
    [InlineData("--no-such-option", "--no-such-option")]
    [InlineData("--seed", "--seed")]
    public async Task Wrong_values_give_a_clear_message_and_exit_code_2(string expectedMessage, params string[] args)
    {
        var (code, settings, _, error) = await Invoke(args);

        code.Should().Be(ResultTableCommandLine.UsageErrorExitCode).And.Be(2);
        settings.Should().BeNull("nothing runs on a wrong command line");
        error.Should().Contain(expectedMessage);
        error.Should().Contain("--help");
    }

    [Fact]
    public async Task An_output_path_that_is_a_file_is_refused()
    {
        using var directory = new TempDirectory();
        var file = directory.File("results.json");
        File.WriteAllText(file, "{}");

        var (code, _, _, error) = await Invoke("--output", file);

        code.Should().Be(2);
        error.Should().Contain("names a file, not a directory");
    }

    [Fact]
    public async Task Help_explains_every_option_and_runs_nothing()
    {
        var (code, settings, output, _) = await Invoke("--help");

        code.Should().Be(0);
        settings.Should().BeNull();
        foreach (var option in new[] { "--scenarios", "--epochs", "--batch-size", "--seed", "--threads", "--data-dir", "--output", "--quick", "--help" })
        {
            output.Should().Contain(option);
        }

        output.Should().Contain("./output/result-table");
    }

    [Fact]
    public async Task Help_wins_over_a_wrong_value()
    {
        var (code, _, output, _) = await Invoke("--epochs", "0", "--help");

        code.Should().Be(0);
        output.Should().Contain("--epochs");
    }

    [Fact]
    public async Task The_runs_exit_code_is_returned()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await ResultTableCommandLine.InvokeAsync(["--quick"], (_, _) => Task.FromResult(1), output, error);

        code.Should().Be(1);
    }

    [Theory]
    [InlineData(null, false, 20, 20)]
    [InlineData(null, true, 20, 1)]
    [InlineData(3, true, 20, 3)]
    [InlineData(7, false, 20, 7)]
    public void Effective_epochs_prefer_the_option_then_quick_then_the_preset(int? epochs, bool quick, int preset, int expected) =>
        new ResultTableSettings { Epochs = epochs, Quick = quick }.EffectiveEpochs(preset).Should().Be(expected);
}
