using LatentKit.Tests.Support;
using static TorchSharp.torch;

namespace LatentKit.Tests.Data;

/// <summary>The general <see cref="Dataset"/>: in-memory makers, their validation, views and batches.</summary>
public sealed class DatasetTests
{
    private static readonly TrainingOptions Quick = new() { Epochs = 2, BatchSize = 16, LearningRate = 3e-3, Seed = 5 };

    private static readonly TrainingRun OneThread = new() { Threads = 1 };

    /// <summary>Colour images 3 x 4 x 5 whose first byte is the sample's index and labels i % 4.</summary>
    private static Dataset ColourImages(int count)
    {
        var pixels = new byte[count * 60];
        for (var i = 0; i < count; i++)
        {
            pixels[i * 60] = (byte)i;
            pixels[(i * 60) + 59] = 255;
        }

        var labels = Enumerable.Range(0, count).Select(i => i % 4).ToArray();
        return Dataset.FromImages(pixels, 3, 4, 5, labels, 4, ["cat", "dog", "owl", "fox"], "colour");
    }

    private static float[] First(Dataset data)
    {
        using var batch = data.GetBatches(data.Count).Single();
        return batch.Samples.reshape(data.Count, data.SampleSize).select(1, 0).data<float>().ToArray();
    }

    [Fact]
    public void FromImages_with_bytes_has_the_shape_range_labels_and_class_names_given()
    {
        var data = ColourImages(10);

        data.Name.Should().Be("colour");
        data.Count.Should().Be(10);
        data.SampleShape.Should().Equal(3, 4, 5);
        data.SampleSize.Should().Be(60);
        data.ValueRange.Should().Be(SampleRange.ZeroToOne);
        data.HasLabels.Should().BeTrue();
        data.ClassCount.Should().Be(4);
        data.ClassNames.Should().Equal("cat", "dog", "owl", "fox");
        data.GetLabel(6).Should().Be(2);
        data.CountPerClass().Should().Equal(3, 3, 2, 2);

        using var batch = data.GetBatches(4).First();
        batch.Samples.shape.Should().Equal(4, 3, 4, 5);
        batch.Samples.dtype.Should().Be(ScalarType.Float32);
        batch.Samples[3, 0, 0, 0].item<float>().Should().BeApproximately(3 / 255f, 1e-7f);
        batch.Samples[3, 2, 3, 4].item<float>().Should().Be(1f);
        batch.Labels!.data<long>().ToArray().Should().Equal(0, 1, 2, 3);
    }

    [Fact]
    public void FromImages_with_floats_and_FromFeatures_keep_the_values_and_default_class_names()
    {
        var images = Dataset.FromImages(new float[] { 0, 0.5f, 1, 0.25f }, 1, 1, 2);
        images.SampleShape.Should().Equal(1, 1, 2);
        images.Count.Should().Be(2);
        images.HasLabels.Should().BeFalse();
        images.ClassCount.Should().Be(0);
        images.ClassNames.Should().BeEmpty();

        var features = Dataset.FromFeatures(new float[] { -3, 7, 2.5f, 100 }, 2, [1, 0], 2);
        features.SampleShape.Should().Equal(2);
        features.ValueRange.Should().Be(SampleRange.Unbounded);
        features.ClassNames.Should().Equal("0", "1");
        using var batch = features.GetBatches(2).Single();
        batch.Samples.data<float>().ToArray().Should().Equal(-3, 7, 2.5f, 100);
        batch.Labels!.data<long>().ToArray().Should().Equal(1, 0);
    }

