using LatentKit.Tests.Support;
using SkiaSharp;

namespace LatentKit.Imaging.Tests;

public sealed class ImageFolderTests : IDisposable
{
    private static readonly string[] Classes = ["frog", "cat", "dog", "bird"];

    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    /// <summary>All samples as bytes (the dataset scales them to [0, 1]; * 255 and rounded gives the stored bytes back).</summary>
    private static byte[] Bytes(Dataset data)
    {
        using var batch = data.GetBatches(data.Count).Single();
        return batch.Samples.data<float>().ToArray().Select(v => (byte)Math.Round(v * 255)).ToArray();
    }

    private static long[] Labels(Dataset data)
    {
        using var batch = data.GetBatches(data.Count).Single();
        return batch.Labels!.data<long>().ToArray();
    }

    /// <summary>4 classes of 3 x 32 x 32 colour PNGs (2 or 3 per class); returns the expected planar bytes in load order.</summary>
    private byte[] WriteColourClasses(string root)
    {
        var expected = new List<byte>();
        foreach (var name in Classes.Order(StringComparer.Ordinal))
        {
            var perClass = name == "cat" ? 3 : 2;
            for (var i = 0; i < perClass; i++)
            {
                var seed = (Array.IndexOf(Classes, name) * 10) + i;
                var planar = TestImages.Planar(3, 32, 32, seed);
                TestImages.Write(Path.Combine(root, name, $"img{i}.png"), planar, 3, 32, 32);
                expected.AddRange(planar);
            }
        }

        return [.. expected];
    }

    [Fact]
    public void Class_subfolders_load_as_labelled_colour_images_with_exact_png_pixels()
    {
        var root = temp.CreateSubdirectory("pets");
        var expected = WriteColourClasses(root);
        File.WriteAllText(Path.Combine(root, "cat", "notes.txt"), "ignored");
        File.WriteAllText(Path.Combine(root, "README.md"), "ignored");
        File.WriteAllBytes(Path.Combine(root, "dog", ".hidden.png"), [1, 2, 3]);
        Directory.CreateDirectory(Path.Combine(root, ".cache"));

        var data = ImageFolder.Load(root);

        data.Count.Should().Be(9);
        data.SampleShape.Should().Equal(3, 32, 32);
        data.ValueRange.Should().Be(SampleRange.ZeroToOne);
        data.ClassNames.Should().Equal("bird", "cat", "dog", "frog");
        data.ClassCount.Should().Be(4);
        data.CountPerClass().Should().Equal(2, 3, 2, 2);
        Labels(data).Should().Equal(0, 0, 1, 1, 1, 2, 2, 3, 3);
        data.Name.Should().Be(Path.GetFullPath(root));
        Bytes(data).Should().Equal(expected);
    }

    [Fact]
    public void A_flat_folder_loads_as_unlabelled_images_in_file_name_order()
    {
        var root = temp.CreateSubdirectory("flat");
        var b = TestImages.Planar(3, 8, 6, 2);
        var a = TestImages.Planar(3, 8, 6, 1);
        TestImages.Write(Path.Combine(root, "b.PNG"), b, 3, 8, 6);
        TestImages.Write(Path.Combine(root, "a.png"), a, 3, 8, 6);

        var data = ImageFolder.Load(root);

        data.HasLabels.Should().BeFalse();
        data.ClassCount.Should().Be(0);
        data.SampleShape.Should().Equal(3, 8, 6);
        Bytes(data).Should().Equal([.. a, .. b]);
    }

