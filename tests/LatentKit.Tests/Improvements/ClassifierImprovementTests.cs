using LatentKit.Tests.Support;
using static TorchSharp.torch;

namespace LatentKit.Tests.Improvements;

public class ClassifierImprovementTests
{
    private static readonly TrainingOptions Quick = new() { Epochs = 3, BatchSize = 32, LearningRate = 3e-3, Seed = 5 };

    private static readonly TrainingRun OneThread = new() { Threads = 1 };

    private static float[] EncoderWeights(IAutoencoder model) =>
        ((AutoencoderBase)model).EncoderLayers.parameters().SelectMany(p => SmallModels.Values(p.detach())).ToArray();

    [Fact]
    public void A_head_with_batch_norm_and_dropout_has_those_layers_gives_n_by_10_probabilities_and_learns()
    {
        var data = Synthetic.Digits(200);
        using var autoencoder = SmallModels.Build(AutoencoderKind.Dense);
        using var classifier = LatentClassifier.For(autoencoder).WithHiddenLayers(32, 16).WithBatchNorm().WithDropout(0.2).WithSeed(3).Build();
        var names = classifier.Head.named_children().Select(c => c.name).ToArray();
        names.Should().Equal("linear1", "batchnorm1", "relu1", "dropout1", "linear2", "batchnorm2", "relu2", "dropout2", "linear3");
        classifier.BatchNorm.Should().BeTrue();
        classifier.Dropout.Should().Be(0.2);

        var history = classifier.Train(data, Quick with { Epochs = 6, LearningRateSchedule = LearningRateSchedule.Cosine }, OneThread);
        history.Epochs[^1].TrainingLoss.Should().BeLessThan(history.Epochs[0].TrainingLoss);
        using var scope = NewDisposeScope();
        var probabilities = classifier.PredictProbabilities(data.ImagesToTensor(0, 7));
        probabilities.shape.Should().Equal(7, 10);
        SmallModels.Values(probabilities.sum(1)).Should().OnlyContain(v => Math.Abs(v - 1) < 1e-4);
    }

