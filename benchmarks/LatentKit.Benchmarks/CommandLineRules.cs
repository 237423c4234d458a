using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Globalization;

namespace LatentKit.Benchmarks;

/// <summary>
/// The benchmark's command-line rules, one place for every command: ranges checked only on values that parsed (a value
/// that did not parse already has System.CommandLine's own error), paths checked before any work, exit code 2 for a
/// wrong command line. (The samples share the same rules in Samples.Common, which this project does not reference.)
/// </summary>
internal static class CommandLineRules
{
    /// <summary>Exit code for a wrong command line.</summary>
    public const int UsageErrorExitCode = 2;

    /// <summary>Largest accepted <c>--threads</c>.</summary>
    public const int MaxThreads = 1_024;

    /// <summary>Adds a range check to an integer option: <paramref name="min"/> to <paramref name="max"/> when given.</summary>
    public static T InRange<T>(this T option, int min, int max)
        where T : Option
    {
        option.Validators.Add(result =>
        {
            if (!result.Implicit && result.Tokens.Count == 1
                && int.TryParse(result.Tokens[0].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
                && (value < min || value > max))
            {
                result.AddError($"{result.IdentifierToken?.Value ?? option.Name} must be {min} to {max}; got {value}.");
            }
        });
        return option;
    }

    /// <summary><c>--threads</c>: 1 to <see cref="MaxThreads"/>.</summary>
    public static T ThreadsInRange<T>(this T option)
        where T : Option => option.InRange(1, MaxThreads);

    /// <summary><c>--data-dir</c>: when given, an existing folder that is not empty (the MNIST files are read in place).</summary>
    public static Option<string?> ExistingDirectory(this Option<string?> option)
    {
        option.Validators.Add(result =>
        {
            if (result.Implicit || result.Tokens.Count != 1)
            {
                return;
            }

            var name = result.IdentifierToken?.Value ?? option.Name;
            var value = result.Tokens[0].Value;
            if (File.Exists(value))
            {
                result.AddError($"{name} names a file, not a directory: {value}");
            }
            else if (!Directory.Exists(value))
            {
                result.AddError($"{name}: there is no directory {value}");
            }
            else if (!Directory.EnumerateFileSystemEntries(value).Any())
            {
                result.AddError($"{name}: the directory {value} is empty");
            }
        });
        return option;
    }

    /// <summary><c>--output</c> naming a page to write: not a directory.</summary>
    public static Option<string?> OutputFile(this Option<string?> option)
    {
        option.Validators.Add(result =>
        {
            if (!result.Implicit && result.Tokens.Count == 1 && Directory.Exists(result.Tokens[0].Value))
            {
                result.AddError($"{result.IdentifierToken?.Value ?? option.Name} names a directory, not a file: {result.Tokens[0].Value}");
            }
        });
        return option;
    }

    /// <summary>
    /// Before any work: the folder of the output page exists or can be made (the page is written at the end, into
    /// that folder); false with a message naming <c>--output</c> when it cannot.
    /// </summary>
    public static bool TryPrepareOutputFile(string? path, out string? error)
    {
        error = null;
        if (path is null)
        {
            return true;
        }

        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            error = $"--output: cannot write {path}: {e.Message}";
            return false;
        }
    }

    /// <summary>Parses <paramref name="args"/>; prints help (0), prints the errors (exit <see cref="UsageErrorExitCode"/>), or runs the command's action.</summary>
    public static int Invoke(RootCommand root, string[] args)
    {
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && parsed.Action is not HelpAction)
        {
            foreach (var message in parsed.Errors.Select(e => e.Message).Distinct())
            {
                Console.Error.WriteLine($"error: {message}");
            }

            Console.Error.WriteLine("Run with --help to see the options.");
            return UsageErrorExitCode;
        }

        return parsed.Invoke();
    }

    /// <summary>Writes <paramref name="error"/> as a usage error and returns <see cref="UsageErrorExitCode"/>.</summary>
    public static int UsageError(string error)
    {
        Console.Error.WriteLine($"error: {error}");
        return UsageErrorExitCode;
    }
}