    [Fact]
    public void Grey_png_keeps_one_channel_and_converts_to_three_or_from_colour_by_luma()
    {
        var grey = temp.CreateSubdirectory("grey");
        var planar = TestImages.Planar(1, 16, 16, 3);
        TestImages.Write(Path.Combine(grey, "g.png"), planar, 1, 16, 16);
        var colour = temp.CreateSubdirectory("colour");
        var rgb = TestImages.Planar(3, 4, 4, 4);
        TestImages.Write(Path.Combine(colour, "c.png"), rgb, 3, 4, 4);

        var asIs = ImageFolder.Load(grey);
        var asColour = ImageFolder.Load(grey, new ImageFolderOptions { Channels = 3 });
        var asGrey = ImageFolder.Load(colour, new ImageFolderOptions { Channels = 1 });

        asIs.SampleShape.Should().Equal(1, 16, 16);
        Bytes(asIs).Should().Equal(planar);
        asColour.SampleShape.Should().Equal(3, 16, 16);
        Bytes(asColour).Should().Equal([.. planar, .. planar, .. planar]);
        var luma = Enumerable.Range(0, 16).Select(i => (byte)(((299 * rgb[i]) + (587 * rgb[16 + i]) + (114 * rgb[32 + i]) + 500) / 1000));
        Bytes(asGrey).Should().Equal(luma);
    }

    [Fact]
    public void Png_with_alpha_keeps_four_channels_unpremultiplied()
    {
        var root = temp.CreateSubdirectory("alpha");
        var planar = TestImages.Planar(4, 5, 7, 9);
        TestImages.Write(Path.Combine(root, "a.png"), planar, 4, 5, 7);

        var data = ImageFolder.Load(root);

        data.SampleShape.Should().Equal(4, 5, 7);
        Bytes(data).Should().Equal(planar);
    }

    /// <summary>
    /// A 16 x 8 photo in four coloured quadrants (red, green / blue, yellow), stored with an EXIF orientation as cameras
    /// store photos taken sideways or upside down: loaded upright, as image viewers show it. The expected corners are
    /// the EXIF specification's (TIFF 6.0 Orientation tag): which stored corner each value puts at the top left, ...
    /// </summary>
    [Theory]
    [InlineData(1, 8, 16, "red green blue yellow")]
    [InlineData(2, 8, 16, "green red yellow blue")]
    [InlineData(3, 8, 16, "yellow blue green red")]
    [InlineData(4, 8, 16, "blue yellow red green")]
    [InlineData(5, 16, 8, "red blue green yellow")]
    [InlineData(6, 16, 8, "blue red yellow green")]
    [InlineData(7, 16, 8, "yellow green blue red")]
    [InlineData(8, 16, 8, "green yellow red blue")]
    public void Jpeg_images_are_loaded_upright_as_their_EXIF_orientation_says(int orientation, int height, int width, string corners)
    {
        var colours = new Dictionary<string, (byte R, byte G, byte B)>
        {
            ["red"] = (230, 20, 20),
            ["green"] = (20, 230, 20),
            ["blue"] = (20, 20, 230),
            ["yellow"] = (230, 230, 20),
        };
        var root = temp.CreateSubdirectory($"photos-{orientation}");
        var planar = new byte[3 * 8 * 16];
        for (var y = 0; y < 8; y++)
        {
            for (var x = 0; x < 16; x++)
            {
                var colour = colours[(y < 4, x < 8) switch { (true, true) => "red", (true, false) => "green", (false, true) => "blue", _ => "yellow" }];
                planar[(y * 16) + x] = colour.R;
                planar[128 + (y * 16) + x] = colour.G;
                planar[256 + (y * 16) + x] = colour.B;
            }
        }

        TestImages.WriteJpegWithOrientation(Path.Combine(root, "any", "photo.jpg"), planar, 8, 16, (ushort)orientation);

        var data = ImageFolder.Load(root);

        data.SampleShape.Should().Equal(3, height, width);
        var pixels = Bytes(data);
        var expected = corners.Split(' ');
        (int Y, int X)[] centres = [(height / 4, width / 4), (height / 4, (3 * width) / 4), ((3 * height) / 4, width / 4), ((3 * height) / 4, (3 * width) / 4)];
        for (var i = 0; i < 4; i++)
        {
            var (y, x) = centres[i];
            var colour = colours[expected[i]];
            byte[] seen = [pixels[(y * width) + x], pixels[(height * width) + (y * width) + x], pixels[(2 * height * width) + (y * width) + x]];
            seen.Should().BeEquivalentTo(new[] { colour.R, colour.G, colour.B }, o => o.Using<byte>(c => ((int)c.Subject).Should().BeCloseTo(c.Expectation, 40)).WhenTypeIs<byte>(), $"quadrant {i} of orientation {orientation} is {expected[i]}");
        }
    }

