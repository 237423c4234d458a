using System.Buffers.Binary;
using System.IO.Compression;
using LatentKit.Tests.Support;

namespace LatentKit.Tests.Data;

public sealed class IdxDatasetTests : IDisposable
{
    private readonly TempDirectory folder = new();

    public void Dispose() => folder.Dispose();

    /// <summary>An IDX file: 00 00 type ndims, big-endian dimensions, then the payload (float32 big-endian for type 0x0D).</summary>
    internal static byte[] Idx(byte type, int[] dimensions, byte[]? bytes = null, float[]? floats = null, byte ndims = 0)
    {
        using var stream = new MemoryStream();
        stream.Write([0, 0, type, ndims == 0 ? (byte)dimensions.Length : ndims]);
        Span<byte> word = stackalloc byte[4];
        foreach (var d in dimensions)
        {
            BinaryPrimitives.WriteInt32BigEndian(word, d);
            stream.Write(word);
        }

        if (bytes is not null)
        {
            stream.Write(bytes);
        }

        foreach (var f in floats ?? [])
        {
            BinaryPrimitives.WriteSingleBigEndian(word, f);
            stream.Write(word);
        }

        return stream.ToArray();
    }

    private string Write(string name, byte[] content, bool gzip = false)
    {
        var path = folder.Combine(name);
        if (gzip)
        {
            using var file = File.Create(path);
            using var zip = new GZipStream(file, CompressionLevel.Fastest);
            zip.Write(content);
        }
        else
        {
            File.WriteAllBytes(path, content);
        }

        return path;
    }

