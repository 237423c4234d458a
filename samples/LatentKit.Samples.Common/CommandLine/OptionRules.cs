using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace LatentKit.Samples.Common.CommandLine;

/// <summary>
/// The command-line rules the samples share: ranges checked only on values that parsed (a value that did not parse
/// already has System.CommandLine's own error), paths checked before any work, and exit code 2 for a wrong command line.
/// </summary>
public static class OptionRules
{
    /// <summary>Exit code for a wrong command line (an unknown option, a value that does not parse or is out of range, ...).</summary>
    public const int UsageErrorExitCode = 2;

    /// <summary>Largest accepted <c>--threads</c>.</summary>
    public const int MaxThreads = 1_024;

    /// <summary>
    /// Adds an error to <paramref name="result"/> when its value lies outside <paramref name="min"/> to
    /// <paramref name="max"/> (or is NaN); does nothing when the option was not given or its value did not parse.
    /// </summary>
    /// <typeparam name="T">The option's number type.</typeparam>
    /// <param name="result">The option's result.</param>
    /// <param name="min">The smallest accepted value.</param>
    /// <param name="max">The largest accepted value.</param>
    /// <param name="message">The error; by default "--name must be between min and max; got value.".</param>
    public static void RequireRange<T>(OptionResult result, T min, T max, string? message = null)
        where T : INumber<T>
    {
        ArgumentNullException.ThrowIfNull(result);
        if (!TryGetGivenValue<T>(result, out var value))
        {
            return;
        }

        if (T.IsNaN(value) || value < min || value > max)
        {
            result.AddError(message ?? string.Create(CultureInfo.InvariantCulture, $"{Name(result)} must be between {min} and {max}; got {value}."));
        }
    }

    /// <summary><c>--threads</c>: 1 to <see cref="MaxThreads"/>.</summary>
    /// <param name="result">The option's result.</param>
    public static void RequireThreads(OptionResult result) =>
        RequireRange(result, 1, MaxThreads, string.Create(CultureInfo.InvariantCulture, $"--threads must be between 1 and {MaxThreads}."));

    /// <summary>
    /// A given value that parses as <typeparamref name="T"/> (its one token, invariant culture); false when the
    /// option was not given or its value did not parse (System.CommandLine reports that itself).
    /// </summary>
    /// <typeparam name="T">The option's number type.</typeparam>
    /// <param name="result">The option's result.</param>
    /// <param name="value">The value.</param>
    public static bool TryGetGivenValue<T>(OptionResult result, out T value)
        where T : INumber<T>
    {
        ArgumentNullException.ThrowIfNull(result);
        value = T.Zero;
        var style = typeof(T) == typeof(double) || typeof(T) == typeof(float) || typeof(T) == typeof(decimal) ? NumberStyles.Float : NumberStyles.Integer;
        return !result.Implicit && result.Tokens.Count == 1
            && T.TryParse(result.Tokens[0].Value, style, CultureInfo.InvariantCulture, out value!);
    }

    /// <summary>An option naming an output directory: refused when the path is empty or names an existing file.</summary>
    /// <param name="result">The option's result.</param>
    public static void RequireOutputDirectory(OptionResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.Implicit || result.Tokens.Count != 1)
        {
            return;
        }

        var value = result.Tokens[0].Value;
        if (string.IsNullOrWhiteSpace(value))
        {
            result.AddError($"{Name(result)} needs a directory path.");
        }
        else if (File.Exists(value))
        {
            result.AddError($"{Name(result)} names a file, not a directory: {value}");
        }
    }

    /// <summary>An option naming an existing folder to read: refused when it is missing, a file, or an empty folder.</summary>
    /// <param name="result">The option's result.</param>
    public static void RequireInputDirectory(OptionResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.Implicit || result.Tokens.Count != 1)
        {
            return;
        }

        var value = result.Tokens[0].Value;
        if (File.Exists(value))
        {
            result.AddError($"{Name(result)} names a file, not a directory: {value}");
        }
        else if (!Directory.Exists(value))
        {
            result.AddError($"{Name(result)}: there is no directory {value}");
        }
        else if (!Directory.EnumerateFileSystemEntries(value).Any())
        {
            result.AddError($"{Name(result)}: the directory {value} is empty");
        }
    }

    /// <summary>
    /// Creates the output directory before any work, so that a path that cannot be a directory (under a file, in a
    /// read-only place) is a command-line error naming the option rather than a failure after the run.
    /// </summary>
    /// <param name="path">The directory.</param>
    /// <param name="optionName">The option that named it, for the message.</param>
    /// <param name="error">The message when the directory cannot be created.</param>
    /// <returns>Whether the directory exists now.</returns>
    public static bool TryCreateOutputDirectory(string path, string optionName, out string? error)
    {
        try
        {
            Directory.CreateDirectory(path);
            error = null;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            error = $"{optionName}: cannot create the directory {path}: {e.Message}";
            return false;
        }
    }

    /// <summary>
    /// Parses <paramref name="args"/> against <paramref name="root"/> and then prints help (exit 0), prints the errors
    /// one a line with a hint (exit <see cref="UsageErrorExitCode"/>), or runs the chosen command's action.
    /// </summary>
    /// <param name="root">The command with its options and actions.</param>
    /// <param name="args">The command-line arguments.</param>
    /// <param name="output">Where help goes.</param>
    /// <param name="error">Where errors go.</param>
    /// <param name="cancellationToken">Cancels the run (System.CommandLine also cancels on Ctrl+C).</param>
    public static async Task<int> InvokeAsync(RootCommand root, IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
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

    private static string Name(OptionResult result) => result.IdentifierToken?.Value ?? result.Option.Name;
}
