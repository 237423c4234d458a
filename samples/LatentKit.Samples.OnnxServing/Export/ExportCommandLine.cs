using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Globalization;

namespace LatentKit.Samples.OnnxServing.Export;

/// <summary>The settings of one export run, checked by <see cref="ExportCommandLine"/>.</summary>
/// <param name="ModelPath">A saved classifier (.lkm) to export; null trains the quick-start classifier.</param>
/// <param name="OutputPath">The ONNX file to write.</param>
/// <param name="Epochs">Epochs for the autoencoder and the classifier when training.</param>
/// <param name="DataDirectory">A folder with MNIST's IDX files; null uses LatentKit's cache (downloading when needed).</param>
internal sealed record ExportSettings(string? ModelPath, string OutputPath, int Epochs, string? DataDirectory);

/// <summary>
/// The command line of the export program, on System.CommandLine: <c>--model</c>, <c>--output</c>, <c>--epochs</c>,
/// <c>--data</c>, <c>--help</c>, and the exit codes (0 success, 1 a failed run, 2 a wrong command line). Every path is
/// checked here, before MNIST is read or anything is trained.
/// </summary>
internal static class ExportCommandLine
{
    /// <summary>Exit code for a wrong command line.</summary>
    public const int UsageErrorExitCode = 2;

    /// <summary>Largest accepted <c>--epochs</c>.</summary>
    public const int MaxEpochs = 10_000;

    /// <summary>Parses and checks <paramref name="args"/>, then prints help (exit 0), the errors (exit 2), or runs <paramref name="run"/>.</summary>
    /// <param name="args">The command-line arguments.</param>
    /// <param name="run">The run itself, given checked settings.</param>
    /// <param name="output">Where help goes.</param>
    /// <param name="error">Where errors go.</param>
    public static async Task<int> InvokeAsync(IReadOnlyList<string> args, Func<ExportSettings, int> run, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(run);
        var options = new Options();
        var root = options.CreateRootCommand();
        root.SetAction(result => run(options.ToSettings(result)));
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && parsed.Action is not HelpAction)
        {
            foreach (var message in parsed.Errors.Select(e => e.Message).Distinct())
            {
                await error.WriteLineAsync($"error: {message} Run with --help to see the options.").ConfigureAwait(false);
            }

            return UsageErrorExitCode;
        }

        return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }).ConfigureAwait(false);
    }

    /// <summary>The option objects of one command instance (System.CommandLine symbols belong to one parent).</summary>
    private sealed class Options
    {
        public Option<string?> Model { get; } = new("--model") { Description = "A classifier saved with LatentClassifier.Save (.lkm) to export; without it the program trains the quick-start classifier.", HelpName = "file" };

        public Option<string> Output { get; } = new("--output", "-o") { Description = "The ONNX file to write (its folder must exist).", HelpName = "file", DefaultValueFactory = _ => "classifier.onnx" };

        public Option<int> Epochs { get; } = new("--epochs", "-e") { Description = $"Epochs for the autoencoder and the classifier when training, 1 to {MaxEpochs}.", HelpName = "count", DefaultValueFactory = _ => 5, CustomParser = ParseEpochs, Arity = ArgumentArity.ZeroOrOne };

        public Option<string?> Data { get; } = new("--data") { Description = "A folder with MNIST's IDX files (raw or .gz); default: LatentKit's cache, downloading when needed.", HelpName = "dir" };

        public RootCommand CreateRootCommand()
        {
            var root = new RootCommand(
                "Trains the quick-start classifier on MNIST (or loads a saved one with --model), prints its test accuracy and "
                + "exports it with its encoder to ONNX, for the Serve program.");
            foreach (var option in new Option[] { Model, Output, Epochs, Data })
            {
                root.Options.Add(option);
            }

            Model.Validators.Add(r => PathRules.ExistingFile(r, "a classifier saved with LatentClassifier.Save (.lkm)"));
            Data.Validators.Add(r => PathRules.ExistingFolder(r, "the folder holding MNIST's IDX files"));
            Output.Validators.Add(PathRules.WritableFile);
            Epochs.Validators.Add(r =>
            {
                // "--epochs" with no value: the custom parser is not called for it.
                if (!r.Implicit && r.Tokens.Count == 0)
                {
                    r.AddError($"--epochs needs a value: a whole number from 1 to {MaxEpochs}.");
                }
            });
            root.Validators.Add(result =>
            {
                if (result.GetResult(Model) is not null && result.GetResult(Epochs) is { Implicit: false })
                {
                    result.AddError("--epochs goes without --model: a saved classifier is exported as it is, not trained.");
                }

                // The MNIST files the run will read, in the folder given (the cache downloads what it misses).
                if (result.GetResult(Data) is { Implicit: false } && result.GetValue(Data) is { } folder && Directory.Exists(folder))
                {
                    var splits = result.GetResult(Model) is null ? new[] { MnistSplit.Train, MnistSplit.Test } : [MnistSplit.Test];
                    var missing = splits.SelectMany(s => new[] { MnistFiles.ImagesFile(s), MnistFiles.LabelsFile(s) })
                        .Where(n => !File.Exists(Path.Combine(folder, n)) && !File.Exists(Path.Combine(folder, n + MnistFiles.GzipSuffix)))
                        .ToArray();
                    if (missing.Length > 0)
                    {
                        result.AddError($"--data '{folder}' lacks {string.Join(", ", missing)} (raw or {MnistFiles.GzipSuffix}); give the folder holding MNIST's IDX files.");
                    }
                }
            });
            return root;
        }

        public ExportSettings ToSettings(ParseResult result) =>
            new(result.GetValue(Model), result.GetValue(Output)!, result.GetValue(Epochs), result.GetValue(Data));

        private static int ParseEpochs(ArgumentResult result)
        {
            var allowed = $"a whole number from 1 to {MaxEpochs}";
            if (result.Tokens.Count == 0)
            {
                result.AddError($"--epochs needs a value: {allowed}.");
                return 0;
            }

            if (result.Tokens.Count > 1)
            {
                result.AddError($"--epochs is given {result.Tokens.Count} times; give it once, {allowed}.");
                return 0;
            }

            var text = result.Tokens[0].Value;
            if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var epochs) || epochs < 1 || epochs > MaxEpochs)
            {
                result.AddError($"--epochs must be {allowed}; got '{text}'.");
                return 0;
            }

            return epochs;
        }
    }
}
