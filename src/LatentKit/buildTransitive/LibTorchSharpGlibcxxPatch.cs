// LatentKit build asset: compiled by MSBuild's RoslynCodeTaskFactory from LatentKit.targets (beside this file),
// and compiled into LatentKit.Tests so that the ELF edit is unit-tested from the very same source.
// Targets netstandard2.0 APIs only, because that is what an inline task compiles against.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace LatentKit.Build
{
    /// <summary>
    /// MSBuild task: makes TorchSharp's <c>libLibTorchSharp.so</c> loadable on Linux distributions whose
    /// libstdc++ predates GCC 13.2 (Debian 12, Ubuntu 22.04) by marking its requirement of the symbol version
    /// <c>GLIBCXX_3.4.32</c> as weak, when the only symbol bound to that version is an unrelocated marker.
    /// </summary>
    public sealed class PatchLibTorchSharpGlibcxx : Microsoft.Build.Utilities.Task
    {
        /// <summary>The <c>libLibTorchSharp.so</c> copies to patch (output or publish folder copies, never the NuGet cache).</summary>
        [Required]
        public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

        /// <summary>
        /// Creates the temporary file that becomes the patched copy (given its path). Internal, so not a task
        /// parameter: tests replace it to make the folder fail as a read-only one does, which permission bits cannot
        /// show when the tests run as root.
        /// </summary>
        internal Func<string, Stream>? CreateTemporaryFile { get; set; }

        /// <inheritdoc />
        public override bool Execute()
        {
            foreach (var item in Files)
            {
                var path = item.GetMetadata("FullPath");
                GlibcxxPatchResult result;
                try
                {
                    result = CreateTemporaryFile == null
                        ? GlibcxxMarkerPatcher.PatchFile(path)
                        : GlibcxxMarkerPatcher.PatchFile(path, CreateTemporaryFile);
                }
                catch (Exception e)
                {
                    // A build asset must never break the build of the application that imports it: whatever goes wrong
                    // here (I/O, permissions, an unexpected file) is reported as a warning and the file is left alone.
                    Log.LogWarning(null, "LATENTKIT001", null, path, 0, 0, 0, 0,
                        "LatentKit left '{0}' untouched: it could not be patched ({1}: {2}). TorchSharp may fail to load on Linux systems without GLIBCXX_3.4.32 (set LatentKitPatchLibTorchSharp=false to silence this step).",
                        path, e.GetType().Name, e.Message);
                    continue;
                }

                switch (result.Outcome)
                {
                    case GlibcxxPatchOutcome.Patched:
                        Log.LogMessage(MessageImportance.Normal, "LatentKit: {0}: {1}", path, result.Reason);
                        break;
                    case GlibcxxPatchOutcome.AlreadyPatched:
                    case GlibcxxPatchOutcome.NotNeeded:
                        Log.LogMessage(MessageImportance.Low, "LatentKit: {0}: {1}", path, result.Reason);
                        break;
                    default:
                        Log.LogWarning(null, "LATENTKIT001", null, path, 0, 0, 0, 0,
                            "LatentKit left '{0}' untouched: {1} TorchSharp may fail to load on Linux systems without GLIBCXX_3.4.32 (set LatentKitPatchLibTorchSharp=false to silence this step).",
                            path, result.Reason);
                        break;
                }
            }

            return !Log.HasLoggedErrors;
        }
    }

    /// <summary>What <see cref="GlibcxxMarkerPatcher"/> found or did.</summary>
    public enum GlibcxxPatchOutcome
    {
        /// <summary>The requirement was strong and has been (or, for an analysis, can be) made weak.</summary>
        Patched,

        /// <summary>The requirement is already weak: nothing to do.</summary>
        AlreadyPatched,

        /// <summary>The file does not require the version at all: nothing to do.</summary>
        NotNeeded,

        /// <summary>The file must not be changed; <see cref="GlibcxxPatchResult.Reason"/> says why.</summary>
        Refused,
    }

    /// <summary>Outcome of analysing or patching one ELF file.</summary>
    public sealed class GlibcxxPatchResult
    {
        /// <summary>Creates a result.</summary>
        public GlibcxxPatchResult(GlibcxxPatchOutcome outcome, string reason, long flagsOffset = -1)
        {
            Outcome = outcome;
            Reason = reason;
            FlagsOffset = flagsOffset;
        }

        /// <summary>What was found or done.</summary>
        public GlibcxxPatchOutcome Outcome { get; }

        /// <summary>A sentence that explains the outcome.</summary>
        public string Reason { get; }

        /// <summary>File offset of the <c>vna_flags</c> field of the requirement, or -1 when there is none.</summary>
        public long FlagsOffset { get; }
    }

    /// <summary>
    /// The ELF edit: sets <c>VER_FLG_WEAK</c> in the <c>vna_flags</c> of the <c>Elf64_Vernaux</c> entry that requires
    /// <c>GLIBCXX_3.4.32</c>, when every symbol bound to that version is an undefined marker symbol that no relocation
    /// refers to (GCC 13's <c>&lt;iostream&gt;</c> declares <c>std::ios_base_library_init()</c> that way; nothing calls it).
    /// </summary>
    public static class GlibcxxMarkerPatcher
    {
        /// <summary>The symbol version that Debian 12's libstdc++ (GCC 12) does not provide.</summary>
        public const string VersionName = "GLIBCXX_3.4.32";

        /// <summary>Symbols that GCC 13 binds to <see cref="VersionName"/> only as a marker.</summary>
        public static readonly string[] MarkerSymbols = { "_ZSt21ios_base_library_initv" };

        /// <summary>The <c>VER_FLG_WEAK</c> bit of <c>vna_flags</c>.</summary>
        public const ushort VerFlagWeak = 0x2;

        private const uint ShtRela = 4;
        private const uint ShtRel = 9;
        private const uint ShtDynsym = 11;
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const uint ShtGnuVersym = 0x6fffffff;

        /// <summary>Analyses an ELF image in memory without changing it.</summary>
        public static GlibcxxPatchResult Analyze(byte[] image)
        {
            if (image == null)
            {
                throw new ArgumentNullException(nameof(image));
            }

            try
            {
                return AnalyzeCore(image);
            }
            catch (ElfFormatException e)
            {
                return new GlibcxxPatchResult(GlibcxxPatchOutcome.Refused, "the file is not a well-formed ELF shared library: " + e.Message);
            }
        }

        /// <summary>
        /// Applies the edit to an ELF image in memory. Returns the analysis; the image changes only when the outcome is
        /// <see cref="GlibcxxPatchOutcome.Patched"/>, and then only in the one flags byte.
        /// </summary>
        public static GlibcxxPatchResult Patch(byte[] image)
        {
            var result = Analyze(image);
            if (result.Outcome == GlibcxxPatchOutcome.Patched)
            {
                image[result.FlagsOffset] = (byte)(image[result.FlagsOffset] | VerFlagWeak);
            }

            return result;
        }

        /// <summary>
        /// Patches a file in place, atomically. The file is read once; that image is analysed, and the same image, with
        /// its one flags byte changed, is written to a temporary file beside the original (with the original's Unix
        /// permissions), flushed to disk and renamed over the original, so a reader sees the old file or the new one,
        /// never a partial one. A file that needs no change is not written.
        /// </summary>
        public static GlibcxxPatchResult PatchFile(string path) => PatchFile(path, CreateTemporaryFile);

        /// <summary>
        /// <see cref="PatchFile(string)"/>, creating the temporary file with <paramref name="createTemporaryFile"/>
        /// (given the temporary file's path; it must create a new file and return a stream that writes it).
        /// </summary>
        internal static GlibcxxPatchResult PatchFile(string path, Func<string, Stream> createTemporaryFile)
        {
            // The one read: everything below analyses and writes this image, never the file again.
            var image = File.ReadAllBytes(path);
            var result = Patch(image);
            if (result.Outcome != GlibcxxPatchOutcome.Patched)
            {
                return result;
            }

            var mode = UnixFileModes.Get(path);
            var temporary = path + ".latentkit-" + Guid.NewGuid().ToString("N") + ".tmp";
            var created = false;
            try
            {
                using (var stream = createTemporaryFile(temporary))
                {
                    created = true;
                    stream.Write(image, 0, image.Length);
                    if (stream is FileStream file)
                    {
                        file.Flush(true);
                    }
                }

                // Permissions last: a read-only original gives a read-only copy, which must be written first.
                UnixFileModes.Set(temporary, mode);

                // A rename: it replaces a symbolic link (or breaks a hard link) rather than writing through it, so a copy
                // that MSBuild linked to the NuGet cache never changes the cache.
                File.Replace(temporary, path, null);
                created = false;
            }
            finally
            {
                // Only the file this call named and created: never anything else in the folder.
                if (created && File.Exists(temporary))
                {
                    File.Delete(temporary);
                }
            }

            return new GlibcxxPatchResult(
                GlibcxxPatchOutcome.Patched,
                "marked the requirement of " + VersionName + " weak (only the unrelocated marker _ZSt21ios_base_library_initv is bound to it).",
                result.FlagsOffset);
        }

        private static Stream CreateTemporaryFile(string path) => new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);

        private static GlibcxxPatchResult AnalyzeCore(byte[] image)
        {
            var elf = new ElfReader(image);
            if (image.Length < 64 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
            {
                throw new ElfFormatException("no ELF magic number");
            }

            if (image[4] != 2 || image[5] != 1)
            {
                throw new ElfFormatException("only 64-bit little-endian ELF files are supported");
            }

            var sectionOffset = elf.U64(40);
            var sectionSize = elf.U16(58);
            var sectionCount = elf.U16(60);
            if (sectionSize != 64 || sectionCount == 0)
            {
                throw new ElfFormatException("no section headers");
            }

            elf.Require(sectionOffset, (long)sectionSize * sectionCount, "section header table");
            var sections = new Section[sectionCount];
            for (var i = 0; i < sectionCount; i++)
            {
                var at = sectionOffset + (long)i * sectionSize;
                sections[i] = new Section(elf.U32(at + 4), elf.U64(at + 24), elf.U64(at + 32), elf.U32(at + 40), elf.U32(at + 44));
            }

            var verneedIndex = Array.FindIndex(sections, s => s.Type == ShtGnuVerneed);
            if (verneedIndex < 0)
            {
                return new GlibcxxPatchResult(GlibcxxPatchOutcome.NotNeeded, "the file has no version requirements.");
            }

            var verneed = sections[verneedIndex];
            var strings = SectionAt(sections, verneed.Link, ".gnu.version_r string table");
            elf.Require(verneed.Offset, verneed.Size, ".gnu.version_r");

            long flagsOffset = -1;
            ushort versionIndex = 0;
            ushort flags = 0;
            var requirements = 0;
            var entry = verneed.Offset;
            for (uint n = 0; n < verneed.Info; n++)
            {
                elf.Require(entry, 16, "Elf64_Verneed entry");
                var auxCount = elf.U16(entry + 2);
                var aux = entry + elf.U32(entry + 8);
                for (var a = 0; a < auxCount; a++)
                {
                    elf.Require(aux, 16, "Elf64_Vernaux entry");
                    var name = elf.String(strings, elf.U32(aux + 8));
                    if (name == VersionName)
                    {
                        requirements++;
                        flagsOffset = aux + 4;
                        flags = elf.U16(aux + 4);
                        versionIndex = (ushort)(elf.U16(aux + 6) & 0x7fff);
                    }

                    var nextAux = elf.U32(aux + 12);
                    if (nextAux == 0)
                    {
                        break;
                    }

                    aux += nextAux;
                }

                var next = elf.U32(entry + 12);
                if (next == 0)
                {
                    break;
                }

                entry += next;
            }

            if (flagsOffset < 0)
            {
                return new GlibcxxPatchResult(GlibcxxPatchOutcome.NotNeeded, "the file does not require " + VersionName + ".");
            }

            if (requirements > 1)
            {
                return Refuse(VersionName + " is required " + requirements + " times, which this edit does not expect.");
            }

            if (versionIndex < 2)
            {
                throw new ElfFormatException("the requirement of " + VersionName + " has the reserved version index " + versionIndex);
            }

            if ((flags & VerFlagWeak) != 0)
            {
                return new GlibcxxPatchResult(GlibcxxPatchOutcome.AlreadyPatched, "the requirement of " + VersionName + " is already weak.", flagsOffset);
            }

            var versymIndex = Array.FindIndex(sections, s => s.Type == ShtGnuVersym);
            if (versymIndex < 0)
            {
                throw new ElfFormatException("version requirements without a .gnu.version section");
            }

            var versym = sections[versymIndex];
            var dynsymIndex = (int)versym.Link;
            var dynsym = SectionAt(sections, versym.Link, ".gnu.version symbol table");
            if (dynsym.Type != ShtDynsym)
            {
                throw new ElfFormatException(".gnu.version is not linked to .dynsym");
            }

            elf.Require(dynsym.Offset, dynsym.Size, ".dynsym");
            elf.Require(versym.Offset, versym.Size, ".gnu.version");
            var symbolStrings = SectionAt(sections, dynsym.Link, ".dynsym string table");
            var symbolCount = dynsym.Size / 24;
            if (versym.Size / 2 < symbolCount)
            {
                throw new ElfFormatException(".gnu.version is shorter than .dynsym");
            }

            var bound = new Dictionary<long, string>();
            for (long i = 0; i < symbolCount; i++)
            {
                if ((elf.U16(versym.Offset + (i * 2)) & 0x7fff) != versionIndex)
                {
                    continue;
                }

                var symbol = dynsym.Offset + (i * 24);
                var name = elf.String(symbolStrings, elf.U32(symbol));
                if (Array.IndexOf(MarkerSymbols, name) < 0)
                {
                    return Refuse("the symbol '" + name + "' is bound to " + VersionName + "; it is real GCC 13 libstdc++ code, not a marker, so the requirement cannot be made optional.");
                }

                if (elf.U16(symbol + 6) != 0)
                {
                    return Refuse("the marker '" + name + "' is defined in the file itself, which this edit does not expect.");
                }

                bound[i] = name;
            }

            if (bound.Count == 0)
            {
                return Refuse("the marker _ZSt21ios_base_library_initv is missing: no symbol is bound to " + VersionName + ", so the file is not the one this edit was verified on.");
            }

            for (var s = 0; s < sections.Length; s++)
            {
                var section = sections[s];
                if ((section.Type != ShtRela && section.Type != ShtRel) || section.Link != dynsymIndex)
                {
                    continue;
                }

                var size = section.Type == ShtRela ? 24 : 16;
                elf.Require(section.Offset, section.Size, "relocation section");
                for (long r = 0; r + size <= section.Size; r += size)
                {
                    var symbolIndex = (long)(elf.U64(section.Offset + r + 8) >> 32);
                    if (bound.TryGetValue(symbolIndex, out var name))
                    {
                        return Refuse("the marker '" + name + "' is relocated (relocation at file offset 0x" + (section.Offset + r).ToString("x") + "), so something uses it and the requirement cannot be made optional.");
                    }
                }
            }

            return new GlibcxxPatchResult(
                GlibcxxPatchOutcome.Patched,
                "the requirement of " + VersionName + " can be made weak: only the unrelocated marker is bound to it.",
                flagsOffset);
        }

        private static GlibcxxPatchResult Refuse(string reason) => new GlibcxxPatchResult(GlibcxxPatchOutcome.Refused, reason);

        private static Section SectionAt(Section[] sections, uint index, string what)
        {
            if (index == 0 || index >= sections.Length)
            {
                throw new ElfFormatException(what + " refers to section " + index + ", which does not exist");
            }

            return sections[index];
        }

        private readonly struct Section
        {
            public Section(uint type, long offset, long size, uint link, uint info)
            {
                Type = type;
                Offset = offset;
                Size = size;
                Link = link;
                Info = info;
            }

            public uint Type { get; }

            public long Offset { get; }

            public long Size { get; }

            public uint Link { get; }

            public uint Info { get; }
        }

        private sealed class ElfReader
        {
            private readonly byte[] image;

            public ElfReader(byte[] image) => this.image = image;

            public void Require(long offset, long length, string what)
            {
                // Written so that no addition can overflow: offsets come from the file and may be anything.
                if (offset < 0 || length < 0 || offset > image.Length || length > image.Length - offset)
                {
                    throw new ElfFormatException(what + " lies outside the file (offset " + offset + ", " + length + " bytes, file " + image.Length + " bytes)");
                }
            }

            public ushort U16(long at)
            {
                Require(at, 2, "a field");
                return (ushort)(image[at] | (image[at + 1] << 8));
            }

            public uint U32(long at)
            {
                Require(at, 4, "a field");
                return (uint)(image[at] | (image[at + 1] << 8) | (image[at + 2] << 16) | (image[at + 3] << 24));
            }

            public long U64(long at)
            {
                Require(at, 8, "a field");
                var low = (ulong)U32(at);
                var high = (ulong)U32(at + 4);
                var value = low | (high << 32);
                if (value > long.MaxValue)
                {
                    throw new ElfFormatException("a 64-bit field is out of range");
                }

                return (long)value;
            }

            public string String(Section table, uint offset)
            {
                var start = table.Offset + offset;
                Require(table.Offset, table.Size, "string table");
                if (offset >= table.Size)
                {
                    throw new ElfFormatException("a name lies outside its string table");
                }

                var end = start;
                var limit = table.Offset + table.Size;
                while (end < limit && image[end] != 0)
                {
                    end++;
                }

                return Encoding.ASCII.GetString(image, (int)start, (int)(end - start));
            }
        }

        private sealed class ElfFormatException : Exception
        {
            public ElfFormatException(string message)
                : base(message)
            {
            }
        }
    }

    /// <summary>
    /// Unix permission bits through <c>File.GetUnixFileMode</c>/<c>File.SetUnixFileMode</c> (.NET 7 or newer), found by
    /// reflection because an inline task compiles against netstandard2.0, which lacks them. The task only runs on Linux,
    /// where MSBuild runs on .NET 8 or newer. On Windows (where the tests also run the patcher) there are none to keep.
    /// </summary>
    internal static class UnixFileModes
    {
        private static readonly Type? ModeType = Type.GetType("System.IO.UnixFileMode");
        private static readonly System.Reflection.MethodInfo? GetMethod = typeof(File).GetMethod("GetUnixFileMode", new[] { typeof(string) });
        private static readonly System.Reflection.MethodInfo? SetMethod =
            ModeType == null ? null : typeof(File).GetMethod("SetUnixFileMode", new[] { typeof(string), ModeType });

        /// <summary>The permission bits of the file (following a symbolic link), or <see langword="null"/> on Windows.</summary>
        public static object? Get(string path)
        {
            if (System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Windows))
            {
                return null;
            }

            if (GetMethod == null || SetMethod == null)
            {
                throw new PlatformNotSupportedException("this MSBuild runs on a .NET without File.GetUnixFileMode (.NET 7 or newer is needed to keep the library's permissions)");
            }

            return Invoke(GetMethod, path);
        }

        /// <summary>Gives the file the permission bits <paramref name="mode"/> from <see cref="Get"/> (nothing for <see langword="null"/>).</summary>
        public static void Set(string path, object? mode)
        {
            if (mode != null)
            {
                Invoke(SetMethod!, path, mode);
            }
        }

        private static object Invoke(System.Reflection.MethodInfo method, params object[] arguments)
        {
            try
            {
                return method.Invoke(null, arguments)!;
            }
            catch (System.Reflection.TargetInvocationException e) when (e.InnerException != null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
                throw;
            }
        }
    }
}
