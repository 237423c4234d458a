using System.Formats.Tar;
using System.IO.Compression;

namespace LatentKit;

/// <summary>
/// Unpacks gzip-compressed tar archives (npm tarballs) safely: every entry of the archive is checked, and the whole
/// archive is rejected when an entry's path is absolute or would land outside the extraction folder (for example
/// <c>../evil</c>), or when a link points outside it. Links are never created; only regular files are written. Sizes
/// are capped: an entry to extract may hold at most a given number of bytes (checked against its header before
/// anything is written), and the whole decompressed archive at most <see cref="MaxArchiveBytes"/>.
/// </summary>
internal static class SafeTarExtractor
{
    /// <summary>The most bytes a whole archive may decompress to (1 GiB; the four MNIST files take 55 MB uncompressed).</summary>
    public const long MaxArchiveBytes = 1L << 30;

    /// <summary>
    /// Extracts the regular files whose entry names <paramref name="include"/> accepts into <paramref name="directory"/>
    /// (keeping their relative paths) and returns their paths. Throws <see cref="InvalidDataException"/> naming the entry
    /// when any entry of the archive escapes the folder, when an entry to extract holds more than
    /// <paramref name="maxEntryBytes"/>, or when the archive decompresses to more than <see cref="MaxArchiveBytes"/>;
    /// files already extracted from it are then deleted.
    /// </summary>
    public static IReadOnlyList<string> Extract(Stream gzippedTar, string archiveName, string directory, Func<string, bool> include, long maxEntryBytes)
    {
        var root = Path.GetFullPath(directory);
        var rootWithSeparator = Path.EndsInDirectorySeparator(root) ? root : root + Path.DirectorySeparatorChar;
        var extracted = new List<string>();
        try
        {
            using var gzip = new GZipStream(gzippedTar, CompressionMode.Decompress, leaveOpen: true);
            using var limited = new LimitedReadStream(gzip, MaxArchiveBytes, read => $"Archive '{archiveName}' decompresses to more than the limit of {MaxArchiveBytes} bytes; the archive is rejected.");
            using var reader = new TarReader(limited);
            while (reader.GetNextEntry() is { } entry)
            {
                var target = CheckedPath(entry.Name, archiveName, root, rootWithSeparator);
                if (entry.EntryType is TarEntryType.SymbolicLink or TarEntryType.HardLink)
                {
                    var linkBase = entry.EntryType == TarEntryType.SymbolicLink ? Path.GetDirectoryName(target)! : root;
                    CheckedPath(entry.LinkName, archiveName, linkBase, rootWithSeparator, $"link target of '{entry.Name}'");
                    continue;
                }

                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || !include(entry.Name))
                {
                    continue;
                }

                if (entry.Length > maxEntryBytes)
                {
                    throw new InvalidDataException($"Archive '{archiveName}': entry '{entry.Name}' holds {entry.Length} bytes, more than the limit of {maxEntryBytes} bytes; the archive is rejected.");
                }

                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                extracted.Add(target);
                using var output = new FileStream(target, FileMode.Create, FileAccess.Write, FileShare.None);
                entry.DataStream?.CopyTo(output);
            }

            return extracted;
        }
        catch
        {
            foreach (var file in extracted)
            {
                File.Delete(file);
            }

            throw;
        }
    }

    private static string CheckedPath(string entryName, string archiveName, string baseDirectory, string rootWithSeparator, string? what = null)
    {
        what ??= $"entry '{entryName}'";
        if (string.IsNullOrEmpty(entryName) || entryName.Contains('\0', StringComparison.Ordinal) || Path.IsPathRooted(entryName) || entryName.StartsWith('/') || entryName.StartsWith('\\'))
        {
            throw new InvalidDataException($"Archive '{archiveName}': {what} has an absolute or empty path ('{entryName}'); the archive is rejected.");
        }

        // Treat both separators as separators, whatever the platform, so "..\\evil" is caught on Linux too.
        var full = Path.GetFullPath(Path.Combine(baseDirectory, entryName.Replace('\\', '/')));
        if (!full.StartsWith(rootWithSeparator, StringComparison.Ordinal) && full + Path.DirectorySeparatorChar != rootWithSeparator)
        {
            throw new InvalidDataException($"Archive '{archiveName}': {what} ('{entryName}') would be written outside the extraction folder (path traversal); the archive is rejected.");
        }

        return full;
    }
}
