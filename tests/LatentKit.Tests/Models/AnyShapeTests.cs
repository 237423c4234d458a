using LatentKit.Tests.Persistence;
using LatentKit.Tests.Support;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LatentKit.Tests.Models;

/// <summary>Every model kind on data of shapes other than 1 x 28 x 28 (issue 8): training, odd sizes, files, classes, standardisation.</summary>
public sealed class AnyShapeTests(ITestOutputHelper output)
{
    private static readonly TrainingOptions Quick = new() { Epochs = 12, BatchSize = 16, LearningRate = 3e-3, Seed = 3 };

    private static readonly TrainingRun OneThread = new() { Threads = 1 };

    public static TheoryData<string> Kinds => new()
    {
        "dense 3x32x32", "conv 3x32x32", "conv-vae 1x16x16", "vae 30 standardised", "dense 30 standardised", "dense unlabelled 1x16x16",
        "conv 3x30x30", "conv-vae 1x17x23",
    };

    private static (IAutoencoder Model, Dataset Data) Case(string name)
    {
        switch (name)
        {
            case "dense 3x32x32":
            {
                var data = SyntheticShapes.Colour(64);
                return (Autoencoders.Dense().ForData(data).WithHiddenLayers(64).WithLatentSize(16).WithSeed(1).Build(), data);
            }

            case "conv 3x32x32":
            {
                var data = SyntheticShapes.Colour(64);
                return (Autoencoders.Convolutional().ForData(data).WithChannels(8, 16).WithLatentSize(64).WithSeed(1).Build(), data);
            }

            case "conv-vae 1x16x16":
            {
                var data = SyntheticShapes.Grey(64);
                return (Autoencoders.ConvolutionalVariational().ForData(data).WithChannels(8, 16).WithLatentSize(16).WithKlWeight(0.1).WithSeed(1).Build(), data);
            }

            case "vae 30 standardised":
            {
                var data = SyntheticShapes.Vectors(64);
                return (Autoencoders.Variational().ForData(data).WithStandardization(FeatureStandardizer.Fit(data)).WithHiddenLayers(32).WithLatentSize(4).WithKlWeight(0.1).WithSeed(1).Build(), data);
            }

            case "dense 30 standardised":
            {
                var data = SyntheticShapes.Vectors(64, labelled: false);
                return (Autoencoders.Dense().ForData(data).WithStandardization(FeatureStandardizer.Fit(data)).WithHiddenLayers(32).WithLatentSize(4).WithSeed(1).Build(), data);
            }

            case "dense unlabelled 1x16x16":
            {
                var data = SyntheticShapes.Images(64, 1, 16, 16, 0, null, 2);
                return (Autoencoders.Dense().ForData(data).WithHiddenLayers(32).WithLatentSize(8).WithSeed(1).Build(), data);
            }

            case "conv 3x30x30":
            {
                var data = SyntheticShapes.Images(64, 3, 30, 30, 4, null, 3);
                return (Autoencoders.Convolutional().ForData(data).WithChannels(8, 16).WithLatentSize(64).WithSeed(1).Build(), data);
            }

            case "conv-vae 1x17x23":
            {
                var data = SyntheticShapes.Images(64, 1, 17, 23, 3, null, 4);
                return (Autoencoders.ConvolutionalVariational().ForData(data).WithChannels(8, 16).WithLatentSize(60).WithKlWeight(0.1).WithSeed(1).Build(), data);
            }

            default:
                throw new ArgumentException(name);
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Every_kind_trains_reduces_its_loss_and_round_trips_through_a_file(string name)
    {
        var (model, data) = Case(name);
        using var _ = model;
        using var folder = new TempDirectory();
        var before = model.Evaluate(data);
        model.Train(data, Quick, OneThread);
        var after = model.Evaluate(data);
        output.WriteLine($"{name}: MSE {before.MeanSquaredError:F4} -> {after.MeanSquaredError:F4}, BCE {before.BinaryCrossEntropy:F4} -> {after.BinaryCrossEntropy:F4}, loss {after.Loss}");
        after.MeanSquaredError.Should().BeLessThan(0.6 * before.MeanSquaredError, "training must clearly reduce the reconstruction error");
        double.IsFinite(after.MeanSquaredError).Should().BeTrue();
        var unbounded = data.ValueRange == SampleRange.Unbounded;
        after.Loss.Should().Be(unbounded ? ReconstructionLoss.MeanSquaredError : ReconstructionLoss.BinaryCrossEntropy);
        double.IsNaN(after.BinaryCrossEntropy).Should().Be(unbounded, "BCE is reported only for a sigmoid output on data in [0, 1]");

        var path = folder.Combine("model.lkm");
        model.Save(path);
        using var loaded = (AutoencoderBase)AutoencoderFile.Load(path);
        loaded.GetType().Should().Be(model.GetType());
        loaded.SampleShape.Should().Equal(data.SampleShape);
        loaded.OutputActivation.Should().Be(((AutoencoderBase)model).OutputActivation);
        loaded.Evaluate(data).Should().Be(after);
        using var batch = data.GetBatches(8).First();
        using var codes = model.Encode(batch.Samples);
        using var loadedCodes = loaded.Encode(batch.Samples);
        using var reconstructed = model.Reconstruct(batch.Samples);
        using var loadedReconstructed = loaded.Reconstruct(batch.Samples);
        reconstructed.shape.Should().Equal(batch.Samples.shape);
        loadedCodes.eq(codes).all().item<bool>().Should().BeTrue();
        loadedReconstructed.eq(reconstructed).all().item<bool>().Should().BeTrue();
    }

    public static TheoryData<int, int, int, int[], int, int, int> OddSizes => new()
    {
        // shape, channels, latent, the padded size, the code map
        { 3, 30, 30, [8, 16], 64, 32, 32 },
        { 1, 17, 23, [4, 8], 60, 20, 24 },
        { 2, 9, 16, [4], 40, 10, 16 },
    };

    [Theory]
    [MemberData(nameof(OddSizes))]
    public void Convolutional_models_pad_bottom_right_and_crop_back(int c, int h, int w, int[] channels, int latent, int paddedH, int paddedW)
    {
        // The weights of a convolutional model do not depend on the image size, so the same seed gives the same
        // network for H x W and for the padded size: the odd-size model must equal the padded-size model on the
        // zero-padded image, cropped back.
        using var odd = Autoencoders.Convolutional().WithInputShape(c, h, w).WithChannels(channels).WithLatentSize(latent).WithSeed(9).Build();
        using var padded = Autoencoders.Convolutional().WithInputShape(c, paddedH, paddedW).WithChannels(channels).WithLatentSize(latent).WithSeed(9).Build();
        using var vaeOdd = Autoencoders.ConvolutionalVariational().WithInputShape(c, h, w).WithChannels(channels).WithLatentSize(latent).WithSeed(9).Build();
        using var vaePadded = Autoencoders.ConvolutionalVariational().WithInputShape(c, paddedH, paddedW).WithChannels(channels).WithLatentSize(latent).WithSeed(9).Build();
        odd.MapHeight.Should().Be(paddedH >> channels.Length);
        odd.MapWidth.Should().Be(paddedW >> channels.Length);
        odd.LatentChannels.Should().Be(latent / (odd.MapHeight * odd.MapWidth));
        using var generator = new Generator(5);
        using var images = rand([3, c, h, w], generator: generator);
        using var zeroPadded = nn.functional.pad(images, [0, paddedW - w, 0, paddedH - h]);
        foreach (var (small, large) in new (IAutoencoder, IAutoencoder)[] { (odd, padded), (vaeOdd, vaePadded) })
        {
            using var codes = small.Encode(images);
            using var paddedCodes = large.Encode(zeroPadded);
            codes.shape.Should().Equal([3, latent]);
            codes.allclose(paddedCodes, rtol: 1e-5, atol: 1e-6).Should().BeTrue();
            using var reconstruction = small.Reconstruct(images);
            using var paddedReconstruction = large.Reconstruct(zeroPadded);
            reconstruction.shape.Should().Equal([3, c, h, w]);
            reconstruction.allclose(paddedReconstruction.narrow(2, 0, h).narrow(3, 0, w), rtol: 1e-5, atol: 1e-6).Should().BeTrue();
            using var decoded = small.Decode(codes);
            decoded.shape.Should().Equal([3, c, h, w]);
        }
    }

    [Theory]
    [InlineData(3, 20, 20, 2, 25)]
    [InlineData(3, 32, 32, 2, 64)]
    [InlineData(1, 17, 23, 2, 30)]
    [InlineData(1, 28, 28, 1, 196)]
    [InlineData(1, 28, 28, 2, 49)]
    public void A_convolutional_builder_defaults_to_one_code_map_of_the_input_shape(int c, int h, int w, int strided, int expected)
    {
        // The latent size must be a whole number of code maps; the old default (49, MNIST's) failed Build on almost
        // every other shape, so ForData(data).Build() did not work on the user's own images.
        var data = SyntheticShapes.Images(8, c, h, w, 3, null, seed: 1);
        int[] channels = strided == 1 ? [4] : [4, 8];
        using var conv = Autoencoders.Convolutional().ForData(data).WithChannels(channels).WithSeed(1).Build();
        using var vae = Autoencoders.ConvolutionalVariational().ForData(data).WithChannels(channels).WithSeed(1).Build();
        conv.LatentSize.Should().Be(expected);
        vae.LatentSize.Should().Be(expected);
        conv.Train(data, Quick with { Epochs = 1 }, OneThread).Epochs.Should().ContainSingle();
        using (var codes = conv.EncodeDataset(data.Take(2))) { codes.shape.Should().Equal([2L, expected]); }

        // A latent size given is kept, in any order of the calls; the dense default stays 49.
        using var given = Autoencoders.Convolutional().WithLatentSize(2 * expected).ForData(data).WithChannels(channels).Build();
        given.LatentSize.Should().Be(2 * expected);
        using var dense = Autoencoders.Dense().ForData(data).WithHiddenLayers(8).Build();
        dense.LatentSize.Should().Be(49);
    }

    [Fact]
    public void Samples_of_another_rank_train_a_dense_model_as_their_number_of_values_and_a_convolutional_one_is_told_the_shape()
    {
        var random = new Random(3);
        var values = Enumerable.Range(0, 16 * 120).Select(_ => (float)random.NextDouble()).ToArray();
        var steps = Dataset.FromSamples(values, [20, 6], SampleRange.ZeroToOne, name: "steps");

        using var dense = Autoencoders.Dense().ForData(steps).WithHiddenLayers(16).WithLatentSize(4).WithSeed(1).Build();
        dense.InputShape.Should().Equal(120);
        dense.Train(steps, Quick with { Epochs = 2 }, OneThread).Epochs.Should().HaveCount(2);
        dense.Encode(values.AsSpan(0, 120)).Should().HaveCount(4).And.OnlyContain(v => float.IsFinite(v));
        using var vae = Autoencoders.Variational().ForData(steps).WithHiddenLayers(16).WithLatentSize(4).Build();
        vae.InputShape.Should().Equal(120);

        var conv = () => Autoencoders.Convolutional().ForData(steps).Build();
        conv.Should().Throw<LatentKitValidationException>().WithMessage("*got [20, 6]. For one-channel images of 20 x 6 give [1, 20, 6] (the dataset's sample shape too).*");
        var byHand = () => Autoencoders.Dense().WithInputShape(20, 6).Build();
        byHand.Should().Throw<LatentKitValidationException>().WithMessage("*got [20, 6]. A dense or variational autoencoder takes such samples as [120] (ForData(dataset) does this).*");
    }

    [Fact]
    public void A_model_refuses_data_of_another_shape_naming_both()
    {
        using var model = Autoencoders.Convolutional().WithInputShape(3, 30, 30).WithChannels(4, 8).WithLatentSize(64).Build();
        var act = () => model.Evaluate(SyntheticShapes.Colour(4));
        act.Should().Throw<ArgumentException>().WithMessage("*[3, 32, 32]*[3, 30, 30]*");
        var vectors = SyntheticShapes.Vectors(8);
        using var bce = Autoencoders.Dense().WithInputShape(30).WithHiddenLayers(8).WithLatentSize(2).Build();
        var train = () => bce.Train(vectors, Quick with { Epochs = 1 }, OneThread);
        train.Should().Throw<ArgumentException>().Where(e => e.ParamName == "training").WithMessage("*'synthetic vectors' holds unbounded values*binary cross-entropy*ForData*");
        bce.Evaluate(vectors).BinaryCrossEntropy.Should().Be(double.NaN, "BCE is not meaningful for unbounded data");
    }

    public static TheoryData<string, int> ClassifierCases => new() { { "grey 3 classes", 3 }, { "colour 4 classes", 4 } };

    [Theory]
    [MemberData(nameof(ClassifierCases))]
    public void The_classifier_handles_any_class_count_beats_chance_and_reports_names(string name, int classes)
    {
        var train = classes == 3 ? SyntheticShapes.Grey(96, seed: 1) : SyntheticShapes.Colour(96, seed: 1);
        var test = classes == 3 ? SyntheticShapes.Grey(48, seed: 2) : SyntheticShapes.Colour(48, seed: 2);
        var names = classes == 3 ? SyntheticShapes.GreyNames : SyntheticShapes.ColourNames;
        using var autoencoder = Autoencoders.Dense().ForData(train).WithHiddenLayers(64).WithLatentSize(16).WithSeed(1).Build();
        autoencoder.Train(train, Quick with { Epochs = 5 }, OneThread);
        using var classifier = LatentClassifier.For(autoencoder).ForData(train).WithSeed(2).Build();
        classifier.ClassCount.Should().Be(classes);
        classifier.ClassNames.Should().Equal(names);
        classifier.Train(train, Quick with { Epochs = 20 }, OneThread);
        var metrics = classifier.Evaluate(test);
        output.WriteLine($"{name}: accuracy {metrics.Accuracy:P1} (chance {1.0 / classes:P1})\n{metrics.FormatConfusionMatrix()}");
        metrics.Accuracy.Should().BeGreaterThan((1.0 / classes) + 0.3, "the classes are clearly separable");
        metrics.ClassNames.Should().Equal(names);
        metrics.ConfusionMatrix.GetLength(0).Should().Be(classes);
        metrics.RecallByClass.Keys.Should().BeEquivalentTo(names);
        metrics.FormatConfusionMatrix().Should().Contain(names[0]).And.Contain(names[^1]);

        using var batch = test.GetBatches(12).First();
        var predicted = classifier.Predict(batch.Samples);
        var predictedNames = classifier.PredictClassNames(batch.Samples);
        predictedNames.Should().Equal(predicted.Select(p => names[p]));
        using var probabilities = classifier.PredictProbabilities(batch.Samples);
        probabilities.shape.Should().Equal([12, classes]);

        using var folder = new TempDirectory();
        var path = folder.Combine("classifier.lkm");
        classifier.Save(path);
        using var loaded = LatentClassifier.Load(path);
        loaded.ClassNames.Should().Equal(names);
        loaded.PredictClassNames(batch.Samples).Should().Equal(predictedNames);
        loaded.Evaluate(test).Accuracy.Should().Be(metrics.Accuracy);
    }

    [Fact]
    public void A_classifier_refuses_data_with_more_classes_than_its_head()
    {
        var data = SyntheticShapes.Grey(12);
        using var autoencoder = Autoencoders.Dense().ForData(data).WithHiddenLayers(8).WithLatentSize(4).Build();
        using var classifier = LatentClassifier.For(autoencoder).WithClasses("a", "b").Build();
        var act = () => classifier.Evaluate(data);
        act.Should().Throw<ArgumentException>().WithMessage("*3 classes*2 outputs*WithClasses(3)*");
    }

    [Fact]
    public void A_classifier_refuses_data_whose_class_names_are_other_classes_or_another_order()
    {
        var data = SyntheticShapes.Grey(12);
        using var autoencoder = Autoencoders.Dense().ForData(data).WithHiddenLayers(8).WithLatentSize(4).Build();
        string[] reversed = [.. SyntheticShapes.GreyNames.Reverse()];
        using var swapped = LatentClassifier.For(autoencoder).WithClasses(reversed).Build();
        var train = () => swapped.Train(data, Quick with { Epochs = 1 }, OneThread);
        train.Should().Throw<ArgumentException>().Where(e => e.ParamName == "training")
            .WithMessage("Dataset 'synthetic 1x16x16' has the classes ['top bar', 'left column', 'centre dot'], but the classifier's are ['centre dot', 'left column', 'top bar']: labels would be read as other classes*");
        FluentActions.Invoking(() => swapped.Evaluate(data)).Should().Throw<ArgumentException>().WithMessage("*labels would be read as other classes*");

        // Default names on either side are not compared: a head of three unnamed classes trains on the named data.
        using var unnamed = LatentClassifier.For(autoencoder).WithClasses(3).Build();
        unnamed.Train(data, Quick with { Epochs = 1 }, OneThread).Epochs.Should().ContainSingle();
    }

    [Fact]
    public void A_classifier_refuses_data_with_fewer_classes_than_its_head()
    {
        // The trap of copying the MNIST quick start onto three-class data: the default head of ten outputs would
        // train, and predict classes '3'..'9' the data does not have.
        var data = SyntheticShapes.Grey(12);
        using var autoencoder = Autoencoders.Dense().ForData(data).WithHiddenLayers(8).WithLatentSize(4).Build();
        using var classifier = LatentClassifier.For(autoencoder).Build();
        var train = () => classifier.Train(data, Quick with { Epochs = 1 }, OneThread);
        train.Should().Throw<ArgumentException>().Where(e => e.ParamName == "training").WithMessage("Dataset 'synthetic 1x16x16' has 3 classes, but the classifier's head has 10 outputs; build it with ForData(dataset) or WithClasses(3).*");
        var evaluate = () => classifier.Evaluate(data);
        evaluate.Should().Throw<ArgumentException>().WithMessage("*3 classes*10 outputs*");
    }

    [Fact]
    public void The_standardizer_fits_applies_and_round_trips_with_a_model()
    {
        var data = SyntheticShapes.Vectors(40);
        var standardizer = FeatureStandardizer.Fit(data);
        standardizer.FeatureCount.Should().Be(30);
        standardizer.ConstantFeatures.Should().Equal([29]);
        standardizer.StandardDeviation[29].Should().Be(1f);
        standardizer.Mean[29].Should().Be(7f);
        var reader = data.GetBatches(40).Single();
        using var all = reader.Samples;
        using var mean = all.mean([0]);
        using var std = all.std([0], unbiased: false);
        for (var j = 0; j < 29; j++)
        {
            standardizer.Mean[j].Should().BeApproximately(mean[j].item<float>(), 1e-3f);
            standardizer.StandardDeviation[j].Should().BeApproximately(std[j].item<float>(), 1e-3f);
        }

        var standardised = standardizer.Apply(data);
        standardised.SampleShape.Should().Equal([30]);
        standardised.ValueRange.Should().Be(SampleRange.Unbounded);
        standardised.ClassNames.Should().Equal(data.ClassNames);
        Enumerable.Range(0, 40).Select(standardised.GetLabel).Should().Equal(Enumerable.Range(0, 40).Select(data.GetLabel));
        using var s = standardised.GetBatches(40).Single().Samples;
        s.mean([0]).abs().max().item<float>().Should().BeLessThan(1e-4f);
        s.std([0], unbiased: false).narrow(0, 0, 29).sub(1).abs().max().item<float>().Should().BeLessThan(1e-3f);

        using var model = Autoencoders.Dense().ForData(data).WithStandardization(standardizer).WithHiddenLayers(16).WithLatentSize(4).WithSeed(1).Build();
        model.OutputActivation.Should().Be(OutputActivation.Identity);
        model.Loss.Should().Be(ReconstructionLoss.MeanSquaredError);
        using var folder = new TempDirectory();
        model.Save(folder.Combine("m.lkm"));
        using var loaded = (AutoencoderBase)AutoencoderFile.Load(folder.Combine("m.lkm"));
        loaded.Standardizer!.Mean.Should().Equal(standardizer.Mean);
        loaded.Standardizer.StandardDeviation.Should().Equal(standardizer.StandardDeviation);

        // The model standardises its inputs: its codes of the raw data equal an unstandardised twin's codes of the standardised data.
        using var twin = Autoencoders.Dense().ForData(data).WithHiddenLayers(16).WithLatentSize(4).WithSeed(1).Build();
        using var codes = model.EncodeDataset(data);
        using var twinCodes = twin.EncodeDataset(standardised);
        codes.allclose(twinCodes, rtol: 1e-4, atol: 1e-5).Should().BeTrue();
    }

    [Fact]
    public void Format_1_files_still_load_as_28_x_28_models_with_10_classes()
    {
        using var folder = new TempDirectory();
        using var autoencoder = Autoencoders.Dense().WithHiddenLayers(16).WithLatentSize(4).WithSeed(1).Build();
        using var classifier = LatentClassifier.For(autoencoder).WithSeed(1).Build();
        classifier.Save(folder.Combine("new.lkm"));
        ModelFileEditor.EditManifest(folder.Combine("new.lkm"), folder.Combine("old.lkm"), m =>
        {
            m["formatVersion"] = 1;
            m["autoencoder"]!.AsObject().Remove("inputShape");
            m["classifier"]!.AsObject().Remove("classCount");
        });
        using var loaded = LatentClassifier.Load(folder.Combine("old.lkm"));
        loaded.ClassCount.Should().Be(10);
        loaded.ClassNames.Should().Equal(Enumerable.Range(0, 10).Select(i => i.ToString()));
        ((AutoencoderBase)loaded.Autoencoder).SampleShape.Should().Equal([1, 28, 28]);
        using var images = rand([2, 1, 28, 28]);
        using var expected = classifier.PredictProbabilities(images);
        using var actual = loaded.PredictProbabilities(images);
        actual.eq(expected).all().item<bool>().Should().BeTrue();
    }

    [Fact]
    public void A_manifest_with_an_impossible_shape_or_class_names_is_damaged_naming_the_field()
    {
        using var folder = new TempDirectory();
        using var autoencoder = Autoencoders.Convolutional().WithChannels(4, 8).WithSeed(1).Build();
        using var classifier = LatentClassifier.For(autoencoder).WithClasses(3).Build();
        classifier.Save(folder.Combine("ok.lkm"));
        ModelFileEditor.EditManifest(folder.Combine("ok.lkm"), folder.Combine("shape.lkm"), m => m["autoencoder"]!["inputShape"] = new System.Text.Json.Nodes.JsonArray(1, 2, 2));
        ModelFileEditor.EditManifest(folder.Combine("ok.lkm"), folder.Combine("names.lkm"), m => m["classifier"]!["classNames"] = new System.Text.Json.Nodes.JsonArray("a", "a", "b"));
        var shape = () => LatentClassifier.Load(folder.Combine("shape.lkm"));
        shape.Should().Throw<ModelFileException>().WithMessage("*autoencoder.inputShape*[1, 2, 2]*too small*");
        var names = () => LatentClassifier.Load(folder.Combine("names.lkm"));
        names.Should().Throw<ModelFileException>().WithMessage("*classifier.classNames*distinct*");
    }
}