    [Fact]
    public void FromSamples_keeps_any_shape_range_labels_and_names()
    {
        var values = new float[] { 0, 0.5f, 1, 0.25f, 0.75f, 0.125f };
        var data = Dataset.FromSamples(values, [1, 1, 3], [1, 0], 2, ["cat", "dog"], SampleRange.ZeroToOne, "two");
        values[0] = 9;
        data.Name.Should().Be("two");
        data.SampleShape.Should().Equal(1, 1, 3);
        data.Count.Should().Be(2);
        data.ValueRange.Should().Be(SampleRange.ZeroToOne);
        data.ClassNames.Should().Equal("cat", "dog");
        using var batch = data.GetBatches(2).Single();
        batch.Samples.shape.Should().Equal(2L, 1L, 1L, 3L);
        batch.Samples.data<float>().ToArray().Should().Equal(0, 0.5f, 1, 0.25f, 0.75f, 0.125f);
        batch.Labels!.data<long>().ToArray().Should().Equal(1, 0);

        var unlabelled = Dataset.FromSamples(new float[] { -3, 7, 2, 5 }, [2, 2]);
        unlabelled.SampleShape.Should().Equal(2, 2);
        unlabelled.HasLabels.Should().BeFalse();
        unlabelled.ValueRange.Should().Be(SampleRange.Unbounded);
    }

    [Fact]
    public void The_makers_copy_their_input()
    {
        var rows = new float[] { 1, 2 };
        var data = Dataset.FromFeatures(rows, 1);
        rows[0] = 9;
        First(data).Should().Equal(1, 2);
    }

    public static TheoryData<string, Func<Dataset>, string, string> InvalidInputs => new()
    {
        { "byte count", () => Dataset.FromImages(new byte[59], 3, 4, 5), "values", "59 values do not make whole samples of shape [3, 4, 5]" },
        { "zero channels", () => Dataset.FromImages(new byte[60], 0, 4, 5), "shape", "every dimension of the sample shape [0, 4, 5] must be 1.." },
        { "huge sample", () => Dataset.FromImages(new byte[60], 4096, 4096, 4096), "shape", "more than Dataset.MaxSampleSize" },
        { "label count", () => Dataset.FromImages(new byte[120], 3, 4, 5, [0], 2), "labels", "1 labels for 2 samples" },
        { "label too big", () => Dataset.FromImages(new byte[120], 3, 4, 5, [0, 2], 2), "labels", "label 2 at index 1 is outside 0..1 (class count 2)" },
        { "negative label", () => Dataset.FromFeatures(new float[2], 1, [-1, 0], 2), "labels", "label -1 at index 0 is outside 0..1" },
        { "class count 0", () => Dataset.FromFeatures(new float[2], 1, [0, 0], 0), "classCount", "the class count must be 1..100000" },
        { "class names count", () => Dataset.FromFeatures(new float[2], 1, [0, 1], 2, ["a"]), "classNames", "1 class names for 2 classes" },
        { "repeated class name", () => Dataset.FromFeatures(new float[2], 1, [0, 1], 2, ["a", "a"]), "classNames", "class name 1 ('a') is empty or repeated" },
        { "empty class name", () => Dataset.FromFeatures(new float[2], 1, [0, 1], 2, ["a", " "]), "classNames", "class name 1 (' ') is empty or repeated" },
        { "NaN feature", () => Dataset.FromFeatures(new float[] { 1, float.NaN, 3, 4 }, 2), "values", "value NaN at sample 0, position 1 is not finite" },
        { "infinite feature", () => Dataset.FromFeatures(new float[] { 1, 2, 3, float.PositiveInfinity }, 2), "values", "at sample 1, position 1 is not finite" },
        { "float pixel above 1", () => Dataset.FromImages(new float[] { 0, 1.5f }, 1, 1, 1), "values", "value 1.5 at sample 1, position 0 is outside [0, 1]" },
        { "feature width 0", () => Dataset.FromFeatures(new float[2], 0), "shape", "must be 1.." },
        { "empty sample shape", () => Dataset.FromSamples(new float[2], []), "shape", "the sample shape is empty" },
        { "samples not whole", () => Dataset.FromSamples(new float[5], [2, 2]), "values", "5 values do not make whole samples of shape [2, 2]" },
        { "sample above 1", () => Dataset.FromSamples(new float[] { 0, 2 }, [2], SampleRange.ZeroToOne), "values", "value 2 at sample 0, position 1 is outside [0, 1]" },
        { "sample label", () => Dataset.FromSamples(new float[4], [2], [0, 3], 2, range: SampleRange.ZeroToOne), "labels", "label 3 at index 1 is outside 0..1" },
    };

