using LatentKit.Tests.Support;

namespace LatentKit.Tests.Data;

public sealed class IdxReaderTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Images_and_labels_read_back_exactly_from_raw_and_gzip_files(bool gzip)
    {
        var (pixels, labels) = IdxTestFiles.MakeData(37);
        var imagesPath = IdxTestFiles.Write(temp.Path, "images", IdxTestFiles.Images(pixels), gzip);
        var labelsPath = IdxTestFiles.Write(temp.Path, "labels", IdxTestFiles.Labels(labels), gzip);

        IdxReader.ReadImages(imagesPath).Should().Equal(pixels);
        IdxReader.ReadLabels(labelsPath).Should().Equal(labels);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Streams_that_cannot_seek_read_back_exactly(bool gzip)
    {
        var (pixels, labels) = IdxTestFiles.MakeData(5);
        var images = IdxTestFiles.Images(pixels);
        var labelBytes = IdxTestFiles.Labels(labels);
        if (gzip)
        {
            images = IdxTestFiles.Gzip(images);
            labelBytes = IdxTestFiles.Gzip(labelBytes);
        }

        IdxReader.ReadImages(new ForwardOnlyStream(images), "images stream").Should().Equal(pixels);
        IdxReader.ReadLabels(new ForwardOnlyStream(labelBytes), "labels stream").Should().Equal(labels);
    }

    [Fact]
    public void An_empty_file_of_zero_images_is_valid()
    {
        var path = IdxTestFiles.Write(temp.Path, "empty", IdxTestFiles.Images([]));
        IdxReader.ReadImages(path).Should().BeEmpty();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_labels_file_read_as_images_is_a_wrong_magic_error_naming_the_file(bool gzip)
    {
        var path = IdxTestFiles.Write(temp.Path, "train-images-idx3-ubyte", IdxTestFiles.Labels([1, 2, 3]), gzip);

        var error = Assert.Throws<MnistFormatException>(() => IdxReader.ReadImages(path));

        error.FilePath.Should().Be(path);
        error.Message.Should().Contain(path).And.Contain("wrong magic number 0x00000801").And.Contain("labels file").And.Contain("2051");
    }

    [Fact]
    public void An_images_file_read_as_labels_is_a_wrong_magic_error_naming_the_file()
    {
        var path = IdxTestFiles.Write(temp.Path, "labels", IdxTestFiles.Images(new byte[784]));

        var error = Assert.Throws<MnistFormatException>(() => IdxReader.ReadLabels(path));

        error.Message.Should().Contain(path).And.Contain("wrong magic number 0x00000803").And.Contain("2049");
    }

    [Fact]
    public void An_arbitrary_magic_number_is_rejected()
    {
        var path = IdxTestFiles.Write(temp.Path, "images", IdxTestFiles.Images(new byte[784], magic: 0x0D0A1A0A));

        Assert.Throws<MnistFormatException>(() => IdxReader.ReadImages(path)).Message.Should().Contain("wrong magic number 0x0D0A1A0A");
    }

    [Theory]
    [InlineData(27, 28)]
    [InlineData(28, 27)]
    [InlineData(32, 32)]
    public void Images_that_are_not_28_by_28_are_rejected_with_their_dimensions(int rows, int columns)
    {
        var path = IdxTestFiles.Write(temp.Path, "images", IdxTestFiles.Images(new byte[rows * columns * 2], count: 2, rows: rows, columns: columns));

        var error = Assert.Throws<MnistFormatException>(() => IdxReader.ReadImages(path));

        error.Message.Should().Contain(path).And.Contain($"wrong dimensions: the header says {rows} x {columns}").And.Contain("28 x 28");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_truncated_images_payload_is_rejected(bool gzip)
    {
        var (pixels, _) = IdxTestFiles.MakeData(3);
        var raw = IdxTestFiles.Images(pixels)[..^100];
        var path = IdxTestFiles.Write(temp.Path, "images", raw, gzip);

        var error = Assert.Throws<MnistFormatException>(() => IdxReader.ReadImages(path));

        error.Message.Should().Contain(path).And.Contain("truncated").And.Contain("3 images");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_truncated_labels_payload_is_rejected(bool gzip)
    {
        var path = IdxTestFiles.Write(temp.Path, "labels", IdxTestFiles.Labels([1, 2, 3, 4], count: 9), gzip);

        var error = Assert.Throws<MnistFormatException>(() => IdxReader.ReadLabels(path));

        error.Message.Should().Contain(path).And.Contain("truncated").And.Contain("9 labels");
    }

    [Fact]
    public void A_truncated_header_is_rejected()
    {
        var path = IdxTestFiles.Write(temp.Path, "images", IdxTestFiles.Images([])[..10]);

        Assert.Throws<MnistFormatException>(() => IdxReader.ReadImages(path)).Message.Should().Contain("truncated").And.Contain("header");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_header_claiming_two_billion_images_is_rejected_by_the_image_count_limit_not_out_of_memory(bool gzip)
    {
        var path = IdxTestFiles.Write(temp.Path, "images", IdxTestFiles.Images(new byte[1000], count: int.MaxValue), gzip);

        var error = Assert.Throws<MnistFormatException>(() => IdxReader.ReadImages(path));

        error.Message.Should().Contain($"{int.MaxValue} images").And.Contain($"more than the {MnistDataset.MaxImageCount}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_header_claiming_the_maximum_count_in_a_small_file_is_truncated(bool gzip)
    {
        var path = IdxTestFiles.Write(temp.Path, "labels", IdxTestFiles.Labels(new byte[1000], count: MnistDataset.MaxImageCount), gzip);

        var error = Assert.Throws<MnistFormatException>(() => IdxReader.ReadLabels(path));

        error.Message.Should().Contain("truncated").And.Contain($"{MnistDataset.MaxImageCount} labels");
    }

    [Fact]
    public void A_negative_count_is_rejected()
    {
        var path = IdxTestFiles.Write(temp.Path, "labels", IdxTestFiles.Labels([], count: -5));

        Assert.Throws<MnistFormatException>(() => IdxReader.ReadLabels(path)).Message.Should().Contain("negative");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Bytes_after_the_announced_payload_are_rejected(bool gzip)
    {
        var raw = IdxTestFiles.Labels([1, 2, 3]).Concat(new byte[] { 4, 5 }).ToArray();
        var path = IdxTestFiles.Write(temp.Path, "labels", raw, gzip);

        Assert.Throws<MnistFormatException>(() => IdxReader.ReadLabels(path)).Message.Should().Contain(path).And.Contain("unexpected data");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_label_above_nine_is_rejected_with_its_value_and_index(bool gzip)
    {
        var path = IdxTestFiles.Write(temp.Path, "train-labels-idx1-ubyte", IdxTestFiles.Labels([0, 9, 3, 10, 2]), gzip);

        var error = Assert.Throws<MnistFormatException>(() => IdxReader.ReadLabels(path));

        error.FilePath.Should().Be(path);
        error.Message.Should().Contain(path).And.Contain("label 10 at index 3 is not a digit 0..9");
    }

    [Fact]
    public void Corrupt_gzip_data_is_a_format_error_naming_the_file()
    {
        var gz = IdxTestFiles.Gzip(IdxTestFiles.Labels(new byte[5000]));
        for (var i = 20; i < gz.Length - 8; i++)
        {
            gz[i] ^= 0x5a;
        }

        var path = Path.Combine(temp.Path, "labels.gz");
        File.WriteAllBytes(path, gz);

        Assert.Throws<MnistFormatException>(() => IdxReader.ReadLabels(path)).Message.Should().Contain(path);
    }

    [Fact]
    public void Image_and_label_counts_that_differ_are_rejected_naming_both_files()
    {
        var (pixels, labels) = IdxTestFiles.MakeData(10);
        IdxTestFiles.Write(temp.Path, MnistFiles.TrainImages, IdxTestFiles.Images(pixels));
        IdxTestFiles.Write(temp.Path, MnistFiles.TrainLabels, IdxTestFiles.Labels(labels[..9]));

        var error = Assert.Throws<MnistFormatException>(() => MnistDataset.LoadFromDirectory(temp.Path, MnistSplit.Train));

        error.Message.Should().Contain(MnistFiles.TrainLabels).And.Contain(MnistFiles.TrainImages)
            .And.Contain("9 labels").And.Contain("10 images").And.Contain("count mismatch");
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(true, false)]
    public void Any_mnist_format_dataset_loads_from_a_directory_raw_or_gzip(bool gzipImages, bool gzipLabels)
    {
        var (pixels, labels) = IdxTestFiles.MakeData(25);
        IdxTestFiles.Write(temp.Path, MnistFiles.TestImages, IdxTestFiles.Images(pixels), gzipImages);
        IdxTestFiles.Write(temp.Path, MnistFiles.TestLabels, IdxTestFiles.Labels(labels), gzipLabels);

        var dataset = MnistDataset.LoadFromDirectory(temp.Path, MnistSplit.Test);

        dataset.Count.Should().Be(25);
        dataset.Pixels.ToArray().Should().Equal(pixels);
        dataset.Labels.ToArray().Should().Equal(labels);
    }

    [Fact]
    public void Load_from_directory_checks_checksums_only_when_given_and_then_names_the_file()
    {
        var (pixels, labels) = IdxTestFiles.MakeData(4);
        var files = IdxTestFiles.SplitFiles(MnistSplit.Train, pixels, labels);
        var known = IdxTestFiles.KnownFor(files);
        IdxTestFiles.WriteSplit(temp.Path, MnistSplit.Train, pixels, labels, gzip: true);
        MnistDataset.LoadFromDirectory(temp.Path, MnistSplit.Train, known).Count.Should().Be(4);

        pixels[100] ^= 0xff;
        IdxTestFiles.WriteSplit(temp.Path, MnistSplit.Train, pixels, labels, gzip: true);
        MnistDataset.LoadFromDirectory(temp.Path, MnistSplit.Train).Count.Should().Be(4, "without checksums any valid MNIST-format data loads");

        var error = Assert.Throws<MnistFormatException>(() => MnistDataset.LoadFromDirectory(temp.Path, MnistSplit.Train, known));
        error.Message.Should().Contain(MnistFiles.TrainImages + ".gz").And.Contain("SHA-256");
    }

    [Fact]
    public void A_missing_file_in_the_directory_is_reported_by_name()
    {
        Assert.Throws<FileNotFoundException>(() => MnistDataset.LoadFromDirectory(temp.Path, MnistSplit.Test))
            .Message.Should().Contain(MnistFiles.TestImages);
    }

    /// <summary>A stream that can only be read forward, like a network stream.</summary>
    private sealed class ForwardOnlyStream(byte[] content) : MemoryStream(content)
    {
        public override bool CanSeek => false;
    }
}
