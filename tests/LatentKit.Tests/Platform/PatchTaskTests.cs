using System.Collections;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using LatentKit.Build;
using Microsoft.Build.Framework;
using TaskItem = Microsoft.Build.Utilities.TaskItem;

namespace LatentKit.Tests.Platform;

/// <summary>
/// The MSBuild task of the build asset (<see cref="PatchLibTorchSharpGlibcxx"/>) through its <c>Execute</c> path, with
/// a recording build engine, and <see cref="GlibcxxMarkerPatcher.PatchFile(string)"/> on files that change between reads.
/// </summary>
public class PatchTaskTests
{
    [Fact]
    public void Execute_patches_the_output_copy_and_logs_what_it_did()
    {
        using var folder = new TemporaryFolder();
        var elf = new CraftedElf();
        var original = elf.Build();
        var path = folder.Write("libLibTorchSharp.so", original);
        var engine = new RecordingBuildEngine();
        var task = new PatchLibTorchSharpGlibcxx { BuildEngine = engine, Files = [new TaskItem(path)] };

        task.Execute().Should().BeTrue();

        var patched = File.ReadAllBytes(path);
        patched.Length.Should().Be(original.Length);
        Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i]).Should().Equal((int)elf.RequirementFlagsOffset);
        patched[elf.RequirementFlagsOffset].Should().Be((byte)GlibcxxMarkerPatcher.VerFlagWeak);
        engine.Warnings.Should().BeEmpty();
        engine.Errors.Should().BeEmpty();
        engine.Messages.Should().ContainSingle(m => m.Importance == MessageImportance.Normal)
            .Which.Message.Should().Be($"LatentKit: {path}: marked the requirement of GLIBCXX_3.4.32 weak (only the unrelocated marker _ZSt21ios_base_library_initv is bound to it).");
        folder.FileNames().Should().Equal("libLibTorchSharp.so");
    }

    [Fact]
    public void Execute_on_an_already_patched_copy_logs_a_low_importance_message_and_writes_nothing()
    {
        using var folder = new TemporaryFolder();
        var original = new CraftedElf { AlreadyWeak = true }.Build();
        var path = folder.Write("libLibTorchSharp.so", original);
        var stamp = new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, stamp);
        var engine = new RecordingBuildEngine();

        new PatchLibTorchSharpGlibcxx { BuildEngine = engine, Files = [new TaskItem(path)] }.Execute().Should().BeTrue();

        File.ReadAllBytes(path).Should().Equal(original);
        File.GetLastWriteTimeUtc(path).Should().Be(stamp);
        engine.Warnings.Should().BeEmpty();
        engine.Messages.Should().ContainSingle().Which.Importance.Should().Be(MessageImportance.Low);
        engine.Messages[0].Message.Should().Contain("already weak");
    }

    [Fact]
    public void Execute_on_a_file_it_refuses_warns_LATENTKIT001_with_the_reason_and_does_not_fail_the_build()
    {
        using var folder = new TemporaryFolder();
        var original = new CraftedElf { RelocateMarker = true }.Build();
        var path = folder.Write("libLibTorchSharp.so", original);
        var engine = new RecordingBuildEngine();

        new PatchLibTorchSharpGlibcxx { BuildEngine = engine, Files = [new TaskItem(path)] }.Execute().Should().BeTrue();

        File.ReadAllBytes(path).Should().Equal(original);
        var warning = engine.Warnings.Should().ContainSingle().Subject;
        warning.Code.Should().Be("LATENTKIT001");
        warning.File.Should().Be(path);
        warning.Message.Should().StartWith($"LatentKit left '{path}' untouched: the marker '_ZSt21ios_base_library_initv' is relocated");
        engine.Errors.Should().BeEmpty();
    }

    /// <summary>
    /// Tests run as root here, and root writes into a folder of mode 0555 anyway, so the read-only folder is simulated
    /// at the one place it shows: creating the temporary file beside the library fails, with the exception .NET raises
    /// for EACCES (permission bits) or EROFS (read-only mount), or the disk fills up while the copy is written.
    /// <see cref="Execute_in_a_real_read_only_folder_warns_LATENTKIT001"/> does the same with real permissions where
    /// they apply.
    /// </summary>
    [Theory]
    [InlineData("EACCES")]
    [InlineData("EROFS")]
    [InlineData("ENOSPC")]
    public void Execute_warns_LATENTKIT001_when_the_folder_cannot_be_written_and_leaves_the_file_and_folder_as_they_were(string failure)
    {
        using var folder = new TemporaryFolder();
        var original = new CraftedElf().Build();
        var path = folder.Write("libLibTorchSharp.so", original);
        var engine = new RecordingBuildEngine();
        var attempted = new List<string>();
        var task = new PatchLibTorchSharpGlibcxx
        {
            BuildEngine = engine,
            Files = [new TaskItem(path)],
            CreateTemporaryFile = temporary =>
            {
                attempted.Add(temporary);
                return failure switch
                {
                    "EACCES" => throw new UnauthorizedAccessException($"Access to the path '{temporary}' is denied."),
                    "EROFS" => throw new IOException($"Read-only file system : '{temporary}'"),
                    _ => new FailingStream(new FileStream(temporary, FileMode.CreateNew, FileAccess.Write)),
                };
            },
        };

        task.Execute().Should().BeTrue("a build asset must not fail the build of the application that imports it");

        attempted.Should().ContainSingle().Which.Should().StartWith(path + ".latentkit-").And.EndWith(".tmp");
        File.ReadAllBytes(path).Should().Equal(original);
        folder.FileNames().Should().Equal(["libLibTorchSharp.so"], "a half-written temporary file is deleted");
        var warning = engine.Warnings.Should().ContainSingle().Subject;
        warning.Code.Should().Be("LATENTKIT001");
        warning.File.Should().Be(path);
        warning.Message.Should().StartWith($"LatentKit left '{path}' untouched: it could not be patched (")
            .And.Contain(failure switch { "EACCES" => "UnauthorizedAccessException: Access to the path", "EROFS" => "IOException: Read-only file system", _ => "IOException: No space left on device" })
            .And.Contain("LatentKitPatchLibTorchSharp=false");
        engine.Errors.Should().BeEmpty();
    }

    [SkippableFact]
    [UnsupportedOSPlatform("windows")]
    public void Execute_in_a_real_read_only_folder_warns_LATENTKIT001()
    {
        Skip.If(OperatingSystem.IsWindows(), "Unix permission bits only.");
        using var folder = new TemporaryFolder();
        var original = new CraftedElf().Build();
        var path = folder.Write("libLibTorchSharp.so", original);
        var writable = File.GetUnixFileMode(folder.Path);
        File.SetUnixFileMode(folder.Path, (UnixFileMode)Convert.ToInt32("555", 8));
        try
        {
            var probe = Path.Combine(folder.Path, "probe");
            var canWrite = true;
            try
            {
                File.WriteAllBytes(probe, []);
                File.Delete(probe);
            }
            catch (UnauthorizedAccessException)
            {
                canWrite = false;
            }

            Skip.If(canWrite, "this user (root, or with CAP_DAC_OVERRIDE) writes into a folder of mode 0555 anyway; the injected failures above cover this path.");
            var engine = new RecordingBuildEngine();

            new PatchLibTorchSharpGlibcxx { BuildEngine = engine, Files = [new TaskItem(path)] }.Execute().Should().BeTrue();

            File.ReadAllBytes(path).Should().Equal(original);
            engine.Warnings.Should().ContainSingle().Which.Code.Should().Be("LATENTKIT001");
        }
        finally
        {
            File.SetUnixFileMode(folder.Path, writable);
        }
    }

    /// <summary>
    /// The patch must write the very bytes it analysed. A FIFO makes every read visible: the test feeds the image once;
    /// a patcher that read the file a second time (to copy it, say) would wait for data that never comes.
    /// </summary>
    [SkippableFact]
    [UnsupportedOSPlatform("windows")]
    public async Task PatchFile_reads_the_file_once_and_writes_the_bytes_it_analysed()
    {
        Skip.If(OperatingSystem.IsWindows(), "FIFOs are Unix only.");
        using var folder = new TemporaryFolder();
        var elf = new CraftedElf();
        var original = elf.Build();
        var path = Path.Combine(folder.Path, "libLibTorchSharp.so");
        if (MakeFifo(path, Convert.ToInt32("644", 8)) != 0)
        {
            throw new IOException($"mkfifo({path}) failed with errno {Marshal.GetLastPInvokeError()}");
        }

        var feed = Task.Run(() =>
        {
            using var writer = new FileStream(path, FileMode.Open, FileAccess.Write);
            writer.Write(original);
        });
        var patch = Task.Run(() => GlibcxxMarkerPatcher.PatchFile(path));

        var finished = await Task.WhenAny(patch, Task.Delay(TimeSpan.FromSeconds(20)));
        if (finished != patch)
        {
            // Release the second read (end of file) so that the patcher's thread ends, then fail.
            using (new FileStream(path, FileMode.Open, FileAccess.Write))
            {
            }

            await Task.WhenAny(patch, Task.Delay(TimeSpan.FromSeconds(5)));
            Assert.Fail("PatchFile opened the file a second time after analysing its first read.");
        }

        await feed;
        var result = await patch;
        result.Outcome.Should().Be(GlibcxxPatchOutcome.Patched, result.Reason);
        var expected = (byte[])original.Clone();
        expected[elf.RequirementFlagsOffset] |= (byte)GlibcxxMarkerPatcher.VerFlagWeak;
        File.ReadAllBytes(path).Should().Equal(expected);
        File.GetUnixFileMode(path).Should().Be((UnixFileMode)Convert.ToInt32("644", 8));
        folder.FileNames().Should().Equal("libLibTorchSharp.so");
    }

    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MakeFifo(string path, int mode);

    /// <summary>A stream that fails every write as a full disk does.</summary>
    private sealed class FailingStream(Stream inner) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => inner.Length;

        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new IOException("No space left on device");

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

