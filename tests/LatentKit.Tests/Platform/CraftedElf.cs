using System.Buffers.Binary;
using System.Text;

namespace LatentKit.Tests.Platform;

/// <summary>
/// Builds, in memory, a minimal ELF64 little-endian shared object shaped like TorchSharp's <c>libLibTorchSharp.so</c>
/// where it matters to the GLIBCXX_3.4.32 edit: <c>.dynstr</c>, <c>.dynsym</c> (null symbol, an ordinary import bound to
/// <c>GLIBCXX_3.4</c>, and the undefined marker bound to <c>GLIBCXX_3.4.32</c>), <c>.gnu.version</c>,
/// <c>.gnu.version_r</c> (one <c>libstdc++.so.6</c> requirement), <c>.rela.dyn</c> (a relocation against the ordinary
/// symbol), <c>.dynamic</c>, <c>.shstrtab</c>, PT_LOAD and PT_DYNAMIC program headers, and the section header table last
/// in the file.
/// <c>readelf -V -r --dyn-syms</c> reads it as it reads the real library.
/// </summary>
public sealed class CraftedElf
{
    /// <summary>The marker GCC 13 binds to GLIBCXX_3.4.32.</summary>
    public const string Marker = "_ZSt21ios_base_library_initv";

    /// <summary>An ordinary import bound to GLIBCXX_3.4 (std::ios_base::Init::Init()).</summary>
    public const string OrdinarySymbol = "_ZNSt8ios_base4InitC1Ev";

    /// <summary>The version index the GLIBCXX_3.4.32 requirement gets (vna_other).</summary>
    public const ushort RequirementVersionIndex = 3;

    private const ushort OrdinaryVersionIndex = 2;

    private (long Offset, int Size) dynamicRange;

    /// <summary>Name of the symbol bound to GLIBCXX_3.4.32 (the marker unless a test says otherwise).</summary>
    public string BoundSymbol { get; init; } = Marker;

    /// <summary>Adds a relocation (R_X86_64_GLOB_DAT) against the symbol bound to GLIBCXX_3.4.32.</summary>
    public bool RelocateMarker { get; init; }

    /// <summary>Leaves the bound symbol out of <c>.dynsym</c>: nothing is bound to GLIBCXX_3.4.32.</summary>
    public bool OmitMarker { get; init; }

    /// <summary>Leaves the GLIBCXX_3.4.32 requirement out of <c>.gnu.version_r</c> (and the marker with it).</summary>
    public bool OmitRequirement { get; init; }

    /// <summary>Makes the marker a defined symbol (st_shndx of a real section) instead of an undefined one.</summary>
    public bool DefineMarker { get; init; }

    /// <summary>Marks the identification as ELFCLASS32.</summary>
    public bool ThirtyTwoBit { get; init; }

    /// <summary>Sets VER_FLG_WEAK on the requirement from the start.</summary>
    public bool AlreadyWeak { get; init; }

    /// <summary>Offset, in the built image, of the vna_flags field of the GLIBCXX_3.4.32 requirement (-1 when omitted).</summary>
    public long RequirementFlagsOffset { get; private set; } = -1;

    /// <summary>Offset of the e_shoff field in the ELF header.</summary>
    public const int SectionHeaderOffsetField = 40;

