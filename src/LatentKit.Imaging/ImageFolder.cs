using System.Globalization;
using SkiaSharp;

namespace LatentKit.Imaging;

/// <summary>
/// Loads a folder of PNG and JPEG images as a <see cref="Dataset"/> of byte images <c>C x H x W</c> (scaled to [0, 1]
/// when models read them).
/// <list type="bullet">
/// <item>One subfolder per class: the samples are labelled, the classes are the subfolder names sorted by ordinal
/// comparison (or <see cref="ImageFolderOptions.ClassNames"/>), and the images of each class are taken in ordinal
/// file-name order.</item>
/// <item>A flat folder of images without subfolders: the samples are unlabelled (for autoencoders).</item>
/// </list>
/// Files whose names do not end in <c>.png</c>, <c>.jpg</c> or <c>.jpeg</c> (any case), and files and folders whose
/// names start with '.', are ignored; a file with one of those endings that is not a PNG or JPEG image is refused.
/// Every image must have the same size and channels as the first one, unless
/// <see cref="ImageFolderOptions.Width"/>/<see cref="ImageFolderOptions.Height"/> and
/// <see cref="ImageFolderOptions.Channels"/> say what to convert them to. The folder is checked completely (image
/// headers, sizes, the total) before the pixels are decoded and allocated; any problem throws an
/// <see cref="DatasetFormatException"/> naming the image or folder, never a partial dataset. EXIF orientation is not
/// applied: pixels are used as stored. With <see cref="ImageFolderOptions.Streaming"/>, the same checks run at load
/// time, but the pixels are decoded when a batch needs them.
/// </summary>
public static class ImageFolder
{
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg"];

    /// <summary>Loads the images under <paramref name="path"/> into memory (see <see cref="ImageFolder"/> for the layout and rules).</summary>
    /// <param name="path">The folder: one subfolder per class, or images directly in it for unlabelled data.</param>
    /// <param name="options">Size, channels and class names; <see langword="null"/> for the defaults.</param>
    /// <returns>A dataset named after the folder, with shape <c>[C, H, W]</c> and, for class subfolders, labels and class names.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="LatentKitValidationException">An option is invalid (every invalid option is listed).</exception>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist, or the path is a file.</exception>
    /// <exception cref="DatasetFormatException">An image or the folder's layout is wrong (<see cref="DatasetFormatException.File"/> names the image or folder, the message says why). For a streaming dataset, an image whose pixel data turns out to be broken when a batch reads it throws this too, naming the image and the sample.</exception>
    public static Dataset Load(string path, ImageFolderOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        options ??= new ImageFolderOptions();
        options.Validate();
        var root = System.IO.Path.GetFullPath(path);
        if (!Directory.Exists(root))
        {
            var problem = File.Exists(root) ? "is a file, not a folder: give the folder that holds the images (or their class subfolders)." : "does not exist.";
            throw new DirectoryNotFoundException($"Image folder '{root}' {problem}");
        }

        var (files, labels, classNames) = Scan(root, options);
        var layout = Measure(root, files, options);
        if (options.Streaming)
        {
            return Dataset.FromSource(new ImageFolderSource([.. files], labels, classNames, layout), root);
        }

        var pixels = new byte[checked(files.Count * layout.SampleSize)];
        for (var i = 0; i < files.Count; i++)
        {
            Decode(files[i], layout, pixels.AsSpan(i * layout.SampleSize, layout.SampleSize), sampleIndex: null);
        }

        return classNames is null
            ? Dataset.FromImages(pixels, layout.Channels, layout.Height, layout.Width, root)
            : Dataset.FromImages(pixels, layout.Channels, layout.Height, layout.Width, labels, classNames.Count, classNames, root);
    }

