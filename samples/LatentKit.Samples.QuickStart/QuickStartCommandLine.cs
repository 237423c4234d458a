using System.CommandLine;
using System.CommandLine.Help;

namespace LatentKit.Samples.QuickStart;

/// <summary>
/// The quick start's command line, on System.CommandLine: it takes no arguments, answers <c>--help</c>/<c>-h</c> with
/// a short description (exit 0) and refuses anything else with one usage line (exit 2).
/// </summary>
internal static class QuickStartCommandLine
{
    /// <summary>Exit code for a wrong command line.</summary>
    public const int UsageErrorExitCode = 2;

    /// <summary>Null when the program should run; otherwise the exit code, after printing help or the usage error.</summary>
    /// <param name="args">The command-line arguments.</param>
    /// <param name="output">Where help goes.</param>
    /// <param name="error">Where usage errors go.</param>
    public static int? Check(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand(
            "Trains a dense autoencoder and a classifier on its latent codes on MNIST (5 epochs each, MNIST downloaded once "
            + "into the cache), prints the test loss and accuracy and saves the classifier to output/quick-start.lkm. "
            + "It takes no arguments.");
        // No --version either: the help lists only what the program answers.
        foreach (var version in root.Options.OfType<VersionOption>().ToList())
        {
            root.Options.Remove(version);
        }

        var parsed = root.Parse(args);
        if (parsed.Action is HelpAction)
        {
            parsed.Invoke(new InvocationConfiguration { Output = output, Error = error });
            return 0;
        }

        if (args.Count > 0)
        {
            error.WriteLine($"error: the quick start takes no arguments; got '{string.Join(' ', args)}'. Run it without any, or with --help.");
            return UsageErrorExitCode;
        }

        return null;
    }
}
