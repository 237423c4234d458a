using LatentKit.Samples.ResultTable.CommandLine;

namespace LatentKit.Samples.ResultTable.Report;

/// <summary>The content of results.json: when, with which settings, on what, and every scenario's figures.</summary>
/// <param name="StartedAt">When the run started.</param>
/// <param name="Settings">The settings of the run.</param>
/// <param name="Environment">Versions and machine.</param>
/// <param name="Scenarios">One outcome per scenario run, in run order.</param>
public sealed record ResultsDocument(
    DateTimeOffset StartedAt,
    ResultTableSettings Settings,
    RunEnvironment Environment,
    IReadOnlyList<ScenarioOutcome> Scenarios)
{
    /// <summary>File name of the JSON results in the output directory.</summary>
    public const string JsonFileName = "results.json";

    /// <summary>File name of the markdown table in the output directory.</summary>
    public const string MarkdownFileName = "results.md";

    /// <summary>Wall time of all scenarios (training, evaluation, pictures and saving; loading MNIST excluded), in seconds.</summary>
    public double TotalWallTimeSeconds { get; init; }
}
