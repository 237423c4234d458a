using System.Text.Json;
using System.Text.Json.Serialization;

namespace LatentKit.Samples.Common.Results;

/// <summary>
/// Writes result documents (for example <c>results.json</c>) as indented JSON with camelCase names, enums as strings,
/// and NaN or infinities as the strings <c>"NaN"</c>, <c>"Infinity"</c>, <c>"-Infinity"</c> (plain JSON has no such
/// numbers); files are written atomically.
/// </summary>
public static class JsonResultsWriter
{
    /// <summary>The serializer options used for every results file.</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary>The JSON text of <paramref name="value"/>, ending in a newline.</summary>
    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options) + "\n";

    /// <summary>Writes <paramref name="value"/> as JSON to <paramref name="path"/> atomically.</summary>
    /// <exception cref="IOException">The file could not be written.</exception>
    public static void Write<T>(string path, T value) => AtomicFile.WriteAllText(path, Serialize(value));

    /// <summary>Reads a file written by <see cref="Write{T}(string, T)"/> back.</summary>
    /// <exception cref="JsonException">The file is not a valid document of type <typeparamref name="T"/>.</exception>
    public static T? Read<T>(string path) => JsonSerializer.Deserialize<T>(File.ReadAllText(path), Options);

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            WriteIndented = true,
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
            DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
