using System.Text.Json;
using LatentKit.Onnx.Tests.Support;
using LatentKit.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentKit.Onnx.Tests;

/// <summary>
/// Models built for data that is not 28 x 28: colour and odd-sized images (zero-padded for the strides and cropped
/// back), standardised feature vectors, and classifiers with their own class count and names. ONNX Runtime gives
/// TorchSharp's outputs within 1e-5.
/// </summary>
public sealed class OtherShapeExportTests : IDisposable
{
    private static readonly TrainingRun OneThread = new() { Threads = 1 };
    private readonly TempDirectory folder = new();

    public static TheoryData<string> Models => new() { "conv 3x30x30", "conv-vae 1x17x23", "conv 1x16x16 one stride", "dense 3x32x32", "vae 2x9x7" };

    [Theory]
    [MemberData(nameof(Models))]
    public void Encoder_decoder_and_autoencoder_of_other_image_shapes_match_TorchSharp(string which)
    {
        using IAutoencoder model = which switch
        {
            "conv 3x30x30" => Autoencoders.Convolutional().WithInputShape(3, 30, 30).WithChannels(4, 8).WithLatentSize(128).WithSeed(1).Build(),
            "conv-vae 1x17x23" => Autoencoders.ConvolutionalVariational().WithInputShape(1, 17, 23).WithChannels(4, 8).WithLatentSize(60).WithSeed(1).Build(),
            "conv 1x16x16 one stride" => Autoencoders.Convolutional().WithInputShape(1, 16, 16).WithChannels(6).WithLatentSize(64).WithSeed(1).Build(),
            "dense 3x32x32" => Autoencoders.Dense().WithInputShape(3, 32, 32).WithHiddenLayers(64).WithLatentSize(12).WithSeed(1).Build(),
            _ => Autoencoders.Variational().WithInputShape(2, 9, 7).WithHiddenLayers(32, 16).WithLatentSize(6).WithSeed(1).Build(),
        };
        long[] sampleShape = [.. model.InputShape];
        model.Train(RandomImages(sampleShape, 64), new TrainingOptions { Epochs = 1, BatchSize = 16 }, OneThread);

        AssertAutoencoderMatches(model, rand([40, .. sampleShape]), which);
    }

    [Fact]
    public void A_dense_autoencoder_on_standardised_30_wide_features_standardises_inside_the_graph_and_answers_in_the_data_units()
    {
        var rows = Enumerable.Range(0, 200 * 30).Select(i => (float)((i * 7919 % 1000 / 100.0) + (i % 30))).ToArray();
        var data = Dataset.FromFeatures(rows, 30);
        var standardizer = FeatureStandardizer.Fit(data);
        using var model = Autoencoders.Dense().ForData(data).WithStandardization(standardizer).WithHiddenLayers(16).WithLatentSize(4).WithSeed(1).Build();
        model.Train(data, new TrainingOptions { Epochs = 1, BatchSize = 50 }, OneThread);

        var info = AssertAutoencoderMatches(model, tensor(rows.Take(40 * 30).ToArray()).reshape(40, 30), "standardised features");

        info.Metadata[OnnxMetadataKeys.InputNormalization].Should().Be(OnnxExport.StandardizedNormalization);
        info.Metadata[OnnxMetadataKeys.InputShape].Should().Be("30");
    }