    [Fact]
    public void Jpeg_images_load_close_to_their_colours()
    {
        var root = temp.CreateSubdirectory("jpeg");
        TestImages.WriteSolid(Path.Combine(root, "red", "r.jpg"), 3, 12, 12, 200, SKEncodedImageFormat.Jpeg);
        TestImages.WriteSolid(Path.Combine(root, "dark", "d.JPEG"), 3, 12, 12, 40, SKEncodedImageFormat.Jpeg);

        var data = ImageFolder.Load(root);

        data.ClassNames.Should().Equal("dark", "red");
        var bytes = Bytes(data);
        bytes[..432].Should().OnlyContain(v => Math.Abs(v - 40) <= 3);
        bytes[432..].Should().OnlyContain(v => Math.Abs(v - 200) <= 3);
    }

    [Fact]
    public void Width_and_height_resize_images_of_different_sizes()
    {
        var root = temp.CreateSubdirectory("sizes");
        TestImages.WriteSolid(Path.Combine(root, "big.png"), 3, 40, 30, 90);
        TestImages.WriteSolid(Path.Combine(root, "small.png"), 3, 10, 12, 170);

        var data = ImageFolder.Load(root, new ImageFolderOptions { Width = 16, Height = 8 });

        data.SampleShape.Should().Equal(3, 8, 16);
        var bytes = Bytes(data);
        bytes[..384].Should().OnlyContain(v => v == 90);
        bytes[384..].Should().OnlyContain(v => v == 170);
    }

    [Fact]
    public void Given_class_names_fix_the_label_order_and_allow_a_missing_class()
    {
        var root = temp.CreateSubdirectory("test-split");
        TestImages.WriteSolid(Path.Combine(root, "dog", "d.png"), 3, 4, 4, 10);
        TestImages.WriteSolid(Path.Combine(root, "bird", "b.png"), 3, 4, 4, 20);

        var data = ImageFolder.Load(root, new ImageFolderOptions { ClassNames = Classes });

        data.ClassNames.Should().Equal(Classes);
        Labels(data).Should().Equal(2, 3);
        data.CountPerClass().Should().Equal(0, 0, 1, 1);
    }

    [Fact]
    public void A_loaded_folder_trains_an_autoencoder()
    {
        var root = temp.CreateSubdirectory("digits");
        for (var i = 0; i < 8; i++)
        {
            TestImages.Write(Path.Combine(root, $"{i % 2}", $"{i}.png"), TestImages.Planar(1, 28, 28, i), 1, 28, 28);
        }

        var data = ImageFolder.Load(root);
        using var model = Autoencoders.Dense().WithLatentSize(4).Build();
        var history = model.Train(data, new TrainingOptions { Epochs = 1, BatchSize = 4, Seed = 1, ValidationFraction = null }, new TrainingRun { Threads = 1 });

        history.Epochs.Should().ContainSingle().Which.TrainingLoss.Should().Match(l => double.IsFinite(l));
    }

    public static TheoryData<string, string, string> BadFolders => new()
    {
        // case, path of the culprit relative to the root ("" = the root), words of the message
        { "corrupt", "a/broken.png", "cannot be decoded" },
        { "empty-file", "a/zero.png", "is empty (0 bytes)" },
        { "truncated", "a/cut.png", "truncated" },
        { "webp", "a/really-webp.png", "is a Webp image, not PNG or JPEG" },
        { "size", "b/odd.png", "is 8 x 9 pixels but the first image" },
        { "channels", "b/grey.png", "has 1 channel (grey) but the first image" },
        { "empty-root", "", "is empty" },
        { "no-images", "", "holds no PNG or JPEG images (only other files" },
        { "empty-class", "c", "class folder 'c' holds no PNG or JPEG images" },
        { "mixed", "loose.png", "has class subfolders (a, b) and also images directly in it" },
        { "nested", "a/deeper", "class folder 'a' holds a subfolder" },
        { "unknown-class", "b", "class folder 'b' is not one of the ClassNames given (a)" },
    };

