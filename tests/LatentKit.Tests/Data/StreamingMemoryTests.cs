using System.Text.RegularExpressions;
using LatentKit.Tests.Support;

namespace LatentKit.Tests.Data;

/// <summary>Runs alone (no other test allocating at the same time), so the process's memory is this test's.</summary>
[CollectionDefinition(nameof(StreamingMemoryTests), DisableParallelization = true)]
public sealed class StreamingMemoryCollection;

[Collection(nameof(StreamingMemoryTests))]
public sealed class StreamingMemoryTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory folder = new();

    public void Dispose() => folder.Dispose();

    /// <summary>Resident anonymous memory of the process (native and managed heaps; memory-mapped file pages are not counted), in bytes.</summary>
    private static long RssAnon()
    {
        var match = Regex.Match(File.ReadAllText("/proc/self/status"), @"RssAnon:\s+(\d+) kB");
        return long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    private sealed class PeakProbe(long managedBase, long nativeBase) : IProgress<TrainingProgress>
    {
        public long ManagedGrowth { get; private set; }

        public long ResidentGrowth { get; private set; }

        public List<string> Log { get; } = [];

        public void Report(TrainingProgress value)
        {
            // Live managed memory (after a full collection): per-batch garbage is not held data.
            var managed = GC.GetTotalMemory(forceFullCollection: true) - managedBase;
            var resident = RssAnon() - nativeBase;
            Log.Add($"{value?.Batch}: managed {managed >> 20} MiB, anon {resident >> 20} MiB");
            ManagedGrowth = Math.Max(ManagedGrowth, managed);
            ResidentGrowth = Math.Max(ResidentGrowth, resident);
        }
    }

    /// <summary>Trains one epoch (with a validation split, evaluated after the epoch) on <paramref name="count"/> memory-mapped 28 x 28 images; returns the peak growth of the managed heap and of resident anonymous memory.</summary>
    private (long Managed, long Resident) Measure(int count, bool streaming)
    {
        var pixels = new byte[(long)count * 784];
        new Random(count).NextBytes(pixels);
        var path = folder.Combine($"images-{count}.idx");
        File.WriteAllBytes(path, IdxDatasetTests.Idx(0x08, [count, 28, 28], pixels));
        pixels = null;
        var data = Dataset.FromIdx(path, options: new IdxLoadOptions { Streaming = streaming });
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        var options = new TrainingOptions { Epochs = 1, BatchSize = 500, Seed = 1, ValidationFraction = 0.1 };

        // Warm up libtorch's allocator and the JIT on a few samples, then measure.
        model.Train(data.Take(1000), options, new TrainingRun { Threads = 1 });
        var probe = new PeakProbe(GC.GetTotalMemory(forceFullCollection: true), RssAnon());
        model.Train(data, options, new TrainingRun { Threads = 1, ProgressInterval = TimeSpan.Zero, Progress = probe });

        GC.KeepAlive(data);
        output.WriteLine($"{count}: " + string.Join("; ", probe.Log));
        return (probe.ManagedGrowth, probe.ResidentGrowth);
    }

    [SkippableFact]
    public void Training_from_a_memory_mapped_file_holds_a_few_batches_whatever_the_file_size()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "reads resident memory from /proc/self/status");
        var small = Measure(4_000, streaming: true);
        var large = Measure(40_000, streaming: true);

        // 36,000 more images are 28 MB of bytes and 113 MB as floats; streaming holds neither. What grows with the
        // count: labels and indices (4 bytes per image, a few copies).
        // Resident memory also moves by up to ~20 MB from run to run (libtorch's and the GC's allocators keep and
        // return memory as they like), hence its bound.
        (large.Managed - small.Managed).Should().BeLessThan(6 << 20, $"managed peak growth {small.Managed >> 10} KiB for 4,000 images, {large.Managed >> 10} KiB for 40,000");
        (large.Resident - small.Resident).Should().BeLessThan(32 << 20, $"resident peak growth {small.Resident >> 10} KiB for 4,000 images, {large.Resident >> 10} KiB for 40,000");
    }

    [SkippableFact]
    public void Encoding_a_dataset_again_does_not_grow_resident_memory()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "reads resident memory from /proc/self/status");
        var pixels = new byte[40_000 * 784];
        new Random(7).NextBytes(pixels);
        var data = Dataset.FromImages(pixels, 1, 28, 28);
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        using (model.EncodeDataset(data))
        {
            // The first call warms up the JIT and the allocators.
        }

        var before = RssAnon();
        for (var i = 0; i < 3; i++)
        {
            using var codes = model.EncodeDataset(data);
            codes.shape.Should().Equal(40_000, model.LatentSize);
        }

        // Before: every batch's codes were kept as a piece and concatenated at the end; the pieces between the
        // batches' freed inputs left the native heap fragmented, and each call grew resident memory by tens of MB.
        var growth = RssAnon() - before;
        output.WriteLine($"resident anonymous memory grew {growth >> 10} KiB over three more calls");
        growth.Should().BeLessThan(16 << 20, "the codes (40,000 x 8 floats, 1.3 MB) are the only thing kept");
    }
}
