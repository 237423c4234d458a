using LatentKit.Onnx.Tests.Support;
using LatentKit.Tests.Support;
using static TorchSharp.torch;

namespace LatentKit.Onnx.Tests;

/// <summary>
/// Every exportable LatentKit model, trained briefly on real MNIST, gives the same outputs in ONNX Runtime as in
/// TorchSharp on real MNIST test images (within 1e-5), at batch sizes 1 and 500 (the batch dimension is dynamic).
/// </summary>
[Collection(RealMnistFixture.Collection)]
public sealed class ModelExportTests(RealMnistFixture mnist) : IDisposable
{
    private static readonly TrainingRun OneThread = new() { Threads = 1 };
    private readonly TempDirectory folder = new();

    public static TheoryData<AutoencoderKind> Kinds => new() { AutoencoderKind.Dense, AutoencoderKind.Convolutional, AutoencoderKind.Variational };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Encoder_decoder_and_autoencoder_match_TorchSharp_on_real_test_images(AutoencoderKind kind)
    {
        using var model = TrainedAutoencoder(kind);
        var encoderFile = OnnxExport.Encoder(model, folder.Combine("encoder.onnx"));
        var decoderFile = OnnxExport.Decoder(model, folder.Combine("decoder.onnx"));
        var autoencoderFile = OnnxExport.Autoencoder(model, folder.Combine("autoencoder.onnx"));

        foreach (var count in new[] { 1, 500 })
        {
            using var scope = NewDisposeScope();
            var images = TestImages(model, count);
            var codes = model.Encode(images);
            Ort.Run(encoderFile.Path, OnnxNames.Images, images)[OnnxNames.Codes].ShouldMatch(codes, $"{kind} encoder, batch {count}");
            Ort.Run(decoderFile.Path, OnnxNames.Codes, codes)[OnnxNames.Reconstruction].ShouldMatch(model.Decode(codes), $"{kind} decoder, batch {count}");
            Ort.Run(autoencoderFile.Path, OnnxNames.Images, images)[OnnxNames.Reconstruction].ShouldMatch(model.Reconstruct(images), $"{kind} autoencoder, batch {count}");
        }

        encoderFile.Inputs.Single().Shape.Should().Equal([-1, .. model.InputShape]);
        encoderFile.Outputs.Single().Should().Be(new OnnxTensorInfo(OnnxNames.Codes, "float32", [-1, model.LatentSize]));
        decoderFile.Outputs.Single().Shape.Should().Equal([-1, .. model.InputShape]);
    }

    [Fact]
    public void A_variational_encoders_distribution_matches_EncodeDistribution_on_real_test_images()
    {
        using var model = TrainedAutoencoder(AutoencoderKind.Variational);
        var vae = (IVariationalAutoencoder)model;
        var file = OnnxExport.EncoderDistribution(vae, folder.Combine("distribution.onnx"));

        using var scope = NewDisposeScope();
        var images = TestImages(model, 500);
        var (mean, logVariance) = vae.EncodeDistribution(images);
        var outputs = Ort.Run(file.Path, OnnxNames.Images, images);
        outputs[OnnxNames.Mean].ShouldMatch(mean, "mean");
        outputs[OnnxNames.LogVariance].ShouldMatch(logVariance, "log-variance");
        outputs[OnnxNames.Mean].ShouldMatch(model.Encode(images), "the mean is Encode's code");
        file.Outputs.Select(o => o.Name).Should().Equal(OnnxNames.Mean, OnnxNames.LogVariance);
        file.Outputs.Should().OnlyContain(o => o.Shape.SequenceEqual(new long[] { -1, model.LatentSize }));
    }

    [Theory]
    [InlineData(AutoencoderKind.Dense, ClassifierHead.Logits, false, 0.0, false)]
    [InlineData(AutoencoderKind.Convolutional, ClassifierHead.SigmoidCrossEntropy, true, 0.2, false)]
    [InlineData(AutoencoderKind.Variational, ClassifierHead.Logits, true, 0.1, true)]
    public void Classifier_probabilities_and_labels_match_TorchSharp_on_real_test_images(AutoencoderKind kind, ClassifierHead head, bool batchNorm, double dropout, bool fineTuned)
    {
        using var autoencoder = TrainedAutoencoder(kind);
        var builder = LatentClassifier.For(autoencoder).WithHead(head).WithHiddenLayers(32).WithBatchNorm(batchNorm).WithDropout(dropout).WithSeed(3);
        using var classifier = (fineTuned ? builder.WithFineTuning(1e-4) : builder).Build();
        classifier.Train(mnist.Train.Take(1000), new TrainingOptions { Epochs = 2, BatchSize = 100 }, OneThread);

        AssertClassifierMatches(classifier, $"{kind} {head}");
    }

