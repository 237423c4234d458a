using System.Globalization;
using LatentKit.Samples.ResultTable.CommandLine;
using LatentKit.Samples.ResultTable.Report;
using Spectre.Console;

namespace LatentKit.Samples.ResultTable;

/// <summary>
/// The result-table run for parsed settings. This build can show the plan of the run but cannot train yet: the
/// LatentKit models, training and MNIST download (issues 2 and 3) are not in the library it is built against, so it
/// says so and exits with code 1 without writing any figures.
/// </summary>
public sealed class ResultTableRunner
{
    /// <summary>Exit code of a run that could not produce the table.</summary>
    public const int FailureExitCode = 1;

    private readonly ResultTableSettings settings;
    private readonly IAnsiConsole console;

    /// <summary>Creates a runner for <paramref name="settings"/> that writes to <paramref name="console"/>.</summary>
    public ResultTableRunner(ResultTableSettings settings, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(console);
        this.settings = settings;
        this.console = console;
    }

    /// <summary>Runs and returns the process exit code.</summary>
    public Task<int> RunAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        console.Write(DescribePlan(settings, RunEnvironment.Capture()));
        console.MarkupLine(
            "[red]This build cannot train:[/] the LatentKit library it is built against has no autoencoder models, "
            + "training or MNIST download yet. Nothing was trained and no results were written.");
        return Task.FromResult(FailureExitCode);
    }

    /// <summary>A console table of the settings and the environment of a run.</summary>
    public static Table DescribePlan(ResultTableSettings settings, RunEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(environment);
        static string OrPreset(int? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "each preset's own";

        var table = new Table().Border(TableBorder.Rounded).Title("result table run");
        table.AddColumn("setting");
        table.AddColumn("value");
        void Row(string name, string value) => table.AddRow(Markup.Escape(name), Markup.Escape(value));
        Row("scenarios", string.Join(", ", settings.Scenarios));
        Row("autoencoder epochs", settings.Epochs?.ToString(CultureInfo.InvariantCulture) ?? (settings.Quick ? $"{ResultTableSettings.QuickEpochs} (quick)" : "each preset's own"));
        Row("batch size", OrPreset(settings.BatchSize));
        Row("seed", OrPreset(settings.Seed));
        Row("threads", settings.Threads?.ToString(CultureInfo.InvariantCulture) ?? "TorchSharp's default");
        Row("MNIST cache", settings.DataDirectory ?? "the library's default");
        Row("output", Path.GetFullPath(settings.OutputDirectory));
        Row("quick", settings.Quick ? $"yes: {ResultTableSettings.QuickTrainingImages} training, {ResultTableSettings.QuickTestImages} test images" : "no");
        Row("LatentKit / TorchSharp", $"{environment.LatentKitVersion} / {environment.TorchSharpVersion}");
        Row(".NET", environment.DotnetVersion);
        Row("machine", $"{environment.OperatingSystem}, {environment.Architecture}, {environment.ProcessorCount} logical processors");
        return table;
    }
}
