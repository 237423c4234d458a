using static TorchSharp.torch;

namespace LatentKit.Tests.Data;

public sealed class MnistDatasetCoreTests
{
    private static MnistDataset Make(int count, int seed = 1)
    {
        var (pixels, labels) = IdxTestFiles.MakeData(count, seed);
        return new MnistDataset(pixels, labels, "test data");
    }

    private static int[] Indices(MnistDataset dataset) =>
        Enumerable.Range(0, dataset.Count).Select(i => IdxTestFiles.IndexOf(dataset.GetImage(i))).ToArray();

    [Fact]
    public void The_constructor_rejects_a_label_above_nine_and_mismatched_lengths()
    {
        Assert.Throws<ArgumentException>(() => new MnistDataset(new byte[784 * 2], new byte[] { 1, 10 })).Message.Should().Contain("label 10");
        Assert.Throws<ArgumentException>(() => new MnistDataset(new byte[784 * 2], new byte[] { 1 })).Message.Should().Contain("1 images");
    }

    [Fact]
    public void The_constructor_copies_its_input()
    {
        var (pixels, labels) = IdxTestFiles.MakeData(3);
        var dataset = new MnistDataset(pixels, labels);
        pixels[5] ^= 0xff;
        labels[0] = (byte)((labels[0] + 1) % 10);

        dataset.Pixels.Span[5].Should().NotBe(pixels[5]);
        dataset.GetLabel(0).Should().NotBe(labels[0]);
    }

    [Fact]
    public void Take_returns_the_first_images_and_all_when_asked_for_more()
    {
        var dataset = Make(30);

        Indices(dataset.Take(7)).Should().Equal(Enumerable.Range(0, 7));
        dataset.Take(100).Count.Should().Be(30);
        dataset.Take(0).Count.Should().Be(0);
    }

    [Fact]
    public void Subset_keeps_the_given_order_and_labels()
    {
        var dataset = Make(30);
        var subset = dataset.Subset([5, 2, 5, 29]);

        Indices(subset).Should().Equal(5, 2, 5, 29);
        Enumerable.Range(0, 4).Select(subset.GetLabel).Should().Equal(dataset.GetLabel(5), dataset.GetLabel(2), dataset.GetLabel(5), dataset.GetLabel(29));
        Assert.Throws<ArgumentOutOfRangeException>(() => dataset.Subset([30]));
    }

    [Fact]
    public void TakePerClass_is_balanced_distinct_and_stable_for_a_seed()
    {
        var dataset = Make(500);

        var a = dataset.TakePerClass(7, seed: 3);
        var b = dataset.TakePerClass(7, seed: 3);
        var c = dataset.TakePerClass(7, seed: 4);

        a.Count.Should().Be(70);
        a.CountPerClass().Should().AllBeEquivalentTo(7);
        Indices(a).Should().OnlyHaveUniqueItems();
        Indices(a).Should().Equal(Indices(b));
        Indices(c).Should().NotEqual(Indices(a));
        Assert.Throws<ArgumentException>(() => dataset.TakePerClass(51, seed: 0));
    }

    [Fact]
    public void Shuffle_is_a_permutation_stable_for_a_seed_and_different_for_another()
    {
        var dataset = Make(200);

        var a = Indices(dataset.Shuffle(42));
        var b = Indices(dataset.Shuffle(42));
        var c = Indices(dataset.Shuffle(43));

        a.Should().BeEquivalentTo(Enumerable.Range(0, 200));
        a.Should().NotEqual(Enumerable.Range(0, 200));
        a.Should().Equal(b);
        c.Should().NotEqual(a);
    }

