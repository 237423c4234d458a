namespace LatentKit.Imaging;

/// <summary>
/// How <see cref="ImageFolder.Load(string, ImageFolderOptions?)"/> turns image files into samples. Every setting is
/// optional: by default the images keep their own size and channels, which must then be the same for all of them.
/// </summary>
public sealed record ImageFolderOptions
{
    /// <summary>The largest <see cref="Width"/> or <see cref="Height"/> accepted: 4096.</summary>
    public const int MaxSide = 4096;

    /// <summary>
    /// Channels per sample: 1 (grey, from colour by the luma weights 0.299 R + 0.587 G + 0.114 B), 3 (RGB; alpha
    /// dropped, grey repeated) or 4 (RGBA, alpha not premultiplied). <see langword="null"/> (the default) keeps each
    /// image's own channels (grey 1, opaque colour 3, colour with alpha 4) and refuses an image whose channels differ
    /// from the first one's.
    /// </summary>
    public int? Channels { get; init; }

    /// <summary>
    /// Width every image is resized to (bilinear with mipmaps), together with <see cref="Height"/>; both or neither.
    /// <see langword="null"/> (the default) keeps each image's size and refuses an image whose size differs from the
    /// first one's.
    /// </summary>
    public int? Width { get; init; }

    /// <summary>Height every image is resized to, together with <see cref="Width"/>; see <see cref="Width"/>.</summary>
    public int? Height { get; init; }

    /// <summary>
    /// The classes in label order. <see langword="null"/> (the default): the subfolder names sorted by ordinal
    /// comparison. When given, every subfolder must be one of these names, and a listed class may have no folder (so a
    /// test folder lacking a class keeps the training folder's labels). Ignored for a flat (unlabelled) folder.
    /// </summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>
    /// Whether to decode the images when a batch needs them instead of all at load time (default
    /// <see langword="false"/>). A streaming dataset holds only the file names and labels; training holds a few batches
    /// of decoded images, whatever the folder's size, at the price of decoding every image again in every epoch. Load
    /// still reads every image's header and refuses a bad folder at once; an image whose pixel data is broken, or that
    /// changes size after loading, throws a <see cref="DatasetFormatException"/> naming it and the sample when a batch reads it.
    /// </summary>
    public bool Streaming { get; init; }

    /// <summary>
    /// Checks every setting and reports all invalid ones at once in a <see cref="LatentKitValidationException"/>
    /// (<see cref="LatentKitValidationException.Errors"/>: setting, value, rule).
    /// </summary>
    /// <exception cref="LatentKitValidationException">One or more settings are invalid.</exception>
    public void Validate()
    {
        var errors = new List<ValidationError>();
        if (Channels is { } c && c is not (1 or 3 or 4))
        {
            errors.Add(new(nameof(Channels), Show(c), $"Channels = {c}: must be 1, 3 or 4 (or null to keep the images' own channels)."));
        }

        if (Width.HasValue != Height.HasValue)
        {
            var (name, value) = Width.HasValue ? (nameof(Height), Height) : (nameof(Width), Width);
            errors.Add(new(name, Show(value), $"Width = {Show(Width)}, Height = {Show(Height)}: give both or neither."));
        }

        foreach (var (name, value) in new[] { (nameof(Width), Width), (nameof(Height), Height) })
        {
            if (value is { } v && (v < 1 || v > MaxSide))
            {
                errors.Add(new(name, Show(v), $"{name} = {v}: must be 1..{MaxSide}."));
            }
        }

        if (ClassNames is not null)
        {
            if (ClassNames.Count == 0)
            {
                errors.Add(new(nameof(ClassNames), "[]", "ClassNames is empty: give at least one class name, or null to use the subfolder names."));
            }

            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < ClassNames.Count; i++)
            {
                var name = ClassNames[i];
                if (string.IsNullOrWhiteSpace(name))
                {
                    errors.Add(new($"ClassNames[{i}]", $"'{name}'", $"ClassNames[{i}] = '{name}': must not be empty."));
                }
                else if (!seen.Add(name))
                {
                    errors.Add(new($"ClassNames[{i}]", $"'{name}'", $"ClassNames[{i}] = '{name}': appears twice."));
                }
            }
        }

        if (errors.Count > 0)
        {
            throw new LatentKitValidationException(errors);
        }
    }

    private static string Show(int? value) => value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null";
}