    [Fact]
    public void A_classifier_with_three_named_classes_on_16x16_images_matches_TorchSharp_and_stores_the_names()
    {
        using var autoencoder = Autoencoders.Convolutional().WithInputShape(1, 16, 16).WithChannels(4).WithLatentSize(64).WithSeed(1).Build();
        var labels = Enumerable.Range(0, 90).Select(i => i % 3).ToArray();
        var data = Dataset.FromImages(Enumerable.Range(0, 90 * 256).Select(i => (float)((i * 31 % 97) / 97.0)).ToArray(), 1, 16, 16, labels, 3, ["circle", "square", "triangle"]);
        using var classifier = LatentClassifier.For(autoencoder).ForData(data).WithHiddenLayers(8).WithBatchNorm().WithSeed(2).Build();
        classifier.Train(data, new TrainingOptions { Epochs = 2, BatchSize = 30 }, OneThread);
        var info = OnnxExport.Classifier(classifier, folder.Combine("shapes.onnx"));

        using var scope = NewDisposeScope();
        var images = rand(25, 1, 16, 16);
        var outputs = Ort.Run(info.Path, OnnxNames.Images, images);
        outputs[OnnxNames.Probabilities].ShouldMatch(classifier.PredictProbabilities(images), "three-class probabilities");
        ((long[])outputs[OnnxNames.Label].Values).Select(v => (int)v).Should().Equal(classifier.Predict(images));
        info.Outputs[0].Shape.Should().Equal(-1, 3);
        JsonSerializer.Deserialize<string[]>(info.Metadata[OnnxMetadataKeys.ClassNames]).Should().Equal("circle", "square", "triangle");
    }

    [Fact]
    public void A_raw_values_baseline_on_3x32x32_colour_images_flattens_inside_the_graph_and_matches_TorchSharp()
    {
        var data = SyntheticShapes.Colour(80);
        using var classifier = LatentClassifier.ForPixels(data).WithHiddenLayers(16).WithSeed(2).Build();
        classifier.Train(data, new TrainingOptions { Epochs = 2, BatchSize = 20 }, OneThread);
        var info = OnnxExport.Classifier(classifier, folder.Combine("pixels-colour.onnx"));

        using var scope = NewDisposeScope();
        var images = rand(25, 3, 32, 32);
        var outputs = Ort.Run(info.Path, OnnxNames.Images, images);
        outputs[OnnxNames.Probabilities].ShouldMatch(classifier.PredictProbabilities(images), "raw-values probabilities");
        ((long[])outputs[OnnxNames.Label].Values).Select(v => (int)v).Should().Equal(classifier.Predict(images));
        info.Inputs.Single().Should().Be(new OnnxTensorInfo(OnnxNames.Images, "float32", [-1, 3, 32, 32]));
        info.Metadata[OnnxMetadataKeys.ModelKind].Should().Be("Pixels");
        JsonSerializer.Deserialize<string[]>(info.Metadata[OnnxMetadataKeys.ClassNames]).Should().Equal(SyntheticShapes.ColourNames);
    }

    [Fact]
    public void A_custom_autoencoder_of_user_modules_on_3x16x16_images_matches_TorchSharp()
    {
        torch.manual_seed(11);
        var encoder = nn.Sequential(
            ("conv", nn.Conv2d(3, 6, 3, stride: 2, padding: 1)), ("bn", nn.BatchNorm2d(6)), ("act", nn.LeakyReLU(0.1)),
            ("flatten", nn.Flatten()), ("code", nn.Linear(6 * 8 * 8, 10)));
        var decoder = nn.Sequential(
            ("expand", nn.Linear(10, 6 * 8 * 8)), ("act", nn.ReLU()), ("unflatten", nn.Unflatten(1, [6, 8, 8])),
            ("deconv", nn.ConvTranspose2d(6, 3, 3, stride: 2, padding: 1, output_padding: 1)));
        using var model = Autoencoders.Custom(encoder, decoder, [3, 16, 16], latentSize: 10);
        model.Train(RandomImages([3, 16, 16], 48), new TrainingOptions { Epochs = 1, BatchSize = 16 }, OneThread);

        var info = AssertAutoencoderMatches(model, rand(30, 3, 16, 16), "custom autoencoder");

        info.Metadata[OnnxMetadataKeys.ModelKind].Should().Be("Custom");
    }