    [Fact]
    public void SplitForValidation_gives_disjoint_parts_of_the_right_sizes_stable_for_a_seed()
    {
        var dataset = Make(100);

        var (training, validation) = dataset.SplitForValidation(0.2, seed: 7);
        var again = dataset.SplitForValidation(0.2, seed: 7);

        training.Count.Should().Be(80);
        validation.Count.Should().Be(20);
        Indices(training).Intersect(Indices(validation)).Should().BeEmpty();
        Indices(training).Concat(Indices(validation)).Should().BeEquivalentTo(Enumerable.Range(0, 100));
        Indices(again.Validation).Should().Equal(Indices(validation));
        Assert.Throws<ArgumentOutOfRangeException>(() => dataset.SplitForValidation(1.0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => dataset.SplitForValidation(0.001, 0));
    }

    [Fact]
    public void An_unknown_image_layout_is_refused_when_called_not_when_first_read()
    {
        var dataset = Make(6);
        var layout = (ImageLayout)7;
        FluentActions.Invoking(() => dataset.GetBatches(2, layout: layout)).Should().Throw<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == "layout").WithMessage("Unknown image layout 7; use ImageLayout.Flat or ImageLayout.Image.*");
        FluentActions.Invoking(() => dataset.ImagesToTensor([0, 1], layout)).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "layout");
        FluentActions.Invoking(() => dataset.ImagesToTensor(0, 2, layout)).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "layout");
    }

    [Fact]
    public void ImagesToTensor_is_float32_in_zero_one_flat_or_image_shaped()
    {
        using var scope = NewDisposeScope();
        var dataset = Make(6);

        var flat = dataset.ImagesToTensor(1, 3);
        var images = dataset.ImagesToTensor(ImageLayout.Image);

        flat.dtype.Should().Be(ScalarType.Float32);
        flat.shape.Should().Equal(3, 784);
        images.shape.Should().Equal(6, 1, 28, 28);
        var expected = dataset.Pixels.Slice(784, 3 * 784).ToArray().Select(b => b / 255f).ToArray();
        flat.data<float>().ToArray().Should().Equal(expected);
        images.min().item<float>().Should().BeGreaterThanOrEqualTo(0f);
        images.max().item<float>().Should().BeLessThanOrEqualTo(1f);
        images[2, 0, 1, 3].item<float>().Should().Be(dataset.GetImage(2)[28 + 3] / 255f);
    }

    [Fact]
    public void LabelsToTensor_is_int64_of_the_labels()
    {
        using var scope = NewDisposeScope();
        var dataset = Make(12);

        var labels = dataset.LabelsToTensor();

        labels.dtype.Should().Be(ScalarType.Int64);
        labels.data<long>().ToArray().Should().Equal(dataset.Labels.ToArray().Select(b => (long)b));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GetBatches_covers_every_image_exactly_once_with_a_smaller_last_batch(bool shuffle)
    {
        var dataset = Make(23);
        var seen = new List<int>();
        var sizes = new List<int>();

        foreach (var batch in dataset.GetBatches(5, shuffle, seed: 9, ImageLayout.Image))
        {
            using (batch)
            {
                batch.Images.shape.Should().Equal(batch.Count, 1, 28, 28);
                batch.Labels.shape.Should().Equal(batch.Count);
                sizes.Add(batch.Count);
                var pixels = batch.Images.reshape(batch.Count, 784).data<float>().ToArray();
                var labels = batch.Labels.data<long>().ToArray();
                for (var i = 0; i < batch.Count; i++)
                {
                    var index = (int)Math.Round(pixels[i * 784] * 255) | ((int)Math.Round(pixels[(i * 784) + 1] * 255) << 8);
                    seen.Add(index);
                    labels[i].Should().Be(dataset.GetLabel(index));
                }
            }
        }

        sizes.Should().Equal(5, 5, 5, 5, 3);
        seen.Should().BeEquivalentTo(Enumerable.Range(0, 23));
        if (shuffle)
        {
            seen.Should().NotEqual(Enumerable.Range(0, 23));
        }
        else
        {
            seen.Should().Equal(Enumerable.Range(0, 23));
        }
    }
}
