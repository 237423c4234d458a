using System.Reflection;

namespace LatentKit;

/// <summary>Facts about the LatentKit library itself.</summary>
public static class LatentKitInfo
{
    /// <summary>The informational version of the LatentKit assembly (for example <c>0.1.0</c>).</summary>
    public static string Version { get; } =
        typeof(LatentKitInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(LatentKitInfo).Assembly.GetName().Version?.ToString()
        ?? "unknown";
}
