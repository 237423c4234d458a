namespace LatentKit.Onnx;

/// <summary>Optional settings of an ONNX export. Every setting is checked when the export starts.</summary>
public sealed class OnnxExportOptions
{
    /// <summary>
    /// Classifiers: the class names stored in the metadata, in output order; <see langword="null"/> uses the
    /// classifier's own (the digits "0" to "9" for MNIST). Must have one non-empty name per output.
    /// </summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>
    /// The input normalisation stored in the metadata; <see langword="null"/> uses LatentKit's description of what the
    /// model expects (for images: bytes divided by 255, pixels in [0, 1]; for <see cref="OnnxExport.Module"/>: "none
    /// stated"). Set it when you feed a model data prepared another way.
    /// </summary>
    public string? InputNormalization { get; init; }

    /// <summary>
    /// Extra metadata properties written into the model. Keys must be non-empty and must not start with
    /// <c>latentkit.</c>, which is reserved for <see cref="OnnxMetadataKeys"/>.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>The settings used when none are given.</summary>
    internal static OnnxExportOptions Default { get; } = new();

    /// <summary>Checks every setting against the graph being exported; throws one exception listing every problem.</summary>
    /// <param name="classCount">The classifier's number of outputs; <see langword="null"/> for graphs without classes.</param>
    /// <exception cref="ArgumentException">A setting is invalid; the message names each one and its value.</exception>
    internal void Validate(int? classCount)
    {
        var problems = new List<string>();
        if (ClassNames is { } names)
        {
            if (classCount is null)
            {
                problems.Add("ClassNames is set but the exported graph has no classes (only classifiers take class names)");
            }
            else if (names.Count != classCount)
            {
                problems.Add($"ClassNames has {names.Count} names but the classifier has {classCount} outputs");
            }

            for (var i = 0; i < names.Count; i++)
            {
                if (string.IsNullOrWhiteSpace(names[i]))
                {
                    problems.Add($"ClassNames[{i}] is empty");
                }
            }
        }

        if (InputNormalization is { } normalization && string.IsNullOrWhiteSpace(normalization))
        {
            problems.Add("InputNormalization is empty (leave it null for the default)");
        }

        foreach (var (key, value) in Metadata ?? new Dictionary<string, string>())
        {
            if (string.IsNullOrWhiteSpace(key))
            {
                problems.Add("Metadata has an empty key");
            }
            else if (key.StartsWith("latentkit.", StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"Metadata key '{key}' starts with 'latentkit.', which is reserved for the keys LatentKit writes");
            }

            if (value is null)
            {
                problems.Add($"Metadata['{key}'] is null");
            }
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid ONNX export options: " + string.Join("; ", problems) + ".", "options");
        }
    }
}