    [Theory]
    [MemberData(nameof(InvalidInputs))]
    public void The_makers_reject_invalid_input_with_the_parameter_and_what_is_wrong(string what, Func<Dataset> make, string parameter, string message)
    {
        _ = what;
        var error = Assert.ThrowsAny<ArgumentException>(make);
        error.ParamName.Should().Be(parameter);
        error.Message.Should().Contain(message);
    }

    [Fact]
    public void Views_on_a_general_dataset_keep_shape_labels_and_class_names()
    {
        var data = ColourImages(20);

        var subset = data.Subset([5, 5, 0]);
        First(subset).Should().Equal(5 / 255f, 5 / 255f, 0);
        subset.SampleShape.Should().Equal(3, 4, 5);
        subset.ClassNames.Should().Equal("cat", "dog", "owl", "fox");
        Enumerable.Range(0, 3).Select(subset.GetLabel).Should().Equal(1, 1, 0);

        First(data.Take(3)).Should().Equal(0, 1 / 255f, 2 / 255f);
        First(data.Shuffle(4)).Should().Equal(First(data.Shuffle(4))).And.NotEqual(First(data));
        First(data.Shuffle(4)).Select(v => (int)Math.Round(v * 255)).Should().BeEquivalentTo(Enumerable.Range(0, 20));

        var balanced = data.TakePerClass(2, seed: 1);
        balanced.Count.Should().Be(8);
        balanced.CountPerClass().Should().Equal(2, 2, 2, 2);

        var (training, validation) = data.SplitForValidation(0.25, seed: 3);
        training.Count.Should().Be(15);
        validation.Count.Should().Be(5);
        First(training).Concat(First(validation)).Select(v => (int)Math.Round(v * 255)).Should().BeEquivalentTo(Enumerable.Range(0, 20));
    }

    [Fact]
    public void Shuffled_batches_follow_the_seed_and_cover_every_sample()
    {
        var data = ColourImages(10);
        var firsts = new List<int>();
        var labels = new List<long>();
        foreach (var batch in data.GetBatches(4, shuffle: true, seed: 2))
        {
            using (batch)
            {
                firsts.AddRange(batch.Samples.reshape(batch.Count, 60).select(1, 0).data<float>().ToArray().Select(v => (int)Math.Round(v * 255)));
                labels.AddRange(batch.Labels!.data<long>().ToArray());
            }
        }

        firsts.Should().BeEquivalentTo(Enumerable.Range(0, 10)).And.NotEqual(Enumerable.Range(0, 10));
        labels.Should().Equal(firsts.Select(i => (long)(i % 4)));
    }

    [Fact]
    public void An_unlabelled_dataset_refuses_what_needs_labels_with_its_name()
    {
        var data = Dataset.FromFeatures(new float[6], 2, name: "sensors");

        Assert.Throws<InvalidOperationException>(() => data.GetLabel(0)).Message.Should().Contain("'sensors' has no labels");
        Assert.Throws<InvalidOperationException>(() => data.CountPerClass()).Message.Should().Contain("'sensors' has no labels");
        Assert.Throws<ArgumentException>(() => data.TakePerClass(1, 1)).Message.Should().Contain("'sensors' has no labels");
        using var batch = data.GetBatches(3).Single();
        batch.Labels.Should().BeNull();
        data.Subset([2, 0]).HasLabels.Should().BeFalse();
    }

