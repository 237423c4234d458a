using System.Runtime.Versioning;
using LatentKit.Build;

namespace LatentKit.Tests.Platform;

/// <summary>The ELF edit of the build asset (buildTransitive/LibTorchSharpGlibcxxPatch.cs), on crafted images.</summary>
public class GlibcxxMarkerPatcherTests
{
    [Fact]
    public void The_crafted_image_is_patchable_and_its_requirement_is_strong()
    {
        var elf = new CraftedElf();
        var image = elf.Build();

        var result = GlibcxxMarkerPatcher.Analyze(image);

        result.Outcome.Should().Be(GlibcxxPatchOutcome.Patched, result.Reason);
        result.FlagsOffset.Should().Be(elf.RequirementFlagsOffset);
        image[elf.RequirementFlagsOffset].Should().Be(0);
    }

    [Fact]
    public void Patch_sets_the_weak_flag_and_changes_no_other_byte()
    {
        var elf = new CraftedElf();
        var original = elf.Build();
        var image = (byte[])original.Clone();

        var result = GlibcxxMarkerPatcher.Patch(image);

        result.Outcome.Should().Be(GlibcxxPatchOutcome.Patched, result.Reason);
        result.FlagsOffset.Should().Be(elf.RequirementFlagsOffset);
        image.Length.Should().Be(original.Length);
        DifferingOffsets(original, image).Should().Equal(elf.RequirementFlagsOffset);
        image[elf.RequirementFlagsOffset].Should().Be((byte)GlibcxxMarkerPatcher.VerFlagWeak);

        var again = GlibcxxMarkerPatcher.Analyze(image);
        again.Outcome.Should().Be(GlibcxxPatchOutcome.AlreadyPatched, again.Reason);
        again.FlagsOffset.Should().Be(elf.RequirementFlagsOffset);
    }

    [Fact]
    public void A_second_patch_changes_nothing()
    {
        var image = new CraftedElf().Build();
        GlibcxxMarkerPatcher.Patch(image).Outcome.Should().Be(GlibcxxPatchOutcome.Patched);
        var once = (byte[])image.Clone();

        var second = GlibcxxMarkerPatcher.Patch(image);

        second.Outcome.Should().Be(GlibcxxPatchOutcome.AlreadyPatched);
        image.Should().Equal(once);
    }

    [Fact]
    public void Other_flag_bits_are_kept()
    {
        var elf = new CraftedElf();
        var image = elf.Build();
        image[elf.RequirementFlagsOffset] = 0x1; // VER_FLG_BASE, nonsensical here but must survive

        GlibcxxMarkerPatcher.Patch(image).Outcome.Should().Be(GlibcxxPatchOutcome.Patched);

        image[elf.RequirementFlagsOffset].Should().Be(0x3);
    }

    [Fact]
    public void A_relocated_marker_is_refused_and_the_image_is_untouched()
    {
        var image = new CraftedElf { RelocateMarker = true }.Build();
        var original = (byte[])image.Clone();

        var result = GlibcxxMarkerPatcher.Patch(image);

        result.Outcome.Should().Be(GlibcxxPatchOutcome.Refused);
        result.Reason.Should().Contain("relocated").And.Contain(CraftedElf.Marker);
        image.Should().Equal(original);
    }

    [Fact]
    public void A_missing_marker_is_refused_and_the_image_is_untouched()
    {
        var image = new CraftedElf { OmitMarker = true }.Build();
        var original = (byte[])image.Clone();

        var result = GlibcxxMarkerPatcher.Patch(image);

        result.Outcome.Should().Be(GlibcxxPatchOutcome.Refused);
        result.Reason.Should().Contain("missing");
        image.Should().Equal(original);
    }