    [Fact]
    public void Raw_pixel_classifier_matches_TorchSharp_on_real_test_images()
    {
        using var classifier = LatentClassifier.ForPixels().WithHiddenLayers(32).WithSeed(5).Build();
        classifier.Train(mnist.Train.Take(1000), new TrainingOptions { Epochs = 2, BatchSize = 100 }, OneThread);

        AssertClassifierMatches(classifier, "pixels");
    }

    [Fact]
    public void Classifier_head_alone_maps_codes_to_the_same_probabilities_and_labels()
    {
        using var autoencoder = TrainedAutoencoder(AutoencoderKind.Dense);
        using var classifier = LatentClassifier.For(autoencoder).WithHiddenLayers(32).WithBatchNorm().WithSeed(3).Build();
        classifier.Train(mnist.Train.Take(1000), new TrainingOptions { Epochs = 2, BatchSize = 100 }, OneThread);
        var file = OnnxExport.ClassifierHead(classifier, folder.Combine("head.onnx"));

        using var scope = NewDisposeScope();
        var images = TestImages(autoencoder, 500);
        var codes = autoencoder.Encode(images);
        var outputs = Ort.Run(file.Path, OnnxNames.Codes, codes);
        outputs[OnnxNames.Probabilities].ShouldMatch(classifier.PredictProbabilities(images), "head probabilities");
        ((long[])outputs[OnnxNames.Label].Values).Select(v => (int)v).Should().Equal(classifier.Predict(images));
        file.Inputs.Single().Should().Be(new OnnxTensorInfo(OnnxNames.Codes, "float32", [-1, autoencoder.LatentSize]));
    }

    [Fact]
    public void Exported_classifier_gives_LatentKits_accuracy_on_the_whole_test_set()
    {
        using var autoencoder = TrainedAutoencoder(AutoencoderKind.Dense);
        using var classifier = LatentClassifier.For(autoencoder).WithHiddenLayers(32).WithSeed(3).Build();
        classifier.Train(mnist.Train.Take(3000), new TrainingOptions { Epochs = 5, BatchSize = 50, LearningRate = 1e-2 }, OneThread);
        var file = OnnxExport.Classifier(classifier, folder.Combine("classifier.onnx"));

        using var scope = NewDisposeScope();
        var images = mnist.Test.ImagesToTensor();
        var labels = (long[])Ort.Run(file.Path, OnnxNames.Images, images)[OnnxNames.Label].Values;
        var correct = labels.Where((label, i) => label == mnist.Test.GetLabel(i)).Count();

        var expected = classifier.Evaluate(mnist.Test).Accuracy;
        ((double)correct / mnist.Test.Count).Should().Be(expected);
        expected.Should().BeGreaterThan(0.3, "a classifier that learned nothing (0.1) would make this comparison meaningless");
    }

    public void Dispose() => folder.Dispose();

    private void AssertClassifierMatches(LatentClassifier classifier, string what)
    {
        var file = OnnxExport.Classifier(classifier, folder.Combine("classifier.onnx"));
        foreach (var count in new[] { 1, 500 })
        {
            using var scope = NewDisposeScope();
            var images = TestImages(classifier.Autoencoder, count);
            var outputs = Ort.Run(file.Path, OnnxNames.Images, images);
            outputs[OnnxNames.Probabilities].ShouldMatch(classifier.PredictProbabilities(images), $"{what} probabilities, batch {count}");
            ((long[])outputs[OnnxNames.Label].Values).Select(v => (int)v).Should().Equal(classifier.Predict(images), $"{what} labels, batch {count}");
        }

        file.Outputs.Should().Equal(
            new OnnxTensorInfo(OnnxNames.Probabilities, "float32", [-1, MnistDataset.ClassCount]),
            new OnnxTensorInfo(OnnxNames.Label, "int64", [-1]));
    }

    private IAutoencoder TrainedAutoencoder(AutoencoderKind kind)
    {
        IAutoencoder model = kind switch
        {
            AutoencoderKind.Dense => Autoencoders.Dense().WithHiddenLayers(64, 32).WithLatentSize(16).WithSeed(1).Build(),
            AutoencoderKind.Convolutional => Autoencoders.Convolutional().WithChannels(4, 8).WithLatentSize(49).WithSeed(1).Build(),
            _ => Autoencoders.Variational().WithHiddenLayers(64, 32).WithLatentSize(8).WithSeed(1).Build(),
        };
        model.Train(mnist.Train.Take(3000), new TrainingOptions { Epochs = 2, BatchSize = 50, LearningRate = 3e-3 }, OneThread);
        return model;
    }

    /// <summary>The first <paramref name="count"/> real MNIST test images, shaped as the model takes them.</summary>
    private Tensor TestImages(IAutoencoder model, int count) =>
        mnist.Test.ImagesToTensor(0, count, model.InputShape.Count == 1 ? ImageLayout.Flat : ImageLayout.Image);
}