    private static float[] Values(Dataset data)
    {
        using var batch = data.GetBatches(1000).Single();
        return batch.Samples.data<float>().ToArray();
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Byte_images_of_any_size_load_with_labels(bool gzip, bool streaming)
    {
        var pixels = Enumerable.Range(0, 5 * 6 * 7).Select(i => (byte)(i * 7)).ToArray();
        var images = Write("images.idx" + (gzip ? ".gz" : string.Empty), Idx(0x08, [5, 6, 7], pixels), gzip);
        var labels = Write("labels.idx", Idx(0x08, [5], [2, 0, 1, 2, 2]));

        var data = Dataset.FromIdx(images, labels, new IdxLoadOptions { Streaming = streaming, ClassNames = ["cat", "dog", "eel"] });

        data.IsStreaming.Should().Be(streaming);
        data.Count.Should().Be(5);
        data.SampleShape.Should().Equal(1, 6, 7);
        data.ValueRange.Should().Be(SampleRange.ZeroToOne);
        data.ClassNames.Should().Equal("cat", "dog", "eel");
        data.CountPerClass().Should().Equal(1, 1, 3);
        Values(data).Should().Equal(pixels.Select(p => p / 255f));
        Values(data.Subset([4, 1])).Should().Equal(pixels.Skip(4 * 42).Take(42).Concat(pixels.Skip(42).Take(42)).Select(p => p / 255f));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Float_vectors_and_colour_images_load_with_their_shapes(bool streaming)
    {
        var rows = new[] { -1.5f, 2f, 1e6f, 0f, 3.25f, -7f };
        var vectors = Dataset.FromIdx(Write("rows.idx", Idx(0x0D, [2, 3], floats: rows)), options: new IdxLoadOptions { Streaming = streaming });
        vectors.SampleShape.Should().Equal(3);
        vectors.HasLabels.Should().BeFalse();
        vectors.ValueRange.Should().Be(SampleRange.Unbounded);
        Values(vectors).Should().Equal(rows);

        var colour = Enumerable.Range(0, 2 * 3 * 2 * 2).Select(i => i / 24f).ToArray();
        var images = Dataset.FromIdx(Write("colour.idx", Idx(0x0D, [2, 3, 2, 2], floats: colour)), options: new IdxLoadOptions { Streaming = streaming, FloatRange = SampleRange.ZeroToOne });
        images.SampleShape.Should().Equal(3, 2, 2);
        images.ValueRange.Should().Be(SampleRange.ZeroToOne);
        Values(images).Should().Equal(colour);
    }

    [Fact]
    public void The_labels_default_to_the_largest_label_plus_one_classes()
    {
        var data = Dataset.FromIdx(Write("i.idx", Idx(0x08, [3, 2], new byte[6])), Write("l.idx", Idx(0x08, [3], [0, 3, 1])));
        data.ClassCount.Should().Be(4);
        data.ClassNames.Should().Equal("0", "1", "2", "3");
    }

    [Fact]
    public void A_gzip_file_cannot_stream_and_says_why()
    {
        var images = Write("images.idx.gz", Idx(0x08, [2, 2, 2], new byte[8]), gzip: true);
        var error = Assert.Throws<DatasetFormatException>(() => Dataset.FromIdx(images, options: new IdxLoadOptions { Streaming = true }));
        error.File.Should().Be(images);
        error.Message.Should().Contain("is gzip-compressed, and compressed data cannot be memory-mapped: IdxLoadOptions.Streaming needs the uncompressed file");
    }

    public static TheoryData<string, byte[], string> BadImages => new()
    {
        { "magic", [0, 1, 8, 2, 0, 0, 0, 0, 0, 0, 0, 1], "wrong magic number 0x00010802" },
        { "type", Idx(0x0B, [1, 2], new byte[4]), "wrong magic number 0x00000B02" },
        { "one dimension", Idx(0x08, [2], new byte[2]), "the header has 1 dimensions; an IDX images file needs 2..4" },
        { "five dimensions", Idx(0x08, [1, 1, 1, 1, 1], new byte[1]), "the header has 5 dimensions" },
        { "negative count", Idx(0x08, [-1, 2]), "the header announces -1 samples; the count must be 0..10000000" },
        { "huge count", Idx(0x08, [10_000_001, 2]), "the header announces 10000001 samples" },
        { "zero dimension", Idx(0x08, [1, 0]), "dimension 2 of the header is 0" },
        { "huge sample", Idx(0x08, [1, 4096, 4097]), "holds more than Dataset.MaxSampleSize" },
        { "header cut", Idx(0x08, [1, 2])[..9], "truncated: the content ends inside the 12-byte header" },
        { "short", Idx(0x08, [2, 3], new byte[5]), "truncated" },
        { "too long", Idx(0x08, [2, 3], new byte[7]), "of unexpected data follow the 2 unsigned byte samples of [3]" },
        { "nan", Idx(0x0D, [2, 2], floats: [0, 1, float.NaN, 2]), "sample 1: value NaN at position 0 is not finite" },
        { "empty", [], "truncated: 0 bytes, shorter than an IDX header" },
    };

    [Theory]
    [MemberData(nameof(BadImages))]
    public void A_bad_images_file_is_refused_naming_it(string why, byte[] content, string message)
    {
        foreach (var streaming in new[] { false, true })
        {
            var path = Write($"{why}.idx", content);
            var error = Assert.Throws<DatasetFormatException>(() => Dataset.FromIdx(path, options: new IdxLoadOptions { Streaming = streaming }).GetBatches(10).ToList());
            error.File.Should().Be(path, why);
            error.Message.Should().Contain(message, $"{why}, streaming {streaming}");
        }

        var zipped = Write($"{why}.idx.gz", content, gzip: true);
        Assert.Throws<DatasetFormatException>(() => Dataset.FromIdx(zipped)).Message.Should().Contain(message, $"{why}, gzip");
    }

    public static TheoryData<string, byte[], string> BadLabels => new()
    {
        { "count", Idx(0x08, [2], [0, 1]), "holds 2 labels but the images file holds 3 samples" },
        { "two dimensions", Idx(0x08, [3, 1], [0, 1, 0]), "a labels file must have one dimension of unsigned bytes" },
        { "floats", Idx(0x0D, [3], floats: [0, 1, 0]), "a labels file must have one dimension of unsigned bytes" },
        { "outside", Idx(0x08, [3], [0, 2, 1]), "sample 1: label 2 is outside 0..1 (class count 2)" },
    };

    [Theory]
    [MemberData(nameof(BadLabels))]
    public void A_bad_labels_file_is_refused_naming_it(string why, byte[] content, string message)
    {
        var images = Write("images.idx", Idx(0x08, [3, 2], new byte[6]));
        var labels = Write($"{why}.idx", content);
        foreach (var streaming in new[] { false, true })
        {
            var error = Assert.Throws<DatasetFormatException>(() => Dataset.FromIdx(images, labels, new IdxLoadOptions { Streaming = streaming, ClassCount = 2 }));
            error.File.Should().Be(labels);
            error.Message.Should().Contain(message, why);
        }
    }

    [Fact]
    public void Missing_files_and_bad_options_are_named()
    {
        var images = Write("images.idx", Idx(0x08, [1, 2], new byte[2]));
        Assert.Throws<FileNotFoundException>(() => Dataset.FromIdx(folder.Combine("nope.idx"))).Message.Should().Contain("nope.idx' does not exist");
        Assert.Throws<ArgumentOutOfRangeException>(() => Dataset.FromIdx(images, images, new IdxLoadOptions { ClassCount = 0 })).ParamName.Should().Be("options");
        Assert.Throws<ArgumentException>(() => Dataset.FromIdx(images, null, new IdxLoadOptions { ClassNames = ["a"] })).Message.Should().Contain("without a labels file");
    }

    [Fact]
    public void A_streamed_idx_file_trains_like_the_same_file_in_memory()
    {
        var digits = Synthetic.Digits(40);
        var images = Write("digits.idx", Idx(0x08, [40, 28, 28], digits.Pixels.ToArray()));
        var options = new TrainingOptions { Epochs = 1, BatchSize = 8, Seed = 3, ValidationFraction = 0.2 };
        var oneThread = new TrainingRun { Threads = 1 };
        using var streamed = SmallModels.Build(AutoencoderKind.Dense);
        using var held = SmallModels.Build(AutoencoderKind.Dense);

        var a = streamed.Train(Dataset.FromIdx(images, options: new IdxLoadOptions { Streaming = true }), options, oneThread);
        var b = held.Train(Dataset.FromIdx(images), options, oneThread);

        a.Epochs[0].TrainingLoss.Should().BeApproximately(b.Epochs[0].TrainingLoss, 1e-5);
        a.Epochs[0].ValidationLoss!.Value.Should().BeApproximately(b.Epochs[0].ValidationLoss!.Value, 1e-5);
    }

    [Fact]
    public void A_folder_given_as_the_file_is_named_as_a_folder()
    {
        var act = () => Dataset.FromIdx(folder.Path);
        act.Should().Throw<FileNotFoundException>().WithMessage($"*'{folder.Path}' is a folder, not a file*");
    }
}