    /// <summary>Builds the image.</summary>
    public byte[] Build()
    {
        // ELF header, then a PT_LOAD program header that maps the whole file at address = offset and a PT_DYNAMIC one
        // (both filled in last).
        var buffer = new List<byte>(new byte[64 + (2 * 56)]);

        // .dynstr
        var dynstr = new StringTable();
        var libstdcxx = dynstr.Add("libstdc++.so.6");
        var glibcxx34 = dynstr.Add("GLIBCXX_3.4");
        var glibcxx3432 = dynstr.Add("GLIBCXX_3.4.32");
        var ordinaryName = dynstr.Add(OrdinarySymbol);
        var boundName = dynstr.Add(BoundSymbol);
        var dynstrOffset = Append(buffer, dynstr.Bytes, 1);

        // .dynsym: null, ordinary import, and (unless omitted) the symbol bound to GLIBCXX_3.4.32.
        var hasBound = !OmitMarker && !OmitRequirement;
        var symbols = new List<byte>();
        symbols.AddRange(new byte[24]);
        symbols.AddRange(Symbol(ordinaryName, shndx: 0));
        if (hasBound)
        {
            symbols.AddRange(Symbol(boundName, shndx: DefineMarker ? (ushort)1 : (ushort)0));
        }

        var dynsymOffset = Append(buffer, symbols.ToArray(), 8);

        // .gnu.version
        var versym = new List<byte>();
        versym.AddRange(U16(0));
        versym.AddRange(U16(OrdinaryVersionIndex));
        if (hasBound)
        {
            versym.AddRange(U16(RequirementVersionIndex));
        }

        var versymOffset = Append(buffer, versym.ToArray(), 2);

        // .gnu.version_r: one Elf64_Verneed for libstdc++.so.6 and its Elf64_Vernaux entries.
        var auxCount = OmitRequirement ? 1 : 2;
        var verneed = new List<byte>();
        verneed.AddRange(U16(1));
        verneed.AddRange(U16((ushort)auxCount));
        verneed.AddRange(U32(libstdcxx));
        verneed.AddRange(U32(16));
        verneed.AddRange(U32(0));
        verneed.AddRange(Vernaux("GLIBCXX_3.4", glibcxx34, 0, OrdinaryVersionIndex, last: auxCount == 1));
        var flagsWithinVerneed = -1;
        if (!OmitRequirement)
        {
            flagsWithinVerneed = verneed.Count + 4;
            verneed.AddRange(Vernaux("GLIBCXX_3.4.32", glibcxx3432, AlreadyWeak ? (ushort)2 : (ushort)0, RequirementVersionIndex, last: true));
        }

        var verneedOffset = Append(buffer, verneed.ToArray(), 8);
        RequirementFlagsOffset = flagsWithinVerneed < 0 ? -1 : verneedOffset + flagsWithinVerneed;

        // .rela.dyn: R_X86_64_GLOB_DAT against the ordinary symbol, and optionally against the bound symbol.
        var rela = new List<byte>();
        rela.AddRange(Rela(0x1000, 1));
        if (RelocateMarker && hasBound)
        {
            rela.AddRange(Rela(0x1008, 2));
        }

        var relaOffset = Append(buffer, rela.ToArray(), 8);

        // .dynamic: what the dynamic loader (and readelf) use to find the tables above.
        var dynamic = new List<byte>();
        foreach (var (tag, value) in new (ulong, long)[]
                 {
                     (1, libstdcxx), // DT_NEEDED
                     (5, dynstrOffset), (10, dynstr.Bytes.Length), // DT_STRTAB, DT_STRSZ
                     (6, dynsymOffset), (11, 24), // DT_SYMTAB, DT_SYMENT
                     (7, relaOffset), (8, rela.Count), (9, 24), // DT_RELA, DT_RELASZ, DT_RELAENT
                     (0x6ffffff0, versymOffset), // DT_VERSYM
                     (0x6ffffffe, verneedOffset), (0x6fffffff, 1), // DT_VERNEED, DT_VERNEEDNUM
                     (0, 0), // DT_NULL
                 })
        {
            dynamic.AddRange(U64(tag));
            dynamic.AddRange(U64((ulong)value));
        }

        var dynamicOffset = Append(buffer, dynamic.ToArray(), 8);
        dynamicRange = (dynamicOffset, dynamic.Count);

        // .shstrtab
        var shstr = new StringTable();
        var names = new[] { shstr.Add(".dynstr"), shstr.Add(".dynsym"), shstr.Add(".gnu.version"), shstr.Add(".gnu.version_r"), shstr.Add(".rela.dyn"), shstr.Add(".dynamic"), shstr.Add(".shstrtab") };
        var shstrOffset = Append(buffer, shstr.Bytes, 1);

        // Section header table, last in the file.
        var headers = new List<byte>();
        headers.AddRange(new byte[64]);
        headers.AddRange(SectionHeader(names[0], 3, 0x2, dynstrOffset, dynstr.Bytes.Length, 0, 0, 1, 0));
        headers.AddRange(SectionHeader(names[1], 11, 0x2, dynsymOffset, symbols.Count, 1, 1, 8, 24));
        headers.AddRange(SectionHeader(names[2], 0x6fffffff, 0x2, versymOffset, versym.Count, 2, 0, 2, 2));
        headers.AddRange(SectionHeader(names[3], 0x6ffffffe, 0x2, verneedOffset, verneed.Count, 1, 1, 8, 0));
        headers.AddRange(SectionHeader(names[4], 4, 0x2, relaOffset, rela.Count, 2, 0, 8, 24));
        headers.AddRange(SectionHeader(names[5], 6, 0x3, dynamicOffset, dynamic.Count, 1, 0, 8, 16));
        headers.AddRange(SectionHeader(names[6], 3, 0, shstrOffset, shstr.Bytes.Length, 0, 0, 1, 0));
        var sectionHeaderOffset = Append(buffer, headers.ToArray(), 8);
        const ushort sectionCount = 8;

        var image = buffer.ToArray();
        WriteHeader(image, sectionHeaderOffset, sectionCount, shstrndx: 7);
        return image;
    }

