using System.Diagnostics;
using LatentKit.Data;
using LatentKit.Tests.Support;

namespace LatentKit.Tests.Data;

/// <summary>The cache and the order of sources, with small fake data whose checksums the tests supply.</summary>
public sealed class MnistCacheTests : IDisposable
{
    private readonly TempDirectory temp = new();
    private readonly byte[] pixels;
    private readonly byte[] labels;
    private readonly Dictionary<string, byte[]> files;
    private readonly Dictionary<string, MnistFileInfo> known;

    public MnistCacheTests()
    {
        (pixels, labels) = IdxTestFiles.MakeData(50, seed: 3);
        files = IdxTestFiles.SplitFiles(MnistSplit.Train, pixels, labels);
        known = IdxTestFiles.KnownFor(files);
    }

    public void Dispose() => temp.Dispose();

    private string CacheDirectory => temp.Combine("cache");

    private MnistLoadOptions Options(params IMnistSource[] sources) => new()
    {
        CacheDirectory = CacheDirectory,
        KnownFiles = known,
        Sources = sources,
        CacheLockTimeout = TimeSpan.FromSeconds(30),
    };

    private string[] CacheContent() =>
        Directory.Exists(CacheDirectory)
            ? Directory.GetFileSystemEntries(CacheDirectory).Select(p => Path.GetFileName(p)!).Order(StringComparer.Ordinal).ToArray()
            : [];

    private void ShouldHoldTheData(MnistDataset dataset)
    {
        dataset.Count.Should().Be(50);
        dataset.Pixels.ToArray().Should().Equal(pixels);
        dataset.Labels.ToArray().Should().Equal(labels);
    }

    [Fact]
    public void Sources_are_tried_in_order_until_one_delivers_a_verified_file()
    {
        var failing = new ThrowingSource("failing", "host not found");
        var corrupt = new BytesSource("corrupt", files) { Corrupt = true };
        var good = new BytesSource("good", files) { Gzip = true };
        var unused = new BytesSource("unused", files);
        var logger = new ListLogger();

        var dataset = MnistDataset.Load(MnistSplit.Train, Options(failing, corrupt, good, unused), logger: logger);

        ShouldHoldTheData(dataset);
        failing.Calls.Should().Be(2);
        corrupt.Calls.Should().Be(2);
        good.Calls.Should().Be(2);
        unused.Calls.Should().Be(0);
        CacheContent().Should().Equal(MnistCache.LockFileName, MnistFiles.TrainImages, MnistFiles.TrainLabels);
        File.ReadAllBytes(Path.Combine(CacheDirectory, MnistFiles.TrainImages)).Should().Equal(files[MnistFiles.TrainImages], "the cache stores raw files");
        logger.Lines.Should().Contain(l => l.Contains("trying failing")).And.Contain(l => l.Contains("failing failed") && l.Contains("host not found"))
            .And.Contain(l => l.Contains("corrupt failed") && l.Contains("SHA-256")).And.Contain(l => l.Contains("got it from good"));
    }

    [Fact]
    public void A_cached_file_is_used_without_asking_any_source()
    {
        MnistDataset.Load(MnistSplit.Train, Options(new BytesSource("good", files)));
        var never = new ThrowingSource("never", "must not be asked");

        ShouldHoldTheData(MnistDataset.Load(MnistSplit.Train, Options(never)));
        never.Calls.Should().Be(0);
    }

    [Fact]
    public void A_corrupt_download_leaves_nothing_in_the_cache_and_the_error_lists_every_source()
    {
        var options = Options(new ThrowingSource("mirror A", "name or service not known"), new BytesSource("mirror B", files) { Corrupt = true, Gzip = true });
        options.DataDirectory = temp.CreateSubdirectory("empty-data");

        var error = Assert.Throws<MnistSourceException>(() => MnistDataset.Load(MnistSplit.Train, options));

        CacheContent().Should().Equal(MnistCache.LockFileName);
        error.FileName.Should().Be(MnistFiles.TrainLabels);
        error.Attempts.Select(a => a.Source).Should().Equal($"data directory {options.DataDirectory}", $"cache {CacheDirectory}", "mirror A", "mirror B");
        error.Message.Should().Contain("mirror A: name or service not known").And.Contain("mirror B: delivered a corrupt file")
            .And.Contain("SHA-256").And.Contain("neither train-labels-idx1-ubyte nor train-labels-idx1-ubyte.gz exists")
            .And.Contain($"put the four files (raw or .gz: {string.Join(", ", MnistFiles.All)}) in {CacheDirectory}")
            .And.Contain("MnistLoadOptions.DataDirectory").And.Contain("LATENTKIT_HOME");
    }

