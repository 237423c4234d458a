using System.Diagnostics;
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
    public void Only_the_temporary_files_the_library_names_are_removed_and_a_users_tmp_files_are_kept()
    {
        Directory.CreateDirectory(CacheDirectory);
        string[] ours =
        [
            $"latentkit-0123456789abcdef0123456789abcdef-{MnistFiles.TrainImages}.download.tmp",
            $"latentkit-fedcba9876543210fedcba9876543210-{MnistFiles.TrainLabels}.raw.tmp",
        ];
        string[] users = ["my-report.tmp", "model.latentkit.tmp", $"{MnistFiles.TrainImages}.download.tmp", "latentkit-notes.download.tmp"];
        foreach (var name in ours.Concat(users))
        {
            File.WriteAllBytes(Path.Combine(CacheDirectory, name), new byte[100]);
        }

        MnistDataset.Load(MnistSplit.Train, Options(new BytesSource("good", files)));

        CacheContent().Should().Equal(new[] { MnistCache.LockFileName, MnistFiles.TrainImages, MnistFiles.TrainLabels }.Concat(users).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_library_names_its_temporary_files_so_that_its_cleanup_recognises_them()
    {
        var seen = new List<string>();
        var source = new SpyingSource(files, seen);

        MnistDataset.Load(MnistSplit.Train, Options(source));

        seen.Should().HaveCount(2).And.OnlyContain(p => Path.GetDirectoryName(p) == CacheDirectory);
        seen.Select(Path.GetFileName).Should().AllSatisfy(name => name.Should().MatchRegex("^latentkit-[0-9a-f]{32}-(train|t10k)-[a-z0-9-]+\\.download\\.tmp$"));
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

    [SkippableFact]
    public async Task A_loader_waits_while_another_process_holds_the_cache_lock()
    {
        // flock(1) takes the same kind of lock (flock, exclusive) that .NET takes for FileShare.None on Unix.
        Skip.If(OperatingSystem.IsWindows() || !File.Exists("/usr/bin/flock"), "needs flock(1) on a Unix system");

        Directory.CreateDirectory(CacheDirectory);
        var lockPath = Path.Combine(CacheDirectory, MnistCache.LockFileName);
        using var holder = Process.Start(new ProcessStartInfo("/usr/bin/flock", ["--exclusive", lockPath, "sleep", "1.5"]) { UseShellExecute = false })!;
        await WaitUntilLockedAsync(lockPath);
        var stopwatch = Stopwatch.StartNew();

        ShouldHoldTheData(await MnistDataset.LoadAsync(MnistSplit.Train, Options(new BytesSource("good", files))));

        stopwatch.Elapsed.Should().BeGreaterThan(TimeSpan.FromSeconds(0.5));
        await holder.WaitForExitAsync();
    }

    [SkippableFact]
    public void A_lock_file_that_cannot_be_opened_for_a_reason_other_than_contention_fails_at_once_with_that_reason()
    {
        // A symbolic link to itself: opening it fails with ELOOP, an I/O error like EROFS on a read-only mount, not a
        // lock held by another process.
        Skip.If(OperatingSystem.IsWindows(), "symbolic links need privileges on Windows");
        Directory.CreateDirectory(CacheDirectory);
        var lockPath = Path.Combine(CacheDirectory, MnistCache.LockFileName);
        File.CreateSymbolicLink(lockPath, MnistCache.LockFileName);
        var source = new BytesSource("good", files);
        var options = Options(source);
        options.CacheLockTimeout = TimeSpan.FromSeconds(5);
        var stopwatch = Stopwatch.StartNew();

        var error = Assert.Throws<MnistSourceException>(() => MnistDataset.Load(MnistSplit.Train, options));

        stopwatch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2), "an I/O error is not waited out like a lock held by another loader");
        source.Calls.Should().Be(0, "nothing can be fetched into a cache that cannot be locked");
        error.Attempts.Should().ContainSingle().Which.Reason.Should().Contain($"cannot open the lock file {lockPath}")
            .And.Contain("symbolic links").And.NotContain("another loader");
    }

    [SkippableFact]
    public void A_cache_that_cannot_be_locked_still_serves_the_verified_files_it_holds()
    {
        Skip.If(OperatingSystem.IsWindows(), "symbolic links need privileges on Windows");
        MnistDataset.Load(MnistSplit.Train, Options(new BytesSource("first", files)));
        var lockPath = Path.Combine(CacheDirectory, MnistCache.LockFileName);
        File.Delete(lockPath);
        File.CreateSymbolicLink(lockPath, MnistCache.LockFileName);
        var never = new ThrowingSource("never", "must not be asked");
        var logger = new ListLogger();

        ShouldHoldTheData(MnistDataset.Load(MnistSplit.Train, Options(never), logger: logger));

        never.Calls.Should().Be(0);
        logger.Lines.Should().Contain(l => l.StartsWith("Warning") && l.Contains(lockPath) && l.Contains("without a lock"));
    }

    [SkippableFact]
    public void A_cache_folder_that_cannot_be_written_is_a_source_error_naming_the_folder_at_once()
    {
        // sysfs refuses new files and folders even to root (EACCES; EROFS where /sys is mounted read-only).
        Skip.If(OperatingSystem.IsWindows() || !Directory.Exists("/sys/kernel"), "needs Linux sysfs");
        var source = new BytesSource("good", files);
        foreach (var folder in new[] { "/sys/kernel", "/sys/kernel/latentkit-cannot-exist" })
        {
            var options = Options(source);
            options.CacheDirectory = folder;
            var stopwatch = Stopwatch.StartNew();

            var error = Assert.Throws<MnistSourceException>(() => MnistDataset.Load(MnistSplit.Train, options));

            stopwatch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2));
            error.CacheDirectory.Should().Be(folder);
            error.Attempts.Should().ContainSingle().Which.Source.Should().Be($"cache {folder}");
            error.Message.Should().Contain(folder).And.MatchRegex("(denied|[Rr]ead-only)");
        }

        source.Calls.Should().Be(0);
        Directory.Exists("/sys/kernel/latentkit-cannot-exist").Should().BeFalse();
    }

    [Fact]
    public void A_file_where_the_cache_folder_should_be_is_a_source_error_naming_it()
    {
        var notAFolder = temp.Combine("not-a-folder");
        File.WriteAllText(notAFolder, "a user's file");
        var options = Options(new BytesSource("good", files));
        options.CacheDirectory = notAFolder;

        var error = Assert.Throws<MnistSourceException>(() => MnistDataset.Load(MnistSplit.Train, options));

        error.Message.Should().Contain($"cannot create the cache folder {notAFolder}");
        File.ReadAllText(notAFolder).Should().Be("a user's file");
    }

    [Fact]
    public void A_corrupt_cached_copy_that_cannot_be_deleted_is_a_source_error_naming_it()
    {
        MnistDataset.Load(MnistSplit.Train, Options(new BytesSource("first", files)));
        var cached = Path.Combine(CacheDirectory, MnistFiles.TrainLabels);
        File.WriteAllBytes(cached, new byte[10]);
        var cache = new MnistCache(CacheDirectory, known, TimeSpan.FromSeconds(30))
        {
            DeleteFile = path => throw new UnauthorizedAccessException($"Access to the path '{path}' is denied."),
        };

        var error = Assert.Throws<MnistSourceException>(() => cache.GetOrFetchAsync(MnistFiles.TrainLabels, [new BytesSource("good", files)]).GetAwaiter().GetResult());

        error.Attempts.Should().ContainSingle().Which.Reason.Should().Contain("corrupt").And.Contain("cannot be deleted").And.Contain("is denied");
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

/// <summary>A source that records the destination paths it is given, then writes the raw bytes.</summary>
internal sealed class SpyingSource(IReadOnlyDictionary<string, byte[]> files, List<string> seen) : IMnistSource
{
    public string Name => "spy";

    public Task FetchAsync(string fileName, string destinationPath, IProgress<MnistDownloadProgress>? progress, Microsoft.Extensions.Logging.ILogger logger, CancellationToken cancellationToken)
    {
        seen.Add(destinationPath);
        return File.WriteAllBytesAsync(destinationPath, files[fileName], cancellationToken);
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