    private void WriteHeader(byte[] image, long sectionHeaderOffset, ushort sectionCount, ushort shstrndx)
    {
        var program = image.AsSpan(64, 56);
        BinaryPrimitives.WriteUInt32LittleEndian(program, 1); // PT_LOAD
        BinaryPrimitives.WriteUInt32LittleEndian(program[4..], 4); // PF_R
        BinaryPrimitives.WriteUInt64LittleEndian(program[32..], (ulong)image.Length); // p_filesz
        BinaryPrimitives.WriteUInt64LittleEndian(program[40..], (ulong)image.Length); // p_memsz
        BinaryPrimitives.WriteUInt64LittleEndian(program[48..], 0x1000); // p_align
        program = image.AsSpan(64 + 56, 56);
        BinaryPrimitives.WriteUInt32LittleEndian(program, 2); // PT_DYNAMIC
        BinaryPrimitives.WriteUInt32LittleEndian(program[4..], 6); // PF_R | PF_W
        BinaryPrimitives.WriteUInt64LittleEndian(program[8..], (ulong)dynamicRange.Offset); // p_offset
        BinaryPrimitives.WriteUInt64LittleEndian(program[16..], (ulong)dynamicRange.Offset); // p_vaddr
        BinaryPrimitives.WriteUInt64LittleEndian(program[24..], (ulong)dynamicRange.Offset); // p_paddr
        BinaryPrimitives.WriteUInt64LittleEndian(program[32..], (ulong)dynamicRange.Size); // p_filesz
        BinaryPrimitives.WriteUInt64LittleEndian(program[40..], (ulong)dynamicRange.Size); // p_memsz
        BinaryPrimitives.WriteUInt64LittleEndian(program[48..], 8); // p_align

        var header = image.AsSpan(0, 64);
        header[0] = 0x7f;
        header[1] = (byte)'E';
        header[2] = (byte)'L';
        header[3] = (byte)'F';
        header[4] = ThirtyTwoBit ? (byte)1 : (byte)2; // EI_CLASS
        header[5] = 1; // EI_DATA: little-endian
        header[6] = 1; // EI_VERSION
        BinaryPrimitives.WriteUInt16LittleEndian(header[16..], 3); // ET_DYN
        BinaryPrimitives.WriteUInt16LittleEndian(header[18..], 62); // EM_X86_64
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], 1); // EV_CURRENT
        BinaryPrimitives.WriteUInt64LittleEndian(header[32..], 64); // e_phoff
        BinaryPrimitives.WriteUInt64LittleEndian(header[SectionHeaderOffsetField..], (ulong)sectionHeaderOffset);
        BinaryPrimitives.WriteUInt16LittleEndian(header[52..], 64); // e_ehsize
        BinaryPrimitives.WriteUInt16LittleEndian(header[54..], 56); // e_phentsize
        BinaryPrimitives.WriteUInt16LittleEndian(header[56..], 2); // e_phnum
        BinaryPrimitives.WriteUInt16LittleEndian(header[58..], 64); // e_shentsize
        BinaryPrimitives.WriteUInt16LittleEndian(header[60..], sectionCount);
        BinaryPrimitives.WriteUInt16LittleEndian(header[62..], shstrndx);
    }

    private static long Append(List<byte> buffer, byte[] bytes, int alignment)
    {
        while (buffer.Count % alignment != 0)
        {
            buffer.Add(0);
        }

        var offset = buffer.Count;
        buffer.AddRange(bytes);
        return offset;
    }

    private static byte[] Symbol(uint name, ushort shndx)
    {
        var symbol = new byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(symbol, name);
        symbol[4] = 0x12; // STB_GLOBAL, STT_FUNC
        BinaryPrimitives.WriteUInt16LittleEndian(symbol.AsSpan(6), shndx);
        return symbol;
    }

    private static byte[] Vernaux(string name, uint nameOffset, ushort flags, ushort index, bool last)
    {
        var aux = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(aux, ElfHash(name));
        BinaryPrimitives.WriteUInt16LittleEndian(aux.AsSpan(4), flags);
        BinaryPrimitives.WriteUInt16LittleEndian(aux.AsSpan(6), index);
        BinaryPrimitives.WriteUInt32LittleEndian(aux.AsSpan(8), nameOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(aux.AsSpan(12), last ? 0u : 16u);
        return aux;
    }

    private static byte[] Rela(ulong offset, ulong symbol)
    {
        var rela = new byte[24];
        BinaryPrimitives.WriteUInt64LittleEndian(rela, offset);
        BinaryPrimitives.WriteUInt64LittleEndian(rela.AsSpan(8), (symbol << 32) | 6); // R_X86_64_GLOB_DAT
        return rela;
    }

    private static byte[] SectionHeader(uint name, uint type, ulong flags, long offset, long size, uint link, uint info, ulong align, ulong entsize)
    {
        var header = new byte[64];
        BinaryPrimitives.WriteUInt32LittleEndian(header, name);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), type);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(8), flags);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(16), (ulong)offset); // sh_addr = offset, as in a real .so
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(24), (ulong)offset);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(32), (ulong)size);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(40), link);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(44), info);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(48), align);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(56), entsize);
        return header;
    }

    private static byte[] U16(ushort value)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] U64(ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] U32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }

    /// <summary>The SysV ELF hash that vna_hash holds.</summary>
    private static uint ElfHash(string name)
    {
        uint h = 0;
        foreach (var c in Encoding.ASCII.GetBytes(name))
        {
            h = (h << 4) + c;
            var g = h & 0xf0000000;
            if (g != 0)
            {
                h ^= g >> 24;
            }

            h &= ~g;
        }

        return h;
    }

    private sealed class StringTable
    {
        private readonly List<byte> bytes = new() { 0 };

        public byte[] Bytes => bytes.ToArray();

        public uint Add(string value)
        {
            var offset = (uint)bytes.Count;
            bytes.AddRange(Encoding.ASCII.GetBytes(value));
            bytes.Add(0);
            return offset;
        }
    }
}
