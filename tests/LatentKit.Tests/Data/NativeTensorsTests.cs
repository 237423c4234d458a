using LatentKit.Tests.Support;
using TorchSharp;

namespace LatentKit.Tests.Data;

/// <summary>
/// Tensors over datasets without managed copies (issue 8, memory): TorchSharp's <c>torch.tensor(array)</c> clones the
/// array on the managed heap, which made every reader over MNIST's training pixels cost 47 MB more.
/// </summary>
public sealed class NativeTensorsTests
{
    [Fact]
    public void Opening_a_reader_over_in_memory_images_allocates_no_copy_of_them()
    {
        var pixels = new byte[20_000 * 784];
        new Random(3).NextBytes(pixels);
        var data = Dataset.FromImages(pixels, 1, 28, 28, Enumerable.Range(0, 20_000).Select(i => i % 10).ToArray(), 10);

        var before = GC.GetAllocatedBytesForCurrentThread();
        using (var reader = data.OpenReader(withLabels: true))
        {
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            // 15.7 MB of pixels; the labels as int64 take 160 KB.
            allocated.Should().BeLessThan(1 << 20, "the reader's tensor is a view of the dataset's own array, not a clone of it");
            using var rows = reader.ReadRange(19_998, 2).Inputs;
            rows.shape.Should().Equal(2, 784);
            rows.contiguous().data<byte>().ToArray().Should().Equal(pixels.AsSpan(19_998 * 784, 2 * 784).ToArray());
        }
    }

    [Fact]
    public void Opening_a_reader_over_in_memory_features_allocates_no_copy_of_them()
    {
        var rows = Enumerable.Range(0, 5_000 * 300).Select(i => (float)Math.Sin(i)).ToArray();
        var data = Dataset.FromFeatures(rows, 300);

        var before = GC.GetAllocatedBytesForCurrentThread();
        using var reader = data.OpenReader(withLabels: false);
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(1 << 20, "6 MB of features must not be cloned");
        using var last = reader.ReadRange(4_999, 1).Inputs;
        last.contiguous().data<float>().ToArray().Should().Equal(rows[(4_999 * 300)..]);
    }

    [Fact]
    public void A_streaming_batch_is_read_straight_into_its_tensor()
    {
        var values = Enumerable.Range(0, 2_000 * 784).Select(i => (i % 251) / 251f).ToArray();
        var data = Dataset.FromSource(new FloatSource(values, 784));
        using var reader = data.OpenReader(withLabels: false);
        using (reader.ReadRange(0, 500).Inputs)
        {
            // Warm-up: first-call allocations of the JIT and TorchSharp.
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        using var batch = reader.ReadRange(1_000, 500).Inputs;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        allocated.Should().BeLessThan(64 * 1024, "a 500 x 784 batch (1.5 MB of floats) is read into native memory, with no managed buffer or clone");
        batch.data<float>().ToArray().Should().Equal(values.AsSpan(1_000 * 784, 500 * 784).ToArray());
    }

    [Fact]
    public void Training_and_evaluating_leave_the_datasets_values_unchanged()
    {
        // The readers' tensors are views of the datasets' arrays: nothing may write through them.
        var images = Synthetic.Digits(96);
        var features = SyntheticShapes.Vectors(96);
        var imagesBefore = Values(images);
        var featuresBefore = Values(features);
        var options = new TrainingOptions { Epochs = 1, BatchSize = 32, Seed = 2 };

        using (var dense = Autoencoders.Dense().WithHiddenLayers(32).WithLatentSize(8).WithSeed(1).Build())
        {
            dense.Train(images, options, new TrainingRun { Threads = 1, ValidationSet = images });
            _ = dense.Evaluate(images);
            using var codes = dense.EncodeDataset(images);
        }

        using (var standardised = Autoencoders.Dense().ForData(features).WithStandardization(FeatureStandardizer.Fit(features)).WithHiddenLayers(16).WithLatentSize(4).WithSeed(1).Build())
        {
            standardised.Train(features, options, new TrainingRun { Threads = 1, ValidationSet = features });
            _ = standardised.Evaluate(features);
        }

        Values(images).Should().Equal(imagesBefore);
        Values(features).Should().Equal(featuresBefore);
    }

    [Fact]
    public void CopyOf_refuses_values_that_do_not_fill_the_shape()
    {
        var act = () => NativeTensors.CopyOf<float>(new float[5], [2, 3], torch.ScalarType.Float32);
        act.Should().Throw<ArgumentException>().WithMessage("5 values of Single do not fill a Float32 tensor of shape [2, 3].*");
    }

    [Fact]
    public void CopyOf_and_Over_handle_empty_data()
    {
        using var copied = NativeTensors.CopyOf<byte>([], [0, 784], torch.ScalarType.Byte);
        copied.shape.Should().Equal(0, 784);
        using var viewed = NativeTensors.Over(Array.Empty<float>(), [0, 30]);
        viewed.shape.Should().Equal(0, 30);
        using var images = Synthetic.Digits(5).ImagesToTensor(0, 0);
        images.shape.Should().Equal(0, 784);
    }

    [Fact]
    public void Indices_are_int64_values_equal_to_the_given_ones()
    {
        using var indices = NativeTensors.Indices([4, 0, 2_000_000_000]);
        indices.dtype.Should().Be(torch.ScalarType.Int64);
        indices.data<long>().ToArray().Should().Equal(4L, 0L, 2_000_000_000L);
    }

    private static float[] Values(Dataset data)
    {
        using var reader = data.OpenReader(withLabels: false);
        using var all = TrainingData.ToFloat(reader.ReadRange(0, data.Count).Inputs);
        return all.contiguous().data<float>().ToArray();
    }

    private sealed class FloatSource(float[] values, int width) : ISampleSource
    {
        public int Count => values.Length / width;

        public IReadOnlyList<int> SampleShape => [width];

        public SampleRange ValueRange => SampleRange.ZeroToOne;

        public int ClassCount => 0;

        public IReadOnlyList<string>? ClassNames => null;

        public int GetLabel(int index) => throw new NotSupportedException();

        public void ReadSample(int index, Span<float> destination) => values.AsSpan(index * width, width).CopyTo(destination);
    }
}
