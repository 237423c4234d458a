using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Globalization;

namespace LatentKit.Samples.OwnData;

/// <summary>
/// The command line of the own-data sample, on System.CommandLine: <c>--images DIR</c> or <c>--csv FILE</c> (with an
/// optional <c>--label-column NAME</c>), training settings, <c>--help</c>, and the exit codes (0 success, 1 a failed
/// run, 2 a wrong command line, 130 cancelled).
/// </summary>
public static class OwnDataCommandLine
{
    /// <summary>Exit code for a wrong command line.</summary>
    public const int UsageErrorExitCode = 2;

    /// <summary>
    /// Parses and validates <paramref name="args"/>, then prints help (exit 0), prints the errors (exit
    /// <see cref="UsageErrorExitCode"/>), or calls <paramref name="run"/> and returns its code.
    /// </summary>
    /// <param name="args">The command-line arguments.</param>
    /// <param name="run">The run itself.</param>
    /// <param name="output">Where help goes.</param>
    /// <param name="error">Where errors go.</param>
    /// <param name="cancellationToken">Cancels the run (System.CommandLine also cancels on Ctrl+C).</param>
    public static async Task<int> InvokeAsync(
        IReadOnlyList<string> args,
        Func<OwnDataSettings, CancellationToken, Task<int>> run,
        TextWriter output,
        TextWriter error,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(run);
        var options = new Options();
        var root = options.CreateRootCommand();
        root.SetAction(async (result, token) =>
        {
            // The output folder is made before any work: a path that cannot be a folder is a wrong command line,
            // found now rather than after training.
            var settings = options.ToSettings(result);
            if (!TryCreateDirectory(settings.OutputDirectory, out var problem))
            {
                await error.WriteLineAsync($"error: --output: cannot create the directory {settings.OutputDirectory}: {problem}").ConfigureAwait(false);
                return UsageErrorExitCode;
            }

            return await run(settings, token).ConfigureAwait(false);
        });
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && parsed.Action is not HelpAction)
        {
            foreach (var message in parsed.Errors.Select(e => e.Message).Distinct())
            {
                await error.WriteLineAsync($"error: {message}").ConfigureAwait(false);
            }

            await error.WriteLineAsync("Run with --help to see the options.").ConfigureAwait(false);
            return UsageErrorExitCode;
        }

        return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Parses and validates <paramref name="args"/> without running anything.</summary>
    /// <param name="args">The command-line arguments.</param>
    /// <param name="settings">The settings when there are no errors.</param>
    /// <param name="errors">The error messages, empty on success.</param>
    /// <returns>Whether the command line is valid.</returns>
    public static bool TryParse(IReadOnlyList<string> args, out OwnDataSettings? settings, out IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(args);
        var options = new Options();
        var parsed = options.CreateRootCommand().Parse(args);
        errors = parsed.Errors.Select(e => e.Message).Distinct().ToArray();
        settings = errors.Count == 0 ? options.ToSettings(parsed) : null;
        return errors.Count == 0;
    }