    [Fact]
    public void A_real_function_bound_to_the_version_is_refused_by_name()
    {
        const string function = "_ZNKSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE11_S_allocateERS3_m";
        var image = new CraftedElf { BoundSymbol = function }.Build();
        var original = (byte[])image.Clone();

        var result = GlibcxxMarkerPatcher.Patch(image);

        result.Outcome.Should().Be(GlibcxxPatchOutcome.Refused);
        result.Reason.Should().Contain(function);
        image.Should().Equal(original);
    }

    [Fact]
    public void A_defined_marker_is_refused()
    {
        var image = new CraftedElf { DefineMarker = true }.Build();
        var original = (byte[])image.Clone();

        var result = GlibcxxMarkerPatcher.Patch(image);

        result.Outcome.Should().Be(GlibcxxPatchOutcome.Refused);
        result.Reason.Should().Contain("defined");
        image.Should().Equal(original);
    }

    [Fact]
    public void A_file_without_the_requirement_needs_nothing()
    {
        var image = new CraftedElf { OmitRequirement = true }.Build();
        var original = (byte[])image.Clone();

        var result = GlibcxxMarkerPatcher.Patch(image);

        result.Outcome.Should().Be(GlibcxxPatchOutcome.NotNeeded, result.Reason);
        result.FlagsOffset.Should().Be(-1);
        image.Should().Equal(original);
    }

    [Fact]
    public void A_weak_requirement_is_already_patched()
    {
        var elf = new CraftedElf { AlreadyWeak = true };
        var image = elf.Build();
        var original = (byte[])image.Clone();

        var result = GlibcxxMarkerPatcher.Patch(image);

        result.Outcome.Should().Be(GlibcxxPatchOutcome.AlreadyPatched);
        result.FlagsOffset.Should().Be(elf.RequirementFlagsOffset);
        image.Should().Equal(original);
    }

    [Fact]
    public void A_32_bit_file_is_refused()
    {
        var image = new CraftedElf { ThirtyTwoBit = true }.Build();
        var original = (byte[])image.Clone();

        var result = GlibcxxMarkerPatcher.Patch(image);

        result.Outcome.Should().Be(GlibcxxPatchOutcome.Refused);
        result.Reason.Should().Contain("64-bit");
        image.Should().Equal(original);
    }

    [Fact]
    public void Every_truncation_is_refused_without_an_exception()
    {
        // The section header table is last in the crafted file, so every proper prefix lacks part of it.
        var full = new CraftedElf().Build();
        for (var length = 0; length < full.Length; length++)
        {
            var prefix = full.AsSpan(0, length).ToArray();

            var result = GlibcxxMarkerPatcher.Patch(prefix);

            result.Outcome.Should().Be(GlibcxxPatchOutcome.Refused, "a {0}-byte prefix of a {1}-byte file is not a whole ELF file", length, full.Length);
            prefix.Should().Equal(full.AsSpan(0, length).ToArray());
        }
    }

    [Theory]
    [InlineData("empty")]
    [InlineData("text")]
    [InlineData("random")]
    [InlineData("huge-section-offset")]
    [InlineData("section-offset-past-end")]
    public void Garbage_is_refused_without_an_exception(string kind)
    {
        byte[] image;
        switch (kind)
        {
            case "empty":
                image = Array.Empty<byte>();
                break;
            case "text":
                image = System.Text.Encoding.ASCII.GetBytes("#!/bin/sh\necho this is not an ELF shared library, but it is long enough to have a header\n");
                break;
            case "random":
                image = new byte[4096];
                new Random(42).NextBytes(image);
                break;
            case "huge-section-offset":
                image = new CraftedElf().Build();
                BitConverter.GetBytes(0x7FFF_FFFF_FFFF_FFF0L).CopyTo(image, CraftedElf.SectionHeaderOffsetField);
                break;
            default:
                image = new CraftedElf().Build();
                BitConverter.GetBytes((long)image.Length).CopyTo(image, CraftedElf.SectionHeaderOffsetField);
                break;
        }

        var original = (byte[])image.Clone();

        var result = GlibcxxMarkerPatcher.Patch(image);

        result.Outcome.Should().Be(GlibcxxPatchOutcome.Refused);
        result.Reason.Should().NotBeNullOrWhiteSpace();
        image.Should().Equal(original);
    }