    /// <summary>The image files in load order, their labels, and the class names (null for a flat folder).</summary>
    private static (List<string> Files, int[] Labels, IReadOnlyList<string>? ClassNames) Scan(string root, ImageFolderOptions options)
    {
        var folders = Visible(Directory.EnumerateDirectories(root)).Order(StringComparer.Ordinal).ToList();
        var looseImages = Images(root);
        if (folders.Count == 0)
        {
            if (looseImages.Count == 0)
            {
                var problem = Directory.EnumerateFileSystemEntries(root).Any()
                    ? "holds no PNG or JPEG images (only other files, which are ignored); put images in it, or one subfolder of images per class"
                    : "is empty; put images in it, or one subfolder of images per class";
                throw Error(root, problem);
            }

            return (looseImages, [], null);
        }

        if (looseImages.Count > 0)
        {
            throw Error(
                looseImages[0],
                $"the folder has class subfolders ({string.Join(", ", folders.Select(System.IO.Path.GetFileName))}) and also images directly in it; move each image into its class folder, or remove the subfolders for unlabelled data");
        }

        var classNames = options.ClassNames ?? folders.Select(f => System.IO.Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToArray();
        var index = classNames.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
        var files = new List<string>();
        var labels = new List<int>();
        foreach (var folder in folders.OrderBy(f => index.GetValueOrDefault(System.IO.Path.GetFileName(f)!, -1)).ThenBy(f => f, StringComparer.Ordinal))
        {
            var name = System.IO.Path.GetFileName(folder)!;
            if (!index.TryGetValue(name, out var label))
            {
                throw Error(
                    folder,
                    $"class folder '{name}' is not one of the ClassNames given ({string.Join(", ", classNames)}); add it to ClassNames or remove the folder");
            }

            if (Visible(Directory.EnumerateDirectories(folder)).FirstOrDefault() is { } nested)
            {
                throw Error(nested, $"class folder '{name}' holds a subfolder; put the class's images directly in '{folder}' (nested folders are not read)");
            }

            var images = Images(folder);
            if (images.Count == 0)
            {
                throw Error(folder, $"class folder '{name}' holds no PNG or JPEG images; add images or remove the folder");
            }

            files.AddRange(images);
            labels.AddRange(Enumerable.Repeat(label, images.Count));
        }

        return (files, labels.ToArray(), classNames);
    }

    private static IEnumerable<string> Visible(IEnumerable<string> entries) =>
        entries.Where(e => !System.IO.Path.GetFileName(e).StartsWith('.'));

    private static List<string> Images(string folder) =>
        Visible(Directory.EnumerateFiles(folder))
            .Where(f => Extensions.Any(e => f.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>Reads every image's header and fixes the sample layout; checks sizes, channels and the total before anything large is allocated.</summary>
    private static Layout Measure(string root, List<string> files, ImageFolderOptions options)
    {
        if (files.Count > Dataset.MaxSampleCount)
        {
            throw Error(root, $"holds {files.Count} images, more than the {Dataset.MaxSampleCount} a dataset may hold");
        }

        Layout? first = null;
        string? firstFile = null;
        foreach (var file in files)
        {
            using var codec = Open(file);
            var info = codec.Info;
            if ((long)info.Width * info.Height > Dataset.MaxSampleSize)
            {
                throw Error(file, $"is {info.Width} x {info.Height} pixels, more than the {Dataset.MaxSampleSize} an image may have");
            }

            var (height, width) = UprightSize(codec);
            var own = new Layout(ChannelsOf(info), height, width);
            if (first is null)
            {
                first = own;
                firstFile = file;
                continue;
            }

            if (options.Channels is null && own.Channels != first.Channels)
            {
                throw Error(
                    file,
                    $"has {Describe(own.Channels)} but the first image, '{firstFile}', has {Describe(first.Channels)}; convert the images, or set ImageFolderOptions.Channels to convert them when loading");
            }

            if (options.Width is null && (own.Width != first.Width || own.Height != first.Height))
            {
                throw Error(
                    file,
                    $"is {own.Width} x {own.Height} pixels but the first image, '{firstFile}', is {first.Width} x {first.Height}; resize the images, or set ImageFolderOptions.Width and Height to resize them when loading");
            }
        }

        var layout = new Layout(options.Channels ?? first!.Channels, options.Height ?? first!.Height, options.Width ?? first!.Width, options.Width is not null);
        if ((long)layout.SampleSize > Dataset.MaxSampleSize)
        {
            throw Error(root, $"samples of {layout.Channels} x {layout.Height} x {layout.Width} values are more than the {Dataset.MaxSampleSize} a sample may have");
        }

        if ((long)layout.SampleSize * files.Count > Array.MaxLength)
        {
            throw Error(
                root,
                $"{files.Count} images of {layout.Channels} x {layout.Height} x {layout.Width} bytes ({(long)layout.SampleSize * files.Count} bytes) do not fit in memory as one dataset; use fewer or smaller images (ImageFolderOptions.Width/Height)");
        }

        return layout;
    }

    private static SKCodec Open(string file, int? sampleIndex = null)
    {
        var codec = SKCodec.Create(file, out var result);
        if (codec is null)
        {
            var length = new FileInfo(file).Length;
            throw Error(file, sampleIndex, length == 0 ? "is empty (0 bytes); remove it or replace it with a PNG or JPEG image" : $"cannot be decoded: it is not a valid PNG or JPEG image (SkiaSharp: {result}); remove or replace it");
        }

        if (codec.EncodedFormat is not (SKEncodedImageFormat.Png or SKEncodedImageFormat.Jpeg))
        {
            var format = codec.EncodedFormat;
            codec.Dispose();
            throw Error(file, sampleIndex, $"is a {format} image, not PNG or JPEG; convert it to PNG or JPEG");
        }

        return codec;
    }

    /// <summary>Height and width of the image as shown: a JPEG's EXIF orientation 5 to 8 turns it a quarter, swapping them.</summary>
    private static (int Height, int Width) UprightSize(SKCodec codec) => Transposes(codec.EncodedOrigin)
        ? (codec.Info.Width, codec.Info.Height)
        : (codec.Info.Height, codec.Info.Width);

    private static bool Transposes(SKEncodedOrigin origin) =>
        origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;

    /// <summary>
    /// <paramref name="encoded"/> (RGBA) turned upright as <paramref name="origin"/> (the EXIF orientation, where the
    /// stored rows and columns lie in the picture) says, pixel for pixel with no resampling; <see langword="null"/> when
    /// it already is (<see cref="SKEncodedOrigin.TopLeft"/>, also the value for images without EXIF data).
    /// </summary>
    internal static SKBitmap? Upright(SKBitmap encoded, SKEncodedOrigin origin)
    {
        if (origin is SKEncodedOrigin.TopLeft or not (>= SKEncodedOrigin.TopLeft and <= SKEncodedOrigin.LeftBottom))
        {
            return null;
        }

        var (w, h) = (encoded.Width, encoded.Height);
        var (width, height) = Transposes(origin) ? (h, w) : (w, h);
        var result = new SKBitmap(new SKImageInfo(width, height, encoded.ColorType, encoded.AlphaType));
        var source = encoded.GetPixelSpan();
        var target = result.GetPixelSpan();
        var (sourceRow, targetRow) = (encoded.RowBytes, result.RowBytes);
        for (var v = 0; v < height; v++)
        {
            for (var u = 0; u < width; u++)
            {
                // The stored pixel shown at column u, row v.
                var (x, y) = origin switch
                {
                    SKEncodedOrigin.TopRight => (w - 1 - u, v),
                    SKEncodedOrigin.BottomRight => (w - 1 - u, h - 1 - v),
                    SKEncodedOrigin.BottomLeft => (u, h - 1 - v),
                    SKEncodedOrigin.LeftTop => (v, u),
                    SKEncodedOrigin.RightTop => (v, h - 1 - u),
                    SKEncodedOrigin.RightBottom => (w - 1 - v, h - 1 - u),
                    _ => (w - 1 - v, u), // LeftBottom
                };
                source.Slice((y * sourceRow) + (x * 4), 4).CopyTo(target.Slice((v * targetRow) + (u * 4), 4));
            }
        }

        return result;
    }

    private static int ChannelsOf(SKImageInfo info) =>
        info.ColorType is SKColorType.Gray8 ? 1 : info.AlphaType is SKAlphaType.Opaque ? 3 : 4;

    private static string Describe(int channels) => channels switch
    {
        1 => "1 channel (grey)",
        3 => "3 channels (colour)",
        _ => "4 channels (colour with alpha)",
    };

    /// <summary>
    /// Decodes one image to RGBA (alpha not premultiplied), turns it upright as its EXIF orientation says, resizes it
    /// if needed, and writes it planar (<c>C x H x W</c>) into <paramref name="target"/>.
    /// </summary>
    internal static void Decode(string file, Layout layout, Span<byte> target, int? sampleIndex)
    {
        using var codec = Open(file, sampleIndex);
        var encodedInfo = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var encoded = new SKBitmap(encodedInfo);
        var result = codec.GetPixels(encodedInfo, encoded.GetPixels());
        if (result != SKCodecResult.Success)
        {
            throw Error(
                file,
                sampleIndex,
                result == SKCodecResult.IncompleteInput
                    ? "is truncated (the image data ends early); replace it with a complete file"
                    : $"cannot be decoded: its image data is damaged (SkiaSharp: {result}); remove or replace it");
        }

        using var upright = Upright(encoded, codec.EncodedOrigin);
        var decoded = upright ?? encoded;
        var sourceInfo = decoded.Info;
        var bitmap = decoded;
        SKBitmap? resized = null;
        if (layout.Width != sourceInfo.Width || layout.Height != sourceInfo.Height)
        {
            if (!layout.Resizes)
            {
                throw Error(file, sampleIndex, $"is now {sourceInfo.Width} x {sourceInfo.Height} pixels but was {layout.Width} x {layout.Height} when the folder was loaded; do not change the images of a streaming dataset while it is used");
            }

            resized = decoded.Resize(sourceInfo.WithSize(layout.Width, layout.Height), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear))
                ?? throw Error(file, sampleIndex, string.Create(CultureInfo.InvariantCulture, $"could not be resized to {layout.Width} x {layout.Height}"));
            bitmap = resized;
        }

        try
        {
            WritePlanar(bitmap, layout, target);
        }
        finally
        {
            resized?.Dispose();
        }
    }

    private static void WritePlanar(SKBitmap bitmap, Layout layout, Span<byte> target)
    {
        var pixels = bitmap.GetPixelSpan();
        var rowBytes = bitmap.RowBytes;
        var plane = layout.Height * layout.Width;
        for (var y = 0; y < layout.Height; y++)
        {
            var row = pixels.Slice(y * rowBytes, layout.Width * 4);
            for (var x = 0; x < layout.Width; x++)
            {
                var p = row.Slice(x * 4, 4);
                var at = (y * layout.Width) + x;
                if (layout.Channels == 1)
                {
                    // Integer luma: exact for grey pixels (R = G = B = v gives v).
                    target[at] = (byte)(((299 * p[0]) + (587 * p[1]) + (114 * p[2]) + 500) / 1000);
                    continue;
                }

                for (var c = 0; c < layout.Channels; c++)
                {
                    target[(c * plane) + at] = p[c];
                }
            }
        }
    }

    private static DatasetFormatException Error(string path, string problem) => new(path, problem);

    private static DatasetFormatException Error(string path, int? sampleIndex, string problem) => new(path, problem, sampleIndex: sampleIndex);

    /// <summary>The shape every sample has after conversion.</summary>
    internal sealed record Layout(int Channels, int Height, int Width, bool Resizes = false)
    {
        public int SampleSize => Channels * Height * Width;
    }
}
