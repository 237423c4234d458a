using System.CommandLine.Parsing;

namespace LatentKit.Samples.OnnxServing.Export;

/// <summary>Checks of path options, each error one sentence naming the option and what it takes.</summary>
internal static class PathRules
{
    private static readonly string[] SpecialFolders = ["/proc", "/sys", "/dev"];

    /// <summary>The option's value must name an existing file (not a folder).</summary>
    /// <param name="result">The option's parse result.</param>
    /// <param name="what">What the file should be, for the message.</param>
    public static void ExistingFile(OptionResult result, string what)
    {
        if (Value(result) is not { } path)
        {
            return;
        }

        if (Directory.Exists(path))
        {
            result.AddError($"{Name(result)} '{path}' is a folder; give {what}.");
        }
        else if (!File.Exists(path))
        {
            result.AddError($"{Name(result)} '{path}' does not exist; give {what}.");
        }
    }

    /// <summary>The option's value must name an existing folder (not a file).</summary>
    /// <param name="result">The option's parse result.</param>
    /// <param name="what">What the folder should hold, for the message.</param>
    public static void ExistingFolder(OptionResult result, string what)
    {
        if (Value(result) is not { } path)
        {
            return;
        }

        if (File.Exists(path))
        {
            result.AddError($"{Name(result)} '{path}' is a file; give {what}.");
        }
        else if (!Directory.Exists(path))
        {
            result.AddError($"{Name(result)} '{path}' does not exist; give {what}.");
        }
    }

    /// <summary>The option's value must name a file that can be written: not a folder, not under /proc, /sys or /dev, in an existing, writable folder.</summary>
    /// <param name="result">The option's parse result.</param>
    public static void WritableFile(OptionResult result)
    {
        if (Value(result) is not { } path)
        {
            return;
        }

        var name = Name(result);
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full) ?? full;
        if (SpecialFolders.FirstOrDefault(s => full == s || full.StartsWith(s + "/", StringComparison.Ordinal)) is { } special)
        {
            result.AddError($"{name} '{path}' is under {special}, which holds no ordinary files; give a file path in a writable folder.");
        }
        else if (Directory.Exists(full))
        {
            result.AddError($"{name} '{path}' is a folder; give a file path, such as {Path.Combine(path, "classifier.onnx")}.");
        }
        else if (!Directory.Exists(folder))
        {
            result.AddError($"{name} '{path}': the folder '{folder}' does not exist; give a file path in an existing folder.");
        }
        else if (!CanWriteIn(folder))
        {
            result.AddError($"{name} '{path}': the folder '{folder}' is not writable; give a file path in a writable folder.");
        }
    }

    private static bool CanWriteIn(string folder)
    {
        try
        {
            using var probe = new FileStream(Path.Combine(folder, $".write-test-{Guid.NewGuid():N}"), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static string? Value(OptionResult result) =>
        result.Implicit || result.Tokens.Count == 0 ? (result.Implicit ? result.GetValueOrDefault<string?>() : null) : result.Tokens[^1].Value;

    private static string Name(OptionResult result) => result.IdentifierToken?.Value ?? result.Option.Name;
}