    [Fact]
    public void Any_single_corrupted_byte_is_refused_unchanged_or_patched_at_the_flag_byte_only()
    {
        var elf = new CraftedElf();
        var good = elf.Build();
        var outcomes = new Dictionary<GlibcxxPatchOutcome, int>();
        foreach (var value in new byte[] { 0x00, 0x01, 0x7f, 0x80, 0xff })
        {
            for (var at = 0; at < good.Length; at++)
            {
                var corrupted = (byte[])good.Clone();
                corrupted[at] = value;
                var image = (byte[])corrupted.Clone();

                var result = GlibcxxMarkerPatcher.Patch(image);

                outcomes[result.Outcome] = outcomes.GetValueOrDefault(result.Outcome) + 1;
                var because = $"byte {at} set to 0x{value:x2} gave {result.Outcome} ({result.Reason})";
                if (result.Outcome == GlibcxxPatchOutcome.Patched)
                {
                    // Only the one flag byte of the GLIBCXX_3.4.32 requirement may change, and only by the weak bit.
                    result.FlagsOffset.Should().BeGreaterThanOrEqualTo(0, because);
                    DifferingOffsets(corrupted, image).Should().Equal([result.FlagsOffset], because);
                    image[result.FlagsOffset].Should().Be((byte)(corrupted[result.FlagsOffset] | GlibcxxMarkerPatcher.VerFlagWeak), because);
                }
                else
                {
                    image.Should().Equal(corrupted, because);
                    if (result.Outcome == GlibcxxPatchOutcome.Refused)
                    {
                        result.Reason.Should().NotBeNullOrWhiteSpace(because);
                    }
                }
            }
        }

        // Most single-byte corruptions hit bytes the analysis never reads (padding, code, unrelated strings) and the
        // file is still patched; the ones that hit the structures it checks must be refused, never patched blindly.
        outcomes.GetValueOrDefault(GlibcxxPatchOutcome.Patched).Should().BeGreaterThan(0);
        outcomes.GetValueOrDefault(GlibcxxPatchOutcome.Refused).Should().BeGreaterThan(0);
    }

    [Fact]
    public void PatchFile_writes_only_the_flag_keeps_the_mode_and_leaves_no_temporary_file()
    {
        using var folder = new TemporaryFolder();
        var elf = new CraftedElf();
        var original = elf.Build();
        var path = folder.Write("libLibTorchSharp.so", original, (UnixFileMode)Convert.ToInt32("755", 8));

        var result = GlibcxxMarkerPatcher.PatchFile(path);

        result.Outcome.Should().Be(GlibcxxPatchOutcome.Patched, result.Reason);
        var patched = File.ReadAllBytes(path);
        DifferingOffsets(original, patched).Should().Equal(elf.RequirementFlagsOffset);
        patched[elf.RequirementFlagsOffset].Should().Be((byte)GlibcxxMarkerPatcher.VerFlagWeak);
        if (!OperatingSystem.IsWindows())
        {
            File.GetUnixFileMode(path).Should().Be((UnixFileMode)Convert.ToInt32("755", 8));
        }

        folder.FileNames().Should().Equal("libLibTorchSharp.so");
    }

    [Fact]
    public void PatchFile_a_second_time_changes_neither_the_bytes_nor_the_modification_time()
    {
        using var folder = new TemporaryFolder();
        var path = folder.Write("libLibTorchSharp.so", new CraftedElf().Build());
        GlibcxxMarkerPatcher.PatchFile(path).Outcome.Should().Be(GlibcxxPatchOutcome.Patched);
        var stamp = new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, stamp);
        var once = File.ReadAllBytes(path);

        var second = GlibcxxMarkerPatcher.PatchFile(path);

