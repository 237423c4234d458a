using System.Runtime.InteropServices;

namespace LatentKit.Tests.Platform;

/// <summary>A fresh folder under the temporary directory, deleted on dispose.</summary>
public sealed class TemporaryFolder : IDisposable
{
    /// <summary>Creates the folder.</summary>
    public TemporaryFolder()
    {
        Path = Directory.CreateTempSubdirectory("latentkit-tests-").FullName;
    }

    /// <summary>Full path of the folder.</summary>
    public string Path { get; }

    /// <summary>Writes a file into the folder, with the given Unix mode (ignored on Windows).</summary>
    public string Write(string name, byte[] bytes, UnixFileMode? mode = null)
    {
        var path = System.IO.Path.Combine(Path, name);
        File.WriteAllBytes(path, bytes);
        if (mode is { } m && !OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, m);
        }

        return path;
    }

    /// <summary>Names of every entry in the folder, sorted.</summary>
    public string[] FileNames() =>
        Directory.EnumerateFileSystemEntries(Path).Select(p => System.IO.Path.GetFileName(p)!).Order(StringComparer.Ordinal).ToArray();

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var file in Directory.EnumerateFiles(Path))
        {
            File.SetAttributes(file, FileAttributes.Normal);
        }

        Directory.Delete(Path, recursive: true);
    }
}

/// <summary>A fact that only means something where files have Unix modes and links (skipped on Windows).</summary>
public sealed class UnixFactAttribute : FactAttribute
{
    /// <summary>Sets the skip reason on Windows.</summary>
    public UnixFactAttribute()
    {
        if (OperatingSystem.IsWindows())
        {
            Skip = "Unix file modes and hard links only.";
        }
    }
}

/// <summary>Creates hard links (Unix).</summary>
public static class HardLink
{
    /// <summary>Makes <paramref name="newPath"/> a second name of <paramref name="existingPath"/>.</summary>
    public static void Create(string existingPath, string newPath)
    {
        if (Link(existingPath, newPath) != 0)
        {
            throw new IOException($"link({existingPath}, {newPath}) failed with errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int Link(string existingPath, string newPath);
}
