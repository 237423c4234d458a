using LatentKit.Samples.Common.Results;
using SkiaSharp;

namespace LatentKit.Samples.Common.Imaging;

/// <summary>
/// Renders rows of grey-scale images (MNIST digits, reconstructions, samples) into one grey-scale PNG: for example
/// 16 originals in a row above their 16 reconstructions, or a k x k grid of digits sampled from a prior. A pixel
/// value of 0 is drawn black and 1 (or 255) white, as MNIST stores ink; each source pixel becomes a
/// <see cref="DigitGridOptions.Scale"/>-sized square, and <see cref="DigitGridOptions.Padding"/> pixels of
/// <see cref="DigitGridOptions.PaddingGrey"/> surround every image. Rows may differ in length; the picture is as wide
/// as the longest row.
/// </summary>
public static class DigitGrid
{
    /// <summary>Renders rows of images with values in [0, 1] (values outside are clamped, NaN is drawn black) into PNG bytes.</summary>
    /// <param name="rows">The rows, top to bottom; each image holds <see cref="DigitGridOptions.PixelsPerImage"/> values, row-major.</param>
    /// <param name="options">Layout; <see cref="DigitGridOptions.Mnist"/> when null.</param>
    /// <exception cref="ArgumentException">There are no images, or an image has the wrong number of pixels.</exception>
    public static byte[] RenderPng(IReadOnlyList<IReadOnlyList<ReadOnlyMemory<float>>> rows, DigitGridOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return Render(rows, options ?? DigitGridOptions.Mnist, static (image, i) => ToGrey(image.Span[i]), static image => image.Length);
    }

    /// <summary>Renders rows of images with byte values (0 black .. 255 white) into PNG bytes.</summary>
    /// <param name="rows">The rows, top to bottom; each image holds <see cref="DigitGridOptions.PixelsPerImage"/> bytes, row-major.</param>
    /// <param name="options">Layout; <see cref="DigitGridOptions.Mnist"/> when null.</param>
    /// <exception cref="ArgumentException">There are no images, or an image has the wrong number of pixels.</exception>
    public static byte[] RenderPng(IReadOnlyList<IReadOnlyList<ReadOnlyMemory<byte>>> rows, DigitGridOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return Render(rows, options ?? DigitGridOptions.Mnist, static (image, i) => image.Span[i], static image => image.Length);
    }

    /// <summary>
    /// Renders images with values in [0, 1] as a grid of <paramref name="columns"/> per row, filled row by row
    /// (for example 64 samples as an 8 x 8 grid).
    /// </summary>
    /// <param name="images">All values, image after image, <see cref="DigitGridOptions.PixelsPerImage"/> per image.</param>
    /// <param name="columns">Images per row.</param>
    /// <param name="options">Layout; <see cref="DigitGridOptions.Mnist"/> when null.</param>
    /// <exception cref="ArgumentException">The length is not a whole number of images, or there are none.</exception>
    public static byte[] RenderGridPng(ReadOnlyMemory<float> images, int columns, DigitGridOptions? options = null)
    {
        options ??= DigitGridOptions.Mnist;
        return RenderPng(ToRows(images, columns, options), options);
    }

    /// <summary>Renders images with byte values as a grid of <paramref name="columns"/> per row, filled row by row.</summary>
    /// <param name="images">All bytes, image after image, <see cref="DigitGridOptions.PixelsPerImage"/> per image.</param>
    /// <param name="columns">Images per row.</param>
    /// <param name="options">Layout; <see cref="DigitGridOptions.Mnist"/> when null.</param>
    /// <exception cref="ArgumentException">The length is not a whole number of images, or there are none.</exception>
    public static byte[] RenderGridPng(ReadOnlyMemory<byte> images, int columns, DigitGridOptions? options = null)
    {
        options ??= DigitGridOptions.Mnist;
        return RenderPng(ToRows(images, columns, options), options);
    }

