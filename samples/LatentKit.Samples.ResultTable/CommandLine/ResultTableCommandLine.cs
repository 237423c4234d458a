using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using LatentKit.Samples.Common.CommandLine;

namespace LatentKit.Samples.ResultTable.CommandLine;

/// <summary>
/// The command line of the result-table sample, on System.CommandLine: options, their validation, <c>--help</c>,
/// and the exit codes (0 success, 1 a failed run, 2 a wrong command line, 130 cancelled).
/// </summary>
public static class ResultTableCommandLine
{
    /// <summary>Exit code for a wrong command line (an unknown option, a value out of range, ...).</summary>
    public const int UsageErrorExitCode = OptionRules.UsageErrorExitCode;

    /// <summary>Largest accepted <c>--epochs</c>.</summary>
    public const int MaxEpochs = 10_000;

    /// <summary>Largest accepted <c>--batch-size</c> (the size of the MNIST training split).</summary>
    public const int MaxBatchSize = 60_000;

    /// <summary>Largest accepted <c>--threads</c>.</summary>
    public const int MaxThreads = OptionRules.MaxThreads;

    /// <summary>
    /// Parses and validates <paramref name="args"/>, then either prints help (exit 0), prints the errors with a hint
    /// (exit <see cref="UsageErrorExitCode"/>), or calls <paramref name="run"/> with the settings and returns its code.
    /// </summary>
    /// <param name="args">The command-line arguments.</param>
    /// <param name="run">The run itself.</param>
    /// <param name="output">Where help goes (standard output).</param>
    /// <param name="error">Where errors go (standard error).</param>
    /// <param name="cancellationToken">Cancels the run (System.CommandLine also cancels on Ctrl+C).</param>
    public static Task<int> InvokeAsync(
        IReadOnlyList<string> args,
        Func<ResultTableSettings, CancellationToken, Task<int>> run,
        TextWriter output,
        TextWriter error,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);

