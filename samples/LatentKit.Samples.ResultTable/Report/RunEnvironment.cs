using System.Reflection;
using System.Runtime.InteropServices;

namespace LatentKit.Samples.ResultTable.Report;

/// <summary>The versions and the machine behind a run, for results.json.</summary>
/// <param name="LatentKitVersion">Version of the LatentKit library.</param>
/// <param name="TorchSharpVersion">Version of the TorchSharp assembly.</param>
/// <param name="DotnetVersion">The .NET runtime, for example ".NET 10.0.0".</param>
/// <param name="OperatingSystem">The operating system's description.</param>
/// <param name="Architecture">The process architecture, for example "X64".</param>
/// <param name="ProcessorCount">Logical processors the process may use.</param>
/// <param name="MachineName">The machine's name.</param>
public sealed record RunEnvironment(
    string LatentKitVersion,
    string TorchSharpVersion,
    string DotnetVersion,
    string OperatingSystem,
    string Architecture,
    int ProcessorCount,
    string MachineName)
{
    /// <summary>Memory the process may use, in GiB (the machine's memory unless a container limits it).</summary>
    public double MemoryGiB { get; init; } = Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024), 1);

    /// <summary>Threads TorchSharp's CPU kernels use (read when the run starts training), or null when not known.</summary>
    public int? TorchThreads { get; init; }

    /// <summary>Reads the environment of the current process (does not load TorchSharp's native library).</summary>
    public static RunEnvironment Capture() => new(
        LatentKit.LatentKitInfo.Version,
        InformationalVersion(typeof(TorchSharp.torch).Assembly),
        RuntimeInformation.FrameworkDescription,
        RuntimeInformation.OSDescription,
        RuntimeInformation.ProcessArchitecture.ToString(),
        Environment.ProcessorCount,
        Environment.MachineName);

    private static string InformationalVersion(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? assembly.GetName().Version?.ToString()
        ?? "unknown";
}