    [Fact]
    public void An_interrupted_download_leaves_nothing_behind_and_the_next_source_is_tried()
    {
        var dropped = new BytesSource("dropped", files) { FailHalfway = true };

        Assert.Throws<MnistSourceException>(() => MnistDataset.Load(MnistSplit.Train, Options(dropped))).Message.Should().Contain("connection dropped halfway");
        CacheContent().Should().Equal(MnistCache.LockFileName);

        ShouldHoldTheData(MnistDataset.Load(MnistSplit.Train, Options(dropped, new BytesSource("good", files))));
    }

    [Fact]
    public async Task A_cancelled_download_leaves_nothing_behind()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var hanging = new BytesSource("hanging", files) { HangHalfway = true };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => MnistDataset.LoadAsync(MnistSplit.Train, Options(hanging), cancellationToken: cancel.Token));

        CacheContent().Should().Equal(MnistCache.LockFileName);
    }

    [Fact]
    public void Temporary_files_left_by_a_killed_loader_are_removed()
    {
        Directory.CreateDirectory(CacheDirectory);
        File.WriteAllBytes(Path.Combine(CacheDirectory, MnistFiles.TrainImages + ".0123.download.tmp"), new byte[100]);

        MnistDataset.Load(MnistSplit.Train, Options(new BytesSource("good", files)));

        CacheContent().Should().Equal(MnistCache.LockFileName, MnistFiles.TrainImages, MnistFiles.TrainLabels);
    }

    [Fact]
    public void A_corrupt_cached_file_is_detected_and_fetched_again()
    {
        MnistDataset.Load(MnistSplit.Train, Options(new BytesSource("first", files)));
        var cached = Path.Combine(CacheDirectory, MnistFiles.TrainImages);
        var bytes = File.ReadAllBytes(cached);
        bytes[1000] ^= 0x01;
        File.WriteAllBytes(cached, bytes);
        var repair = new BytesSource("repair", files);
        var logger = new ListLogger();

        ShouldHoldTheData(MnistDataset.Load(MnistSplit.Train, Options(repair), logger: logger));

        repair.Requested.Should().Equal(MnistFiles.TrainImages);
        File.ReadAllBytes(cached).Should().Equal(files[MnistFiles.TrainImages]);
        logger.Lines.Should().Contain(l => l.StartsWith("Warning") && l.Contains("corrupt") && l.Contains(cached));
    }

    [Fact]
    public void Without_known_checksums_a_truncated_cached_file_is_still_detected_by_its_structure()
    {
        var options = Options(new BytesSource("first", files));
        options.VerifyChecksums = false;
        MnistDataset.Load(MnistSplit.Train, options);
        var cached = Path.Combine(CacheDirectory, MnistFiles.TrainImages);
        File.WriteAllBytes(cached, File.ReadAllBytes(cached)[..5000]);
        var repair = new BytesSource("repair", files);
        options.Sources = [repair];

        ShouldHoldTheData(MnistDataset.Load(MnistSplit.Train, options));
        repair.Requested.Should().Equal(MnistFiles.TrainImages);
    }

    [Fact]
    public void Gzip_files_put_into_the_cache_by_hand_are_verified_and_stored_raw()
    {
        Directory.CreateDirectory(CacheDirectory);
        IdxTestFiles.WriteSplit(CacheDirectory, MnistSplit.Train, pixels, labels, gzip: true);
        var never = new ThrowingSource("never", "must not be asked");

        ShouldHoldTheData(MnistDataset.Load(MnistSplit.Train, Options(never)));

        never.Calls.Should().Be(0);
        File.ReadAllBytes(Path.Combine(CacheDirectory, MnistFiles.TrainImages)).Should().Equal(files[MnistFiles.TrainImages]);
    }

    [Fact]
    public void The_data_directory_comes_first_and_is_read_in_place_raw_or_gzip()
    {
        var data = temp.CreateSubdirectory("data");
        IdxTestFiles.Write(data, MnistFiles.TrainImages, files[MnistFiles.TrainImages], gzip: true);
        IdxTestFiles.Write(data, MnistFiles.TrainLabels, files[MnistFiles.TrainLabels]);
        var never = new ThrowingSource("never", "must not be asked");
        var options = Options(never);
        options.DataDirectory = data;

        ShouldHoldTheData(MnistDataset.Load(MnistSplit.Train, options));
        never.Calls.Should().Be(0);
        CacheContent().Should().BeEmpty("files from the data directory are not copied");
    }

    [Fact]
    public void A_corrupt_file_in_the_data_directory_is_reported_and_the_next_source_used()
    {
        var data = temp.CreateSubdirectory("data");
        var corrupt = files[MnistFiles.TrainImages].ToArray();
        corrupt[500] ^= 0xff;
        IdxTestFiles.Write(data, MnistFiles.TrainImages, corrupt);
        IdxTestFiles.Write(data, MnistFiles.TrainLabels, files[MnistFiles.TrainLabels]);
        var good = new BytesSource("good", files);
        var logger = new ListLogger();
        var options = Options(good);
        options.DataDirectory = data;

        ShouldHoldTheData(MnistDataset.Load(MnistSplit.Train, options, logger: logger));
        good.Requested.Should().Equal(MnistFiles.TrainImages);
        logger.Lines.Should().Contain(l => l.StartsWith("Warning") && l.Contains("SHA-256") && l.Contains(Path.Combine(data, MnistFiles.TrainImages)));
    }

    [Fact]
    public async Task Concurrent_loads_share_one_fetch_and_both_get_the_data()
    {
        var slow = new BytesSource("slow", files) { Delay = TimeSpan.FromMilliseconds(300) };
        var options = Options(slow);

        var loads = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(() => MnistDataset.LoadAsync(MnistSplit.Train, options))));

        foreach (var dataset in loads)
        {
            ShouldHoldTheData(dataset);
        }

        slow.Calls.Should().Be(2, "the loads that waited for the lock found the files in the cache");
        CacheContent().Should().Equal(MnistCache.LockFileName, MnistFiles.TrainImages, MnistFiles.TrainLabels);
    }

    [Fact]
    public async Task A_loader_waits_while_another_process_holds_the_cache_lock()
    {
        // flock(1) takes the same kind of lock (flock, exclusive) that .NET takes for FileShare.None on Unix.
        if (OperatingSystem.IsWindows() || !File.Exists("/usr/bin/flock"))
        {
            return;
        }

        Directory.CreateDirectory(CacheDirectory);
        var lockPath = Path.Combine(CacheDirectory, MnistCache.LockFileName);
        using var holder = Process.Start(new ProcessStartInfo("/usr/bin/flock", ["--exclusive", lockPath, "sleep", "1.5"]) { UseShellExecute = false })!;
        await WaitUntilLockedAsync(lockPath);
        var stopwatch = Stopwatch.StartNew();

        ShouldHoldTheData(await MnistDataset.LoadAsync(MnistSplit.Train, Options(new BytesSource("good", files))));

        stopwatch.Elapsed.Should().BeGreaterThan(TimeSpan.FromSeconds(0.5));
        await holder.WaitForExitAsync();
    }

    [Fact]
    public void A_lock_held_too_long_is_a_timeout_naming_the_lock_file()
    {
        Directory.CreateDirectory(CacheDirectory);
        var lockPath = Path.Combine(CacheDirectory, MnistCache.LockFileName);
        using var held = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        var options = Options(new BytesSource("good", files));
        options.CacheLockTimeout = TimeSpan.FromMilliseconds(300);

        Assert.Throws<TimeoutException>(() => MnistDataset.Load(MnistSplit.Train, options)).Message.Should().Contain(lockPath);
    }

    [Fact]
    public void A_directory_source_feeds_the_cache_from_raw_or_gzip_files()
    {
        var shared = temp.CreateSubdirectory("shared");
        IdxTestFiles.WriteSplit(shared, MnistSplit.Train, pixels, labels, gzip: true);
        var progress = new List<MnistDownloadProgress>();

        ShouldHoldTheData(MnistDataset.Load(MnistSplit.Train, Options(new DirectorySource(shared)), new SynchronousProgress(progress)));

        CacheContent().Should().Equal(MnistCache.LockFileName, MnistFiles.TrainImages, MnistFiles.TrainLabels);
        progress.Should().Contain(p => p.FileName == MnistFiles.TrainImages && p.TotalBytes == p.BytesDone && p.Source.StartsWith("directory "));
    }

    private static async Task WaitUntilLockedAsync(string lockPath)
    {
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var probe = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                return;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException("flock did not take the lock");
    }
}

/// <summary>An <see cref="IProgress{T}"/> that records reports at once, on the reporting thread.</summary>
internal sealed class SynchronousProgress(List<MnistDownloadProgress> reports) : IProgress<MnistDownloadProgress>
{
    public void Report(MnistDownloadProgress value)
    {
        lock (reports)
        {
            reports.Add(value);
        }
    }
}