/// <summary>A build engine that records what a task logs.</summary>
public sealed class RecordingBuildEngine : IBuildEngine
{
    /// <summary>Warnings, in order.</summary>
    public List<BuildWarningEventArgs> Warnings { get; } = [];

    /// <summary>Errors, in order.</summary>
    public List<BuildErrorEventArgs> Errors { get; } = [];

    /// <summary>Messages, in order.</summary>
    public List<BuildMessageEventArgs> Messages { get; } = [];

    /// <inheritdoc />
    public bool ContinueOnError => false;

    /// <inheritdoc />
    public int LineNumberOfTaskNode => 0;

    /// <inheritdoc />
    public int ColumnNumberOfTaskNode => 0;

    /// <inheritdoc />
    public string ProjectFileOfTaskNode => "test.csproj";

    /// <inheritdoc />
    public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs) =>
        throw new NotSupportedException();

    /// <inheritdoc />
    public void LogCustomEvent(CustomBuildEventArgs e) => throw new NotSupportedException();

    /// <inheritdoc />
    public void LogErrorEvent(BuildErrorEventArgs e) => Errors.Add(e);

    /// <inheritdoc />
    public void LogMessageEvent(BuildMessageEventArgs e) => Messages.Add(e);

    /// <inheritdoc />
    public void LogWarningEvent(BuildWarningEventArgs e) => Warnings.Add(e);
}