    [Fact]
    public void Subset_checks_every_index_before_allocating()
    {
        var data = Synthetic.Digits(10);
        var indices = Enumerable.Repeat(0, 100_000).Append(10).ToArray();

        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => data.Subset(indices));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        error.Message.Should().Contain("Index 10 is outside dataset");
        allocated.Should().BeLessThan(10_000_000, "the 78 MB of pixels must not be allocated before an index is found invalid");
    }

    [Fact]
    public void Subset_beyond_the_largest_array_is_refused_clearly()
    {
        var data = Synthetic.Digits(1);
        var indices = new int[3_000_000]; // 3,000,000 x 784 bytes: beyond what one .NET array can hold

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => data.Subset(indices));
        error.Message.Should().Contain("largest array");
    }

    [Fact]
    public void MnistDataset_views_are_MnistDatasets_and_a_general_Dataset()
    {
        var mnist = Synthetic.Digits(40);
        MnistDataset subset = mnist.Subset([1, 2]);
        MnistDataset taken = mnist.Take(5);
        MnistDataset shuffled = mnist.Shuffle(1);
        MnistDataset balanced = mnist.TakePerClass(2, 1);
        (MnistDataset training, MnistDataset validation) = mnist.SplitForValidation(0.25, 1);

        subset.Count.Should().Be(2);
        taken.Count.Should().Be(5);
        shuffled.Count.Should().Be(40);
        balanced.CountPerClass().Should().Equal(Enumerable.Repeat(2, 10));
        (training.Count, validation.Count).Should().Be((30, 10));

        Dataset general = mnist;
        general.SampleShape.Should().Equal(1, 28, 28);
        general.ClassCount.Should().Be(10);
        general.ClassNames.Should().Equal("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");
        general.ValueRange.Should().Be(SampleRange.ZeroToOne);
        general.Subset([3]).Should().BeOfType<MnistDataset>();
        general.SplitForValidation(0.25, 1).Validation.Should().BeOfType<MnistDataset>();
        general.SplitForValidation(0.25, 1).Validation.GetLabel(0).Should().Be(validation.GetLabel(0));

        using var batch = general.GetBatches(40).Single();
        using var expected = mnist.ImagesToTensor(ImageLayout.Image);
        batch.Samples.shape.Should().Equal(40, 1, 28, 28);
        batch.Samples.data<float>().ToArray().Should().Equal(expected.data<float>().ToArray());
    }

    [Fact]
    public void An_unlabelled_dataset_trains_and_evaluates_a_dense_autoencoder()
    {
        var digits = Synthetic.Digits(96);
        var unlabelled = Dataset.FromImages(digits.Pixels.Span, 1, 28, 28, "unlabelled digits");
        using var model = SmallModels.Build(AutoencoderKind.Dense);

        var before = model.Evaluate(unlabelled);
        var history = model.Train(unlabelled, Quick with { Epochs = 3, ValidationFraction = null }, OneThread);
        var after = model.Evaluate(unlabelled);
        using var codes = model.EncodeDataset(unlabelled);

        history.Epochs.Should().HaveCount(3);
        after.BinaryCrossEntropy.Should().BeLessThan(before.BinaryCrossEntropy * 0.9);
        double.IsFinite(after.MeanSquaredError).Should().BeTrue();
        codes.shape.Should().Equal(96, 16);

        // The same images through MnistDataset train to the same weights (one reading path).
        using var twin = SmallModels.Build(AutoencoderKind.Dense);
        var twinHistory = twin.Train(digits, Quick with { Epochs = 3, ValidationFraction = null }, OneThread);
        twinHistory.Epochs[^1].TrainingLoss.Should().BeApproximately(history.Epochs[^1].TrainingLoss, 1e-6);
    }

    [Fact]
    public void A_dense_autoencoder_trains_on_float_features_of_its_input_size()
    {
        var digits = Synthetic.Digits(32);
        var floats = digits.Pixels.ToArray().Select(b => b / 255f).ToArray();
        var features = Dataset.FromFeatures(floats, 784, SampleRange.ZeroToOne);
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        using var twin = SmallModels.Build(AutoencoderKind.Dense);

        var fromFloats = model.Train(features, Quick with { Epochs = 1 }, OneThread);
        var fromBytes = twin.Train(digits, Quick with { Epochs = 1 }, OneThread);

        fromFloats.Epochs[0].TrainingLoss.Should().BeApproximately(fromBytes.Epochs[0].TrainingLoss, 1e-5);
    }

    [Fact]
    public void The_classifier_refuses_an_unlabelled_dataset()
    {
        var unlabelled = Dataset.FromImages(Synthetic.Digits(20).Pixels.Span, 1, 28, 28, "no labels here");
        using var autoencoder = SmallModels.Build(AutoencoderKind.Dense);
        using var classifier = LatentClassifier.For(autoencoder).WithSeed(1).Build();

        var train = Assert.Throws<ArgumentException>(() => classifier.Train(unlabelled, Quick, OneThread));
        train.ParamName.Should().Be("training");
        train.Message.Should().Contain("Dataset 'no labels here' has no labels");
        var evaluate = Assert.Throws<ArgumentException>(() => classifier.Evaluate(unlabelled));
        evaluate.ParamName.Should().Be("data");
        evaluate.Message.Should().Contain("Dataset 'no labels here' has no labels");
    }

    [Fact]
    public void A_classifier_trains_and_evaluates_on_a_labelled_general_dataset()
    {
        var digits = Synthetic.Digits(100);
        var labels = Enumerable.Range(0, digits.Count).Select(digits.GetLabel).ToArray();
        var general = Dataset.FromImages(digits.Pixels.Span, 1, 28, 28, labels, 10);
        using var autoencoder = SmallModels.Build(AutoencoderKind.Dense);
        using var classifier = LatentClassifier.For(autoencoder).WithSeed(1).Build();

        classifier.Train(general, Quick with { Epochs = 2 }, OneThread);
        var metrics = classifier.Evaluate(general);

        metrics.ConfusionMatrix.Cast<int>().Sum().Should().Be(100);
    }

    public static TheoryData<AutoencoderKind, int, int, int, string> Mismatches => new()
    {
        { AutoencoderKind.Dense, 3, 4, 5, "has samples of shape [3, 4, 5], but Dense autoencoder (latent 16) takes input of shape [784]" },
        { AutoencoderKind.Convolutional, 3, 28, 28, "has samples of shape [3, 28, 28], but Convolutional autoencoder (latent 49) takes input of shape [1, 28, 28]" },
        { AutoencoderKind.Convolutional, 1, 28, 29, "takes input of shape [1, 28, 28]" },
    };

    [Theory]
    [MemberData(nameof(Mismatches))]
    public void A_dataset_of_another_shape_is_refused_naming_both_shapes(AutoencoderKind kind, int channels, int height, int width, string message)
    {
        var data = Dataset.FromImages(new byte[channels * height * width * 2], channels, height, width, "other shape");
        using var model = SmallModels.Build(kind);

        foreach (var call in new Action[] { () => model.Train(data, Quick, OneThread), () => model.Evaluate(data), () => model.EncodeDataset(data).Dispose() })
        {
            var error = Assert.Throws<ArgumentException>(call);
            error.Message.Should().Contain($"Dataset 'other shape' has samples of shape [{channels}, {height}, {width}]").And.Contain(message);
        }
    }

    [Fact]
    public void A_convolutional_model_accepts_a_flat_784_feature_set_only_through_a_dense_model()
    {
        var features = Dataset.FromFeatures(new float[784 * 2], 784, SampleRange.ZeroToOne, "flat");
        using var dense = SmallModels.Build(AutoencoderKind.Dense);
        using var conv = SmallModels.Build(AutoencoderKind.Convolutional);

        using (var codes = dense.EncodeDataset(features))
        {
            codes.shape.Should().Equal(2, 16);
        }

        Assert.Throws<ArgumentException>(() => conv.EncodeDataset(features)).Message.Should().Contain("shape [784], but Convolutional");
    }

    [Fact]
    public void A_classifier_refuses_a_dataset_of_another_shape_or_more_classes_than_its_head()
    {
        var colour = ColourImages(8);
        var manyClasses = Dataset.FromImages(new byte[784 * 2], 1, 28, 28, [0, 11], 12, name: "twelve classes");
        using var autoencoder = SmallModels.Build(AutoencoderKind.Dense);
        using var classifier = LatentClassifier.For(autoencoder).WithSeed(1).Build();
        using var convolutional = SmallModels.Build(AutoencoderKind.Convolutional);
        using var tuned = LatentClassifier.For(convolutional).WithSeed(1).WithFineTuning(1e-4).Build();

        Assert.Throws<ArgumentException>(() => classifier.Train(colour, Quick, OneThread)).Message.Should().Contain("has samples of shape [3, 4, 5], but Dense autoencoder");
        Assert.Throws<ArgumentException>(() => tuned.Train(colour, Quick, OneThread)).Message.Should().Contain("has samples of shape [3, 4, 5], but Convolutional autoencoder");
        Assert.Throws<ArgumentException>(() => classifier.Evaluate(colour)).ParamName.Should().Be("data");
        Assert.Throws<ArgumentException>(() => classifier.Train(manyClasses, Quick, OneThread)).Message.Should().Contain("Dataset 'twelve classes' has 12 classes, but the classifier's head has 10 outputs");
    }

    [Fact]
    public void The_raw_pixel_encoder_returns_its_own_copy_of_byte_and_float_samples()
    {
        var bytes = Dataset.FromImages(Enumerable.Range(0, 784 * 2).Select(i => (byte)(i % 256)).ToArray(), 1, 28, 28);
        var floats = Dataset.FromFeatures(Enumerable.Range(0, 784 * 2).Select(i => (i % 256) / 255f).ToArray(), 784, SampleRange.ZeroToOne);
        using var classifier = LatentClassifier.ForPixels().WithSeed(1).Build();

        using var fromBytes = classifier.Autoencoder.EncodeDataset(bytes);
        using var fromFloats = classifier.Autoencoder.EncodeDataset(floats);

        fromFloats.shape.Should().Equal(2, 784);
        fromFloats.data<float>().ToArray().Should().Equal(fromBytes.data<float>().ToArray());
        fromFloats[1, 3].item<float>().Should().BeApproximately(((784 + 3) % 256) / 255f, 1e-7f);
    }

    [Fact]
    public void The_label_efficiency_study_refuses_an_unlabelled_pool()
    {
        var digits = Synthetic.Digits(20);
        var unlabelled = Dataset.FromImages(digits.Pixels.Span, 1, 28, 28, "pool without labels");

        var error = Assert.Throws<ArgumentException>(() => LatentKit.Studies.LabelEfficiencyStudy.Run(unlabelled, digits, []));
        error.ParamName.Should().Be("labelled");
        error.Message.Should().Contain("Dataset 'pool without labels' has no labels");
    }

    [Fact]
    public void An_unknown_value_range_is_refused_by_every_in_memory_maker_as_by_FromSource()
    {
        // The audit: FromFeatures(..., (SampleRange)99) was accepted while FromSource refuses the same value.
        float[] rows = [0.5f, 0.5f, 0.25f, 0.75f];
        var unknown = (SampleRange)99;

        FluentActions.Invoking(() => Dataset.FromFeatures(rows, 2, unknown)).Should().Throw<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == "range").WithMessage("*unknown value range (99)*SampleRange.ZeroToOne or SampleRange.Unbounded*");
        FluentActions.Invoking(() => Dataset.FromSamples(rows, [2], unknown)).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "range");
        FluentActions.Invoking(() => Dataset.FromSamples(rows, [2], [0, 1], 2, range: unknown)).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "range");
    }
}