    [Theory]
    [MemberData(nameof(BadFolders))]
    public void A_bad_folder_throws_naming_the_image_or_folder_and_the_problem(string kind, string culprit, string words)
    {
        var root = temp.CreateSubdirectory(kind);
        var options = new ImageFolderOptions();
        if (kind is not ("empty-root" or "no-images"))
        {
            TestImages.WriteSolid(Path.Combine(root, "a", "0.png"), 3, 8, 9, 1);
            TestImages.WriteSolid(Path.Combine(root, "b", "0.png"), 3, 8, 9, 2);
        }

        var target = Path.Combine(root, culprit);
        switch (kind)
        {
            case "corrupt": File.WriteAllBytes(target, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]); break;
            case "empty-file": File.WriteAllBytes(target, []); break;
            case "truncated":
                TestImages.Write(target, TestImages.Planar(3, 8, 9, 5), 3, 8, 9);
                File.WriteAllBytes(target, File.ReadAllBytes(target)[..60]);
                break;
            case "webp": TestImages.WriteSolid(target, 3, 8, 9, 7, SKEncodedImageFormat.Webp); break;
            case "size": TestImages.WriteSolid(target, 3, 9, 8, 3); break;
            case "channels": TestImages.WriteSolid(target, 1, 8, 9, 3); break;
            case "no-images": File.WriteAllText(Path.Combine(root, "notes.txt"), "x"); break;
            case "empty-class": Directory.CreateDirectory(target); File.WriteAllText(Path.Combine(target, "x.txt"), "x"); break;
            case "mixed": TestImages.WriteSolid(target, 3, 8, 9, 3); break;
            case "nested": TestImages.WriteSolid(Path.Combine(target, "1.png"), 3, 8, 9, 3); break;
            case "unknown-class": options = new ImageFolderOptions { ClassNames = ["a"] }; break;
        }