        var options = new Options();
        var root = CreateRootCommand(options);
        root.SetAction((result, token) => run(options.ToSettings(result), token));
        return OptionRules.InvokeAsync(root, args, output, error, cancellationToken);
    }

    /// <summary>
    /// Parses and validates <paramref name="args"/> without running anything: the settings, or the error messages
    /// (for tests and tools). Help is not an error.
    /// </summary>
    /// <param name="args">The command-line arguments.</param>
    /// <param name="settings">The settings when there are no errors.</param>
    /// <param name="errors">The error messages, empty on success.</param>
    /// <returns>Whether the command line is valid.</returns>
    public static bool TryParse(IReadOnlyList<string> args, out ResultTableSettings? settings, out IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(args);
        var options = new Options();
        var parsed = CreateRootCommand(options).Parse(args);
        errors = parsed.Errors.Select(e => e.Message).Distinct().ToArray();
        settings = errors.Count == 0 ? options.ToSettings(parsed) : null;
        return errors.Count == 0;
    }

    private static RootCommand CreateRootCommand(Options options)
    {
        var root = new RootCommand(
            "Reproduces the result table of the reference study: trains the four reference scenarios (autoencoders on "
            + "MNIST, then a classifier on their latent codes), prints our figures beside the original's, and writes "
            + "results.json, results.md and pictures per scenario to the output directory.");
        root.Options.Add(options.Scenarios);
        root.Options.Add(options.Epochs);
        root.Options.Add(options.BatchSize);
        root.Options.Add(options.Seed);
        root.Options.Add(options.Threads);
        root.Options.Add(options.DataDirectory);
        root.Options.Add(options.Output);
        root.Options.Add(options.Quick);
        return root;
    }

    private static void RequireRange(OptionResult result, int min, int max, string meaning)
    {
        if (result.Implicit || result.Tokens.Count == 0)
        {
            return;
        }

        // A token that is not a number already has System.CommandLine's own parse error.
        if (!int.TryParse(result.Tokens[^1].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
        {
            return;
        }

        if (v < min || v > max)
        {
            result.AddError($"{result.IdentifierToken?.Value ?? "The option"} must be {meaning} ({min} to {max}); got {v}.");
        }
    }

    private static void RequireNotAFile(OptionResult result)
    {
        var value = result.GetValueOrDefault<string?>();
        if (string.IsNullOrWhiteSpace(value))
        {
            if (!result.Implicit)
            {
                result.AddError($"{result.IdentifierToken?.Value ?? "The option"} needs a directory path.");
            }

            return;
        }

        if (File.Exists(value))
        {
            result.AddError($"{result.IdentifierToken?.Value ?? "The option"} names a file, not a directory: {value}");
        }
    }

    private static IReadOnlyList<int> ParseScenarios(ArgumentResult result)
    {
        var chosen = new List<int>();
        var parts = result.Tokens
            .SelectMany(t => t.Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .ToArray();
        if (parts.Length == 0)
        {
            result.AddError("--scenarios needs at least one scenario number, 1 to 4 (for example --scenarios 1,3).");
            return chosen;
        }

        foreach (var part in parts)
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || !ResultTableSettings.AllScenarios.Contains(number))
            {
                result.AddError($"There is no scenario '{part}': choose from 1, 2, 3, 4 (for example --scenarios 1,3).");
                return chosen;
            }

            if (!chosen.Contains(number))
            {
                chosen.Add(number);
            }
        }

        return chosen;
    }

    /// <summary>The option objects of one command instance (System.CommandLine symbols belong to one parent).</summary>
    private sealed class Options
    {
        public Options()
        {
            Epochs.Validators.Add(r => RequireRange(r, 1, MaxEpochs, "a positive number of epochs"));
            BatchSize.Validators.Add(r => RequireRange(r, 1, MaxBatchSize, "a positive batch size"));
            Threads.Validators.Add(r => RequireRange(r, 1, MaxThreads, "a positive number of threads"));
            DataDirectory.Validators.Add(RequireNotAFile);
            Output.Validators.Add(RequireNotAFile);
        }

        public Option<IReadOnlyList<int>> Scenarios { get; } = new("--scenarios", "-s")
        {
            Description = "Scenarios to run, by number, comma-separated: 1 dense ReLU, 2 convolutional, 3 dense Tanh, 4 variational.",
            HelpName = "1,2,3,4",
            AllowMultipleArgumentsPerToken = true,
            CustomParser = ParseScenarios,
            DefaultValueFactory = _ => ResultTableSettings.AllScenarios,
        };

        public Option<int?> Epochs { get; } = new("--epochs", "-e")
        {
            Description = "Autoencoder epochs for every scenario, instead of each preset's own (1 with --quick).",
            HelpName = "count",
        };

        public Option<int?> BatchSize { get; } = new("--batch-size", "-b")
        {
            Description = "Batch size for every scenario, instead of each preset's own.",
            HelpName = "size",
        };

        public Option<int?> Seed { get; } = new("--seed")
        {
            Description = "Seed for weight initialisation and batch order (and the quick subsets), instead of each preset's own.",
            HelpName = "number",
        };

        public Option<int?> Threads { get; } = new("--threads", "-t")
        {
            Description = "Threads for TorchSharp's CPU kernels (default: TorchSharp's choice, usually one per core).",
            HelpName = "count",
        };

        public Option<string?> DataDirectory { get; } = new("--data-dir")
        {
            Description = "Directory of the MNIST cache (default: the library's cache, LATENTKIT_HOME if set). MNIST is downloaded there when missing.",
            HelpName = "path",
        };

        public Option<string> Output { get; } = new("--output", "-o")
        {
            Description = "Directory for results.json, results.md, the pictures and the trained models (in models/).",
            HelpName = "path",
            DefaultValueFactory = _ => ResultTableSettings.DefaultOutputDirectory,
        };

        public Option<bool> Quick { get; } = new("--quick")
        {
            Description = $"Smoke run: {ResultTableSettings.QuickTrainingImages:N0} training and {ResultTableSettings.QuickTestImages:N0} test images, "
                + $"{ResultTableSettings.QuickEpochs} epoch for the autoencoder and the classifier; its figures are not comparable with the original's.",
        };

        public ResultTableSettings ToSettings(ParseResult result) => new()
        {
            Scenarios = result.GetValue(Scenarios) ?? ResultTableSettings.AllScenarios,
            Epochs = result.GetValue(Epochs),
            BatchSize = result.GetValue(BatchSize),
            Seed = result.GetValue(Seed),
            Threads = result.GetValue(Threads),
            DataDirectory = result.GetValue(DataDirectory),
            OutputDirectory = result.GetValue(Output) ?? ResultTableSettings.DefaultOutputDirectory,
            Quick = result.GetValue(Quick),
        };
    }
}
