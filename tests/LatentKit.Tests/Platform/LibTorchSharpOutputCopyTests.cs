using LatentKit.Build;

namespace LatentKit.Tests.Platform;

/// <summary>
/// The build step of buildTransitive/LatentKit.targets ran on this test project's output copy of TorchSharp's
/// <c>libLibTorchSharp.so</c>, and left the NuGet cache copy alone.
/// </summary>
public class LibTorchSharpOutputCopyTests
{
    /// <summary>The TorchSharp version of Directory.Packages.props, whose native library this edit was verified on.</summary>
    private const string TorchSharpVersion = "0.107.0";

    [Fact]
    public void The_output_copy_of_libLibTorchSharp_is_patched_on_Linux_and_untouched_elsewhere()
    {
        var output = OutputCopy();

        var result = GlibcxxMarkerPatcher.Analyze(File.ReadAllBytes(output));

        // On Linux the build step made the requirement weak; on Windows and macOS it does nothing, so the
        // requirement is still strong (and patchable).
        var expected = OperatingSystem.IsLinux() ? GlibcxxPatchOutcome.AlreadyPatched : GlibcxxPatchOutcome.Patched;
        result.Outcome.Should().Be(expected, "{0}: {1}", output, result.Reason);
        result.FlagsOffset.Should().BePositive();
    }

    [SkippableFact]
    public void The_NuGet_cache_copy_is_not_patched_and_differs_from_the_output_copy_only_in_the_flag()
    {
        var output = File.ReadAllBytes(OutputCopy());
        var cachePath = CacheCopy();
        Skip.IfNot(File.Exists(cachePath), $"no NuGet cache copy at {cachePath} (a custom restore layout): only the output copy can be checked, by the test above.");

        var cache = File.ReadAllBytes(cachePath);
        var result = GlibcxxMarkerPatcher.Analyze(cache);

        result.Outcome.Should().Be(GlibcxxPatchOutcome.Patched, "the cache copy must keep its strong requirement: {0}", result.Reason);
        cache.Length.Should().Be(output.Length);
        var differing = Enumerable.Range(0, cache.Length).Where(i => cache[i] != output[i]).ToList();
        if (OperatingSystem.IsLinux())
        {
            differing.Should().Equal((int)result.FlagsOffset);
            output[result.FlagsOffset].Should().Be((byte)(cache[result.FlagsOffset] | GlibcxxMarkerPatcher.VerFlagWeak));
        }
        else
        {
            differing.Should().BeEmpty();
        }
    }

    private static string OutputCopy()
    {
        var runtimes = Path.Combine(AppContext.BaseDirectory, "runtimes");
        var found = Directory.GetFiles(runtimes, "libLibTorchSharp.so", SearchOption.AllDirectories);
        found.Should().ContainSingle("the test output folder holds TorchSharp's linux-x64 native library");
        return found[0];
    }

    private static string CacheCopy()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        if (string.IsNullOrEmpty(packages))
        {
            packages = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        }

        return Path.Combine(packages, "torchsharp", TorchSharpVersion, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
    }
}