    [Fact]
    public void The_distribution_of_a_convolutional_VAE_and_of_a_custom_VAE_matches_EncodeDistribution()
    {
        using var convVae = Autoencoders.ConvolutionalVariational().WithInputShape(1, 17, 23).WithChannels(4, 8).WithLatentSize(30).WithSeed(3).Build();
        manual_seed(5);
        using var customVae = Autoencoders.CustomVariational(
            nn.Sequential(nn.Flatten(), nn.Linear(2 * 9 * 7, 20), nn.ReLU(), nn.Linear(20, 2 * 5)),
            nn.Sequential(nn.Linear(5, 20), nn.ReLU(), nn.Linear(20, 2 * 9 * 7), nn.Unflatten(1, [2, 9, 7])),
            [2, 9, 7],
            latentSize: 5);
        foreach (var (name, vae, shape) in new (string, IVariationalAutoencoder, long[])[] { ("conv-vae", convVae, [1, 17, 23]), ("custom-vae", customVae, [2, 9, 7]) })
        {
            var file = OnnxExport.EncoderDistribution(vae, folder.Combine($"{name}-distribution.onnx"));
            using var scope = NewDisposeScope();
            var images = rand([12, .. shape]);
            var (mean, logVariance) = vae.EncodeDistribution(images);
            var outputs = Ort.Run(file.Path, OnnxNames.Images, images);
            outputs[OnnxNames.Mean].ShouldMatch(mean, $"{name} mean");
            outputs[OnnxNames.LogVariance].ShouldMatch(logVariance, $"{name} log-variance");
        }
    }

    [Fact]
    public void A_custom_VAE_exports_the_mean_half_of_its_encoder_output()
    {
        torch.manual_seed(12);
        var encoder = nn.Sequential(("hidden", nn.Linear(40, 16)), ("act", nn.Tanh()), ("both", nn.Linear(16, 2 * 5)));
        var decoder = nn.Sequential(("hidden", nn.Linear(5, 16)), ("act", nn.ELU()), ("out", nn.Linear(16, 40)));
        using var model = Autoencoders.CustomVariational(encoder, decoder, [40], latentSize: 5);
        model.Train(RandomImages([40], 48), new TrainingOptions { Epochs = 1, BatchSize = 16 }, OneThread);

        var info = AssertAutoencoderMatches(model, rand(30, 40), "custom VAE");

        info.Outputs.Single().Shape.Should().Equal(-1, 5);
    }

    public void Dispose() => folder.Dispose();

    private static Dataset RandomImages(long[] shape, int count)
    {
        var size = (int)shape.Aggregate(1L, (a, b) => a * b);
        var values = Enumerable.Range(0, count * size).Select(i => (float)((i * 7919 % 1013) / 1013.0)).ToArray();
        return shape.Length == 3
            ? Dataset.FromImages(values, (int)shape[0], (int)shape[1], (int)shape[2])
            : Dataset.FromFeatures(values, size, SampleRange.ZeroToOne);
    }

    private OnnxModelInfo AssertAutoencoderMatches(IAutoencoder model, Tensor samples, string what)
    {
        var encoder = OnnxExport.Encoder(model, folder.Combine("encoder.onnx"));
        var decoder = OnnxExport.Decoder(model, folder.Combine("decoder.onnx"));
        var autoencoder = OnnxExport.Autoencoder(model, folder.Combine("autoencoder.onnx"));
        using var scope = NewDisposeScope();
        var codes = model.Encode(samples);
        Ort.Run(encoder.Path, OnnxNames.Images, samples)[OnnxNames.Codes].ShouldMatch(codes, $"{what} encoder");
        Ort.Run(decoder.Path, OnnxNames.Codes, codes)[OnnxNames.Reconstruction].ShouldMatch(model.Decode(codes), $"{what} decoder");
        Ort.Run(autoencoder.Path, OnnxNames.Images, samples)[OnnxNames.Reconstruction].ShouldMatch(model.Reconstruct(samples), $"{what} autoencoder");
        encoder.Inputs.Single().Shape.Should().Equal([-1, .. model.InputShape]);
        return encoder;
    }
}
