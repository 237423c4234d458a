namespace LatentKit;

/// <summary>
/// The one place of the rules for the paths LatentKit reads and writes: what is wrong with a path given for a file to
/// read (missing, or a folder), and whether a path can be the target of a write (not a folder, not ending in a separator).
/// </summary>
internal static class FilePaths
{
    /// <summary>
    /// Why <paramref name="path"/> cannot be read as a file, as the end of a sentence starting with the path
    /// ("is a folder, not a file: ...", "does not exist."), or <see langword="null"/> when it is a file.
    /// </summary>
    public static string? FileProblem(string path)
    {
        if (File.Exists(path))
        {
            return null;
        }

        return Directory.Exists(path)
            ? "is a folder, not a file: give the path of the file itself."
            : "does not exist.";
    }

    /// <summary>Why <paramref name="path"/> cannot be read as a folder (as <see cref="FileProblem"/>), or <see langword="null"/> when it is one.</summary>
    public static string? FolderProblem(string path)
    {
        if (Directory.Exists(path))
        {
            return null;
        }

        return File.Exists(path)
            ? "is a file, not a folder: give the folder that holds the files."
            : "does not exist.";
    }

    /// <summary>Whether <paramref name="path"/> ends in a directory separator (so names a folder).</summary>
    public static bool EndsInSeparator(string path) =>
        path.EndsWith(Path.DirectorySeparatorChar) || path.EndsWith(Path.AltDirectorySeparatorChar);

    /// <summary>
    /// Checks that <paramref name="path"/> can be the target of a file write and returns its full path: an existing
    /// folder and a path ending in a separator are refused, before anything is created or written.
    /// </summary>
    /// <exception cref="ArgumentException">The path is empty, ends in a separator, or is an existing folder; the message names it.</exception>
    public static string CheckWriteTarget(string path, string parameterName)
    {
        ArgumentException.ThrowIfNullOrEmpty(path, parameterName);
        if (EndsInSeparator(path))
        {
            throw new ArgumentException($"Cannot write '{path}': the path ends in a separator, so it names a folder; give a file name (for example '{Path.Combine(path, "model.lkm")}'). Nothing was written or created.", parameterName);
        }

        if (Directory.Exists(path))
        {
            throw new ArgumentException($"'{path}' is a folder, not a file: give a file name in it (for example '{Path.Combine(path, "model.lkm")}') or another path; nothing was written.", parameterName);
        }

        return Path.GetFullPath(path);
    }
}
