using LatentKit.Samples.Common.Imaging;
using SkiaSharp;

namespace LatentKit.Samples.Tests.Common;

public class DigitGridTests
{
    // A 28 x 28 image whose value is known at every pixel: row y, column x -> (x + y) / 54.
    private static float[] Ramp()
    {
        var image = new float[28 * 28];
        for (var y = 0; y < 28; y++)
        {
            for (var x = 0; x < 28; x++)
            {
                image[(y * 28) + x] = (x + y) / 54f;
            }
        }

        return image;
    }

    private static float[] Constant(float value) => Enumerable.Repeat(value, 28 * 28).ToArray();

    [Fact]
    public void Two_rows_of_three_have_the_size_the_layout_gives()
    {
        var rows = new[]
        {
            new ReadOnlyMemory<float>[] { Constant(0), Constant(0.5f), Constant(1) },
            new ReadOnlyMemory<float>[] { Constant(1), Constant(0.5f), Constant(0) },
        };

        using var bitmap = Png.Decode(DigitGrid.RenderPng(rows, new DigitGridOptions(Scale: 3, Padding: 4)));

        bitmap.Width.Should().Be(4 + (3 * ((28 * 3) + 4)));
        bitmap.Height.Should().Be(4 + (2 * ((28 * 3) + 4)));
    }

    [Fact]
    public void Pixels_are_the_source_values_scaled_to_grey_at_known_spots()
    {
        var options = new DigitGridOptions(Scale: 2, Padding: 3, PaddingGrey: 200);
        var rows = new[]
        {
            new ReadOnlyMemory<float>[] { Ramp(), Constant(1f) },
            new ReadOnlyMemory<float>[] { Constant(0f) },
        };

        using var bitmap = Png.Decode(DigitGrid.RenderPng(rows, options));

        // Padding, top-left corner and between the two images of row 0.
        bitmap.GetPixel(0, 0).Should().Be(new SKColor(200, 200, 200));
        bitmap.GetPixel(3 + 56 + 1, 10).Should().Be(new SKColor(200, 200, 200));

        // Ramp: source pixel (x=10, y=5) is drawn at 3 + 2*10 .. +1, 3 + 2*5 .. +1.
        var expected = DigitGrid.ToGrey(15 / 54f);
        foreach (var (dx, dy) in new[] { (0, 0), (1, 0), (0, 1), (1, 1) })
        {
            bitmap.GetPixel(3 + 20 + dx, 3 + 10 + dy).Should().Be(new SKColor(expected, expected, expected));
        }

        bitmap.GetPixel(3, 3).Should().Be(new SKColor(0, 0, 0), "ramp pixel (0, 0) is 0");
        bitmap.GetPixel(3 + 55, 3 + 55).Should().Be(new SKColor(255, 255, 255), "ramp pixel (27, 27) is 1");

        // Second image of row 0 is white; the only image of row 1 is black; row 1's missing second cell is padding.
        bitmap.GetPixel(3 + 56 + 3 + 30, 3 + 30).Should().Be(new SKColor(255, 255, 255));
        bitmap.GetPixel(3 + 30, 3 + 56 + 3 + 30).Should().Be(new SKColor(0, 0, 0));
        bitmap.GetPixel(3 + 56 + 3 + 30, 3 + 56 + 3 + 30).Should().Be(new SKColor(200, 200, 200));
    }

    [Fact]
    public void Byte_images_keep_their_grey_levels()
    {
        var image = new byte[28 * 28];
        image[(7 * 28) + 9] = 77;
        image[(27 * 28) + 27] = 255;

        using var bitmap = Png.Decode(DigitGrid.RenderPng(new[] { new ReadOnlyMemory<byte>[] { image } }, new DigitGridOptions(Scale: 1, Padding: 0)));

        bitmap.Width.Should().Be(28);
        bitmap.Height.Should().Be(28);
        bitmap.GetPixel(9, 7).Should().Be(new SKColor(77, 77, 77));
        bitmap.GetPixel(27, 27).Should().Be(new SKColor(255, 255, 255));
        bitmap.GetPixel(0, 0).Should().Be(new SKColor(0, 0, 0));
    }

    [Fact]
    public void A_flat_buffer_becomes_a_grid_filled_row_by_row()
    {
        // 10 images with grey level = 20 * index; 4 per row -> 3 rows, the last of 2.
        var images = new byte[10 * 784];
        for (var i = 0; i < 10; i++)
        {
            images.AsSpan(i * 784, 784).Fill((byte)(20 * i));
        }

        var options = new DigitGridOptions(Scale: 1, Padding: 1);
        using var bitmap = Png.Decode(DigitGrid.RenderGridPng(images, columns: 4, options));

        bitmap.Width.Should().Be(1 + (4 * 29));
        bitmap.Height.Should().Be(1 + (3 * 29));
        for (var i = 0; i < 10; i++)
        {
            var (row, column) = (i / 4, i % 4);
            var grey = (byte)(20 * i);
            bitmap.GetPixel(1 + (column * 29) + 14, 1 + (row * 29) + 14).Should().Be(new SKColor(grey, grey, grey), $"image {i}");
        }
    }

    [Theory]
    [InlineData(-0.5f, 0)]
    [InlineData(float.NaN, 0)]
    [InlineData(0.5f, 128)]
    [InlineData(2f, 255)]
    public void Values_outside_zero_to_one_are_clamped(float value, byte grey) => DigitGrid.ToGrey(value).Should().Be(grey);

    [Fact]
    public void An_image_of_the_wrong_size_is_refused_with_its_position()
    {
        var rows = new[] { new ReadOnlyMemory<float>[] { Constant(0), new float[100] } };

        var act = () => DigitGrid.RenderPng(rows);

        act.Should().Throw<ArgumentException>().WithMessage("*Image 1 of row 0 has 100 pixels*");
    }

    [Fact]
    public void No_images_is_refused() =>
        FluentActions.Invoking(() => DigitGrid.RenderPng(Array.Empty<ReadOnlyMemory<float>[]>())).Should().Throw<ArgumentException>();

    [Fact]
    public void SavePng_writes_the_same_bytes_as_RenderPng()
    {
        using var directory = new TempDirectory();
        var rows = new[] { new ReadOnlyMemory<float>[] { Ramp() } };
        var path = directory.File("sub/grid.png");

        DigitGrid.SavePng(path, rows);

        File.ReadAllBytes(path).Should().Equal(DigitGrid.RenderPng(rows));
    }
}