        foreach (var streaming in new[] { false, true })
        {
            // Streaming checks headers at load time; a truncated payload shows when a batch decodes it.
            var error = Assert.Throws<DatasetFormatException>(() => ImageFolder.Load(root, options with { Streaming = streaming }).GetBatches(64).ToList());

            error.File.Should().Be(Path.GetFullPath(target).TrimEnd(Path.DirectorySeparatorChar));
            error.Message.Should().Contain(error.File).And.Contain(words);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Streaming_gives_the_same_samples_labels_and_class_names_as_in_memory(bool resize)
    {
        var root = temp.CreateSubdirectory("pets");
        WriteColourClasses(root);
        TestImages.Write(Path.Combine(root, "dog", "photo.jpg"), TestImages.Planar(3, 32, 32, 77), 3, 32, 32, SKEncodedImageFormat.Jpeg, 90);
        var options = resize ? new ImageFolderOptions { Width = 20, Height = 12, Channels = 1 } : new ImageFolderOptions();

        var inMemory = ImageFolder.Load(root, options);
        var streaming = ImageFolder.Load(root, options with { Streaming = true });

        streaming.IsStreaming.Should().BeTrue();
        inMemory.IsStreaming.Should().BeFalse();
        streaming.Count.Should().Be(inMemory.Count);
        streaming.SampleShape.Should().Equal(inMemory.SampleShape);
        streaming.ClassNames.Should().Equal(inMemory.ClassNames);
        streaming.ValueRange.Should().Be(SampleRange.ZeroToOne);
        foreach (var (a, b) in inMemory.GetBatches(4, shuffle: true, seed: 3).Zip(streaming.GetBatches(4, shuffle: true, seed: 3)))
        {
            using (a)
            using (b)
            {
                b.Samples.shape.Should().Equal(a.Samples.shape);
                b.Samples.data<float>().ToArray().Should().Equal(a.Samples.data<float>().ToArray());
                b.Labels!.data<long>().ToArray().Should().Equal(a.Labels!.data<long>().ToArray());
            }
        }
    }

    [Fact]
    public void A_streaming_image_broken_after_loading_throws_naming_the_image_and_the_sample()
    {
        var root = temp.CreateSubdirectory("later");
        for (var i = 0; i < 4; i++)
        {
            TestImages.WriteSolid(Path.Combine(root, $"{i}.png"), 3, 8, 8, (byte)i);
        }

        var data = ImageFolder.Load(root, new ImageFolderOptions { Streaming = true });
        var resized = Path.Combine(root, "1.png");
        TestImages.WriteSolid(resized, 3, 9, 8, 1);
        var broken = Path.Combine(root, "2.png");
        File.WriteAllBytes(broken, [1, 2, 3]);

        var first = Assert.Throws<DatasetFormatException>(() => data.Take(2).GetBatches(2).ToList());
        var second = Assert.Throws<DatasetFormatException>(() => data.Subset([2]).GetBatches(1).ToList());

        first.File.Should().Be(resized);
        first.SampleIndex.Should().Be(1);
        first.Message.Should().Contain("is now 8 x 9 pixels but was 8 x 8");
        second.File.Should().Be(broken);
        second.Message.Should().Contain("cannot be decoded");
    }

    [Fact]
    public void An_image_over_the_pixel_limit_is_refused_from_its_header_before_any_pixel_is_decoded()
    {
        var root = temp.CreateSubdirectory("huge");
        TestImages.WriteSolid(Path.Combine(root, "a.png"), 3, 8, 8, 1);
        var huge = Path.Combine(root, "b.png");
        File.WriteAllBytes(huge, PngHeaderOnly(5000, 4000));

        var error = Assert.Throws<DatasetFormatException>(() => ImageFolder.Load(root, new ImageFolderOptions { Width = 8, Height = 8 }));

        error.File.Should().Be(huge);
        error.Message.Should().Contain("is 5000 x 4000 pixels, more than the 16777216 an image may have");
    }

    /// <summary>A PNG of an 8-bit RGB image of the given size whose pixel data holds one row only (a few hundred bytes on disk).</summary>
    private static byte[] PngHeaderOnly(int width, int height)
    {
        var ihdr = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;
        ihdr[9] = 2;
        using var compressed = new MemoryStream();
        using (var zlib = new System.IO.Compression.ZLibStream(compressed, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        {
            zlib.Write(new byte[1 + (3 * width)]);
        }

        return [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, .. Chunk("IHDR", ihdr), .. Chunk("IDAT", compressed.ToArray()), .. Chunk("IEND", [])];
    }

    private static byte[] Chunk(string type, byte[] data)
    {
        var typed = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        var chunk = new byte[4 + typed.Length + 4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(chunk, data.Length);
        typed.CopyTo(chunk, 4);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(4 + typed.Length), Crc32(typed));
        return chunk;
    }

    private static uint Crc32(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }

    [Fact]
    public void A_missing_folder_throws_directory_not_found_naming_it()
    {
        var missing = temp.Combine("nowhere");
        Assert.Throws<DirectoryNotFoundException>(() => ImageFolder.Load(missing)).Message.Should().Contain(missing);
    }

    [Fact]
    public void Invalid_options_are_all_reported_at_once()
    {
        var root = temp.CreateSubdirectory("opts");
        var options = new ImageFolderOptions { Channels = 2, Width = 0, ClassNames = ["x", "x", " "] };

        var error = Assert.Throws<LatentKitValidationException>(() => ImageFolder.Load(root, options));

        error.ParamName.Should().Be("Channels");
        error.Errors.Select(e => (e.Setting, e.Value)).Should().Equal(("Channels", "2"), ("Height", "null"), ("Width", "0"), ("ClassNames[1]", "'x'"), ("ClassNames[2]", "' '"));
        error.Message.Should().Contain("Channels = 2").And.Contain("Width = 0, Height = null: give both or neither")
            .And.Contain("Width = 0: must be 1..4096").And.Contain("ClassNames[1] = 'x': appears twice").And.Contain("ClassNames[2] = ' ': must not be empty");
    }

    [Fact]
    public void A_file_given_as_the_folder_is_named_as_a_file()
    {
        var file = temp.Combine("image.png");
        File.WriteAllBytes(file, [1, 2, 3]);
        var act = () => ImageFolder.Load(file);
        act.Should().Throw<DirectoryNotFoundException>().WithMessage($"*'{file}' is a file, not a folder*");
    }
}