    private static void RequireRange(OptionResult result, int min, int max)
    {
        if (result.Implicit || result.Tokens.Count == 0
            || !int.TryParse(result.Tokens[^1].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
        {
            return;
        }

        if (v < min || v > max)
        {
            result.AddError($"{result.IdentifierToken?.Value} must be {min} to {max}; got {v}.");
        }
    }

    private static void RequireNotAFile(OptionResult result)
    {
        if (!result.Implicit && result.Tokens.Count == 1 && File.Exists(result.Tokens[0].Value))
        {
            result.AddError($"{result.IdentifierToken?.Value} names a file, not a directory: {result.Tokens[0].Value}");
        }
    }

    private static bool TryCreateDirectory(string path, out string? problem)
    {
        try
        {
            Directory.CreateDirectory(path);
            problem = null;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            problem = e.Message;
            return false;
        }
    }

    /// <summary>The option objects of one command instance (System.CommandLine symbols belong to one parent).</summary>
    private sealed class Options
    {
        public Option<string?> Images { get; } = new("--images") { Description = "A folder of PNG/JPEG images: one subfolder per class (labelled), or images directly in it (unlabelled).", HelpName = "dir" };

        public Option<string?> Csv { get; } = new("--csv") { Description = "A CSV file of numbers with a header row, one sample per row.", HelpName = "file" };

        public Option<string?> LabelColumn { get; } = new("--label-column") { Description = "The CSV column holding each row's class (any text); without it the rows are unlabelled.", HelpName = "name" };

        public Option<int?> Width { get; } = new("--width") { Description = "Resize every image to this width (with --height); default: the images' own size, which must agree.", HelpName = "pixels" };

        public Option<int?> Height { get; } = new("--height") { Description = "Resize every image to this height (with --width).", HelpName = "pixels" };

        public Option<bool> Grey { get; } = new("--grey") { Description = "Convert the images to one grey channel." };

        public Option<bool> Streaming { get; } = new("--streaming") { Description = "Decode the images batch by batch instead of holding them all in memory." };

        public Option<int> Epochs { get; } = new("--epochs", "-e") { Description = "Epochs for the autoencoder and the classifier.", HelpName = "count", DefaultValueFactory = _ => 10 };

        public Option<int> BatchSize { get; } = new("--batch-size", "-b") { Description = "Batch size.", HelpName = "size", DefaultValueFactory = _ => 32 };

        public Option<int?> LatentSize { get; } = new("--latent-size") { Description = "Values in a latent code (default: one code map for images, ceil(H/4) x ceil(W/4), a multiple of which is required; a quarter of the features for vectors).", HelpName = "count" };

        public Option<int> Seed { get; } = new("--seed") { Description = "Seed of the train/test split, the weights and the batch order.", HelpName = "number", DefaultValueFactory = _ => 1 };

        public Option<int?> Threads { get; } = new("--threads", "-t") { Description = "Threads for TorchSharp's CPU kernels (default: TorchSharp's choice).", HelpName = "count" };

        public Option<string> Output { get; } = new("--output", "-o") { Description = "Folder for the trained models.", HelpName = "dir", DefaultValueFactory = _ => OwnDataSettings.DefaultOutputDirectory };

        public RootCommand CreateRootCommand()
        {
            var root = new RootCommand(
                "Trains an autoencoder (and, for labelled data, a classifier on its latent codes) on your own data: a folder "
                + "of images (a convolutional autoencoder shaped for them) or a CSV file of numbers (a dense autoencoder on "
                + "standardised features); holds out a test set, prints its figures and saves the models.");
            foreach (var option in new Option[] { Images, Csv, LabelColumn, Width, Height, Grey, Streaming, Epochs, BatchSize, LatentSize, Seed, Threads, Output })
            {
                root.Options.Add(option);
            }

            Width.Validators.Add(r => RequireRange(r, 1, 4096));
            Height.Validators.Add(r => RequireRange(r, 1, 4096));
            Epochs.Validators.Add(r => RequireRange(r, 1, 10_000));
            BatchSize.Validators.Add(r => RequireRange(r, 1, 100_000));
            LatentSize.Validators.Add(r => RequireRange(r, 1, 65_536));
            Threads.Validators.Add(r => RequireRange(r, 1, 1_024));
            Output.Validators.Add(RequireNotAFile);
            root.Validators.Add(result =>
            {
                // Whether an option was given, not its value: a value that did not parse, or an option given twice,
                // already has System.CommandLine's own error, and reading its value would throw.
                bool Given(Option option) => result.GetResult(option) is { Implicit: false };
                bool Set(Option<bool> flag) => result.GetResult(flag) is { Implicit: false } r && (r.Tokens.Count == 0 || (bool.TryParse(r.Tokens[0].Value, out var on) && on));
                var images = Given(Images);
                var csv = Given(Csv);
                if (images == csv)
                {
                    result.AddError("Give either --images DIR or --csv FILE (exactly one).");
                }

                if (images && Given(LabelColumn))
                {
                    result.AddError("--label-column goes with --csv; an image folder's classes are its subfolders.");
                }

                if (csv && (Given(Width) || Given(Height) || Set(Grey) || Set(Streaming)))
                {
                    result.AddError("--width, --height, --grey and --streaming go with --images.");
                }

                if (Given(Width) != Given(Height))
                {
                    result.AddError("Give --width and --height together.");
                }
            });
            return root;
        }

        public OwnDataSettings ToSettings(ParseResult result) => new()
        {
            ImagesDirectory = result.GetValue(Images),
            CsvFile = result.GetValue(Csv),
            LabelColumn = result.GetValue(LabelColumn),
            Width = result.GetValue(Width),
            Height = result.GetValue(Height),
            Grey = result.GetValue(Grey),
            Streaming = result.GetValue(Streaming),
            Epochs = result.GetValue(Epochs),
            BatchSize = result.GetValue(BatchSize),
            LatentSize = result.GetValue(LatentSize),
            Seed = result.GetValue(Seed),
            Threads = result.GetValue(Threads),
            OutputDirectory = result.GetValue(Output) ?? OwnDataSettings.DefaultOutputDirectory,
        };
    }
}