        second.Outcome.Should().Be(GlibcxxPatchOutcome.AlreadyPatched);
        File.ReadAllBytes(path).Should().Equal(once);
        File.GetLastWriteTimeUtc(path).Should().Be(stamp);
        folder.FileNames().Should().Equal("libLibTorchSharp.so");
    }

    [Fact]
    public void PatchFile_refusing_leaves_the_file_untouched()
    {
        using var folder = new TemporaryFolder();
        var original = new CraftedElf { RelocateMarker = true }.Build();
        var path = folder.Write("libLibTorchSharp.so", original);
        var stamp = new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, stamp);

        var result = GlibcxxMarkerPatcher.PatchFile(path);

        result.Outcome.Should().Be(GlibcxxPatchOutcome.Refused);
        result.Reason.Should().Contain("relocated");
        File.ReadAllBytes(path).Should().Equal(original);
        File.GetLastWriteTimeUtc(path).Should().Be(stamp);
        folder.FileNames().Should().Equal("libLibTorchSharp.so");
    }

    [UnixFact]
    [UnsupportedOSPlatform("windows")]
    public void PatchFile_keeps_a_read_only_file_read_only()
    {
        using var folder = new TemporaryFolder();
        var readOnly = (UnixFileMode)Convert.ToInt32("555", 8);
        var path = folder.Write("libLibTorchSharp.so", new CraftedElf().Build(), readOnly);

        var result = GlibcxxMarkerPatcher.PatchFile(path);

        result.Outcome.Should().Be(GlibcxxPatchOutcome.Patched, result.Reason);
        GlibcxxMarkerPatcher.Analyze(File.ReadAllBytes(path)).Outcome.Should().Be(GlibcxxPatchOutcome.AlreadyPatched);
        File.GetUnixFileMode(path).Should().Be(readOnly);
        folder.FileNames().Should().Equal("libLibTorchSharp.so");
    }

    [UnixFact]
    public void PatchFile_through_a_hard_link_leaves_the_other_link_unchanged()
    {
        // MSBuild can hard-link output copies to the NuGet cache (CreateHardLinksForCopyLocalIfPossible).
        using var folder = new TemporaryFolder();
        var original = new CraftedElf().Build();
        var cache = folder.Write("cache.so", original);
        var output = Path.Combine(folder.Path, "libLibTorchSharp.so");
        HardLink.Create(cache, output);

        GlibcxxMarkerPatcher.PatchFile(output).Outcome.Should().Be(GlibcxxPatchOutcome.Patched);

        File.ReadAllBytes(cache).Should().Equal(original);
        GlibcxxMarkerPatcher.Analyze(File.ReadAllBytes(output)).Outcome.Should().Be(GlibcxxPatchOutcome.AlreadyPatched);
    }

    [UnixFact]
    public void PatchFile_through_a_symbolic_link_leaves_its_target_unchanged()
    {
        // MSBuild can symlink output copies to the NuGet cache (CreateSymbolicLinksForCopyLocalIfPossible).
        using var folder = new TemporaryFolder();
        var original = new CraftedElf().Build();
        var cache = folder.Write("cache.so", original);
        var output = Path.Combine(folder.Path, "libLibTorchSharp.so");
        File.CreateSymbolicLink(output, cache);

        GlibcxxMarkerPatcher.PatchFile(output).Outcome.Should().Be(GlibcxxPatchOutcome.Patched);

        File.ReadAllBytes(cache).Should().Equal(original);
        new FileInfo(output).LinkTarget.Should().BeNull("the output copy is now a file of its own");
        GlibcxxMarkerPatcher.Analyze(File.ReadAllBytes(output)).Outcome.Should().Be(GlibcxxPatchOutcome.AlreadyPatched);
    }

    private static List<long> DifferingOffsets(byte[] before, byte[] after)
    {
        before.Length.Should().Be(after.Length);
        var offsets = new List<long>();
        for (var i = 0; i < before.Length; i++)
        {
            if (before[i] != after[i])
            {
                offsets.Add(i);
            }
        }

        return offsets;
    }
}