    [Fact]
    public void A_plain_head_keeps_the_module_names_of_the_reference_layout()
    {
        using var autoencoder = SmallModels.Build(AutoencoderKind.Dense);
        using var classifier = LatentClassifier.For(autoencoder).Build();
        classifier.Head.named_children().Select(c => c.name).Should().Equal("linear1", "relu1", "linear2");
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void Dropout_outside_0_to_1_is_rejected(double probability)
    {
        using var autoencoder = SmallModels.Build(AutoencoderKind.Dense);
        var act = () => LatentClassifier.For(autoencoder).WithDropout(probability).Build();
        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "probability");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1e-3)]
    [InlineData(double.PositiveInfinity)]
    public void A_non_positive_or_infinite_encoder_learning_rate_is_rejected(double rate)
    {
        using var autoencoder = SmallModels.Build(AutoencoderKind.Dense);
        var act = () => LatentClassifier.For(autoencoder).WithFineTuning(rate).Build();
        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "encoderLearningRate");
    }

    [Fact]
    public void The_pixel_baseline_cannot_be_fine_tuned_or_saved()
    {
        var fine = () => LatentClassifier.ForPixels().WithFineTuning(1e-3).Build();
        fine.Should().Throw<ArgumentException>().Where(e => e.ParamName == "encoderLearningRate");
        using var classifier = LatentClassifier.ForPixels().Build();
        var save = () => classifier.Save(Path.Combine(Path.GetTempPath(), "never-written.lkm"));
        save.Should().Throw<NotSupportedException>();
    }

    [Fact]
    public void The_pixel_baseline_is_the_same_head_on_784_pixels_and_learns_synthetic_digits()
    {
        var data = Synthetic.Digits(200);
        using var classifier = LatentClassifier.ForPixels().WithHiddenLayers(32).WithSeed(1).Build();
        classifier.Autoencoder.LatentSize.Should().Be(784);
        classifier.Head.named_children().First().module.Should().BeOfType<TorchSharp.Modules.Linear>()
            .Which.weight!.shape.Should().Equal(32, 784);
        classifier.Train(data, Quick with { Epochs = 5 }, OneThread);
        classifier.Evaluate(data).Accuracy.Should().BeGreaterThan(0.9);
    }

    [Theory]
    [InlineData(AutoencoderKind.Dense)]
    [InlineData(AutoencoderKind.Convolutional)]
    [InlineData(AutoencoderKind.Variational)]
    public void The_frozen_path_never_changes_encoder_weights(AutoencoderKind kind)
    {
        using var autoencoder = SmallModels.Build(kind);
        var before = EncoderWeights(autoencoder);
        using var classifier = LatentClassifier.For(autoencoder).WithBatchNorm().WithDropout(0.1).Build();
        classifier.IsFineTuned.Should().BeFalse();
        classifier.Autoencoder.Should().BeSameAs(autoencoder);
        classifier.Train(Synthetic.Digits(100), Quick with { LearningRateSchedule = LearningRateSchedule.Cosine }, OneThread);
        EncoderWeights(autoencoder).Should().Equal(before);
    }

    [Theory]
    [InlineData(AutoencoderKind.Dense)]
    [InlineData(AutoencoderKind.Convolutional)]
    [InlineData(AutoencoderKind.Variational)]
    public void Fine_tuning_changes_the_classifiers_own_copy_of_the_encoder_and_never_the_given_autoencoder(AutoencoderKind kind)
    {
        using var autoencoder = SmallModels.Build(kind);
        var before = EncoderWeights(autoencoder);
        using var classifier = LatentClassifier.For(autoencoder).WithFineTuning(1e-3).WithSeed(2).Build();
        classifier.IsFineTuned.Should().BeTrue();
        classifier.EncoderLearningRate.Should().Be(1e-3);
        classifier.Autoencoder.Should().NotBeSameAs(autoencoder);
        EncoderWeights(classifier.Autoencoder).Should().Equal(before, "the copy starts from the given weights");

        var history = classifier.Train(Synthetic.Digits(100), Quick, OneThread);

        history.Epochs.Should().HaveCount(3);
        EncoderWeights(autoencoder).Should().Equal(before, "the given autoencoder is never trained");
        EncoderWeights(classifier.Autoencoder).Should().NotEqual(before, "fine-tuning trains the copy's encoder");
    }

    [Fact]
    public void Fine_tuning_is_end_to_end_and_reaches_high_training_accuracy_and_disposing_frees_the_copy_only()
    {
        var data = Synthetic.Digits(200);
        using var autoencoder = SmallModels.Build(AutoencoderKind.Dense);
        var classifier = LatentClassifier.For(autoencoder).WithFineTuning(1e-3).WithSeed(2).Build();
        classifier.Train(data, Quick with { Epochs = 5 }, OneThread);
        classifier.Evaluate(data).Accuracy.Should().BeGreaterThan(0.9);
        var copy = classifier.Autoencoder;
        classifier.Dispose();
        var useCopy = () => copy.Encode(zeros(1, 784));
        useCopy.Should().Throw<ObjectDisposedException>();
        using var stillUsable = autoencoder.Encode(zeros(1, 784));
    }

    [Fact]
    public void Fine_tuned_and_batch_norm_classifiers_round_trip_through_a_file()
    {
        using var temp = new TempDirectory();
        var data = Synthetic.Digits(60);
        using var autoencoder = SmallModels.Build(AutoencoderKind.Dense);
        using var classifier = LatentClassifier.For(autoencoder).WithBatchNorm().WithDropout(0.3).WithFineTuning(5e-4).WithSeed(4).Build();
        classifier.Train(data, Quick with { Epochs = 2 }, OneThread);
        var path = Path.Combine(temp.Path, "fine.lkm");
        classifier.Save(path);
        using var loaded = LatentClassifier.Load(path);
        loaded.IsFineTuned.Should().BeTrue();
        loaded.BatchNorm.Should().BeTrue();
        loaded.Dropout.Should().Be(0.3);
        using var images = data.ImagesToTensor();
        loaded.Predict(images).Should().Equal(classifier.Predict(images));
    }
}
