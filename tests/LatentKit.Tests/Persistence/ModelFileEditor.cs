using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace LatentKit.Tests.Persistence;

/// <summary>Reads a saved model file's entries and writes edited copies (the tests' hostile user).</summary>
internal static class ModelFileEditor
{
    /// <summary>Every entry of a model file, by name, in archive order.</summary>
    public static List<(string Name, byte[] Bytes)> Entries(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        var entries = new List<(string, byte[])>();
        foreach (var entry in zip.Entries)
        {
            using var stream = entry.Open();
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            entries.Add((entry.FullName, memory.ToArray()));
        }

        return entries;
    }

    public static JsonObject Manifest(string path) => JsonNode.Parse(Entries(path).Single(e => e.Name == "manifest.json").Bytes)!.AsObject();

    /// <summary>Writes <paramref name="target"/>: the entries of <paramref name="source"/> with the manifest edited by <paramref name="edit"/>.</summary>
    public static void EditManifest(string source, string target, Action<JsonObject> edit)
    {
        var entries = Entries(source);
        var manifest = JsonNode.Parse(entries.Single(e => e.Name == "manifest.json").Bytes)!.AsObject();
        edit(manifest);
        Write(target, [("manifest.json", System.Text.Encoding.UTF8.GetBytes(manifest.ToJsonString())), .. entries.Where(e => e.Name != "manifest.json")]);
    }

    /// <summary>Writes a zip of <paramref name="entries"/> (weights stored, the manifest deflated, as LatentKit writes them unless told otherwise).</summary>
    public static void Write(string target, IEnumerable<(string Name, byte[] Bytes)> entries, CompressionLevel weights = CompressionLevel.NoCompression)
    {
        using var file = File.Create(target);
        using var zip = new ZipArchive(file, ZipArchiveMode.Create);
        foreach (var (name, bytes) in entries)
        {
            using var stream = zip.CreateEntry(name, name == "manifest.json" ? CompressionLevel.Optimal : weights).Open();
            stream.Write(bytes);
        }
    }

    /// <summary>Sets the manifest's size and checksum of <paramref name="entry"/> to those of <paramref name="bytes"/>.</summary>
    public static void Describe(JsonObject manifest, string entry, byte[] bytes)
    {
        var row = manifest["weights"]!.AsArray().Single(w => w!["entry"]!.GetValue<string>() == entry)!;
        row["bytes"] = bytes.LongLength;
        row["sha256"] = Convert.ToHexString(SHA256.HashData(bytes));
    }
}