    /// <summary>Splits a flat buffer of images into rows of <paramref name="columns"/> images (the last row may be shorter).</summary>
    /// <exception cref="ArgumentException">The length is not a whole, positive number of images.</exception>
    public static IReadOnlyList<IReadOnlyList<ReadOnlyMemory<T>>> ToRows<T>(ReadOnlyMemory<T> images, int columns, DigitGridOptions? options = null)
    {
        options ??= DigitGridOptions.Mnist;
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        var size = options.PixelsPerImage;
        if (images.Length == 0 || images.Length % size != 0)
        {
            throw new ArgumentException($"{images.Length} values are not a whole, positive number of {size}-pixel images.", nameof(images));
        }

        var count = images.Length / size;
        var rows = new List<IReadOnlyList<ReadOnlyMemory<T>>>();
        for (var start = 0; start < count; start += columns)
        {
            var row = new List<ReadOnlyMemory<T>>();
            for (var i = start; i < Math.Min(start + columns, count); i++)
            {
                row.Add(images.Slice(i * size, size));
            }

            rows.Add(row);
        }

        return rows;
    }

    /// <summary>Renders as <see cref="RenderPng(IReadOnlyList{IReadOnlyList{ReadOnlyMemory{float}}}, DigitGridOptions?)"/> and writes the PNG atomically.</summary>
    public static void SavePng(string path, IReadOnlyList<IReadOnlyList<ReadOnlyMemory<float>>> rows, DigitGridOptions? options = null) =>
        AtomicFile.WriteAllBytes(path, RenderPng(rows, options));

    /// <summary>Renders as <see cref="RenderPng(IReadOnlyList{IReadOnlyList{ReadOnlyMemory{byte}}}, DigitGridOptions?)"/> and writes the PNG atomically.</summary>
    public static void SavePng(string path, IReadOnlyList<IReadOnlyList<ReadOnlyMemory<byte>>> rows, DigitGridOptions? options = null) =>
        AtomicFile.WriteAllBytes(path, RenderPng(rows, options));

    /// <summary>Maps a value in [0, 1] to a grey level 0..255 (clamped; NaN is 0).</summary>
    public static byte ToGrey(float value) =>
        float.IsNaN(value) ? (byte)0 : (byte)MathF.Round(Math.Clamp(value, 0f, 1f) * 255f, MidpointRounding.AwayFromZero);

    private static byte[] Render<T>(
        IReadOnlyList<IReadOnlyList<T>> rows,
        DigitGridOptions options,
        Func<T, int, byte> pixel,
        Func<T, int> length)
    {
        options.Validate();
        var columns = rows.Count == 0 ? 0 : rows.Max(r => r?.Count ?? 0);
        if (columns == 0)
        {
            throw new ArgumentException("There are no images to render.", nameof(rows));
        }

        var cellWidth = options.ImageWidth * options.Scale;
        var cellHeight = options.ImageHeight * options.Scale;
        var width = options.Padding + (columns * (cellWidth + options.Padding));
        var height = options.Padding + (rows.Count * (cellHeight + options.Padding));

        var grey = new byte[width * height];
        Array.Fill(grey, options.PaddingGrey);
        for (var r = 0; r < rows.Count; r++)
        {
            var row = rows[r] ?? throw new ArgumentException($"Row {r} is null.", nameof(rows));
            for (var c = 0; c < row.Count; c++)
            {
                var image = row[c];
                if (length(image) != options.PixelsPerImage)
                {
                    throw new ArgumentException(
                        $"Image {c} of row {r} has {length(image)} pixels; {options.ImageWidth} x {options.ImageHeight} needs {options.PixelsPerImage}.",
                        nameof(rows));
                }

                var left = options.Padding + (c * (cellWidth + options.Padding));
                var top = options.Padding + (r * (cellHeight + options.Padding));
                for (var y = 0; y < cellHeight; y++)
                {
                    var sourceRow = (y / options.Scale) * options.ImageWidth;
                    var target = ((top + y) * width) + left;
                    for (var x = 0; x < cellWidth; x++)
                    {
                        grey[target + x] = pixel(image, sourceRow + (x / options.Scale));
                    }
                }
            }
        }

        return EncodeGreyPng(grey, width, height);
    }

    /// <summary>Encodes a row-major buffer of grey levels as a grey-scale PNG.</summary>
    internal static byte[] EncodeGreyPng(byte[] grey, int width, int height)
    {
        var info = new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        var handle = bitmap.GetPixels();
        var rowBytes = bitmap.RowBytes;
        for (var y = 0; y < height; y++)
        {
            System.Runtime.InteropServices.Marshal.Copy(grey, y * width, handle + (y * rowBytes), width);
        }

        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new InvalidOperationException("SkiaSharp could not encode the grid as PNG.");
        return data.ToArray();
    }
}
