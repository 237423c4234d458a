using System.Text;

namespace LatentKit;

/// <summary>One attempt to get an MNIST file from one source, and why it failed.</summary>
/// <param name="Source">The source's name (a folder, the cache, an HTTP mirror, the npm package, ...).</param>
/// <param name="Reason">Why the file could not be had from it.</param>
public sealed record MnistSourceAttempt(string Source, string Reason);

/// <summary>
/// No source could deliver an MNIST file. The message lists every source tried with its reason and says where to put
/// the files by hand.
/// </summary>
public class MnistSourceException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="fileName">The standard file name that could not be had.</param>
    /// <param name="attempts">Each source tried, in order, with its reason.</param>
    /// <param name="cacheDirectory">The cache folder, where files put by hand are found.</param>
    public MnistSourceException(string fileName, IReadOnlyList<MnistSourceAttempt> attempts, string cacheDirectory)
        : base(BuildMessage(fileName, attempts, cacheDirectory))
    {
        FileName = fileName;
        Attempts = attempts;
        CacheDirectory = cacheDirectory;
    }

    /// <summary>The standard file name that could not be had.</summary>
    public string FileName { get; }

    /// <summary>Each source tried, in order, with its reason.</summary>
    public IReadOnlyList<MnistSourceAttempt> Attempts { get; }

    /// <summary>The cache folder, where files put by hand are found.</summary>
    public string CacheDirectory { get; }

    private static string BuildMessage(string fileName, IReadOnlyList<MnistSourceAttempt> attempts, string cacheDirectory)
    {
        var message = new StringBuilder();
        message.Append("Could not get the MNIST file '").Append(fileName).Append("' from any source. Tried, in order:");
        foreach (var attempt in attempts)
        {
            message.AppendLine().Append("  - ").Append(attempt.Source).Append(": ").Append(attempt.Reason);
        }

        message.AppendLine()
            .Append("To provide the files by hand, put the four files (raw or .gz: ")
            .AppendJoin(", ", MnistFiles.All)
            .Append(") in ").Append(cacheDirectory)
            .Append(", or in a folder named by MnistLoadOptions.DataDirectory, or set LATENTKIT_HOME to a folder whose 'mnist' subfolder holds them.");
        return message.ToString();
    }
}
