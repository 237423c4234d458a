using LatentKit.Tests.Support;
using TorchSharp;

namespace LatentKit.Tests.Models;

/// <summary><see cref="LatentClassifier.ForPixels(Dataset)"/>: the raw-values baseline for data of any shape.</summary>
public sealed class RawValuesBaselineTests
{
    private static readonly TrainingRun OneThread = new() { Threads = 1 };

    [Fact]
    public void On_colour_images_it_learns_the_four_classes_and_names_them()
    {
        var training = SyntheticShapes.Colour(160);
        var test = SyntheticShapes.Colour(80, seed: 9);
        using var classifier = LatentClassifier.ForPixels(training).WithHiddenLayers(32).WithSeed(1).Build();

        classifier.Train(training, new TrainingOptions { Epochs = 8, BatchSize = 16, LearningRate = 3e-3, Seed = 2 }, OneThread);

        classifier.Autoencoder.InputShape.Should().Equal(3L, 32L, 32L);
        classifier.Autoencoder.LatentSize.Should().Be(3 * 32 * 32);
        classifier.ClassNames.Should().Equal(SyntheticShapes.ColourNames);
        var metrics = classifier.Evaluate(test);
        metrics.Accuracy.Should().BeGreaterThan(0.8, "the four shapes differ in colour and place; chance is 0.25");
        metrics.ClassNames.Should().Equal(SyntheticShapes.ColourNames);
    }

    [Fact]
    public void Images_and_their_flattened_rows_give_the_same_probabilities()
    {
        var data = SyntheticShapes.Colour(40);
        using var classifier = LatentClassifier.ForPixels(data).WithSeed(3).Build();
        using var images = torch.rand(6, 3, 32, 32);
        using var rows = images.reshape(6, 3 * 32 * 32);

        using var fromImages = classifier.PredictProbabilities(images);
        using var fromRows = classifier.PredictProbabilities(rows);

        torch.allclose(fromImages, fromRows, rtol: 0, atol: 0).Should().BeTrue();
        using var codes = classifier.Autoencoder.Encode(images);
        torch.allclose(codes, rows, rtol: 0, atol: 0).Should().BeTrue("the code of a sample is its values, flattened");
    }

    [Fact]
    public void On_feature_vectors_it_uses_the_values_as_they_are()
    {
        var data = SyntheticShapes.Vectors(200);
        using var classifier = LatentClassifier.ForPixels(data).WithHiddenLayers(16).WithSeed(1).Build();

        classifier.Train(data, new TrainingOptions { Epochs = 10, BatchSize = 20, LearningRate = 3e-3, Seed = 2 }, OneThread);

        classifier.Autoencoder.InputShape.Should().Equal(30L);
        classifier.Evaluate(SyntheticShapes.Vectors(100, seed: 5)).Accuracy.Should().BeGreaterThan(0.8, "two classes; chance is 0.5");
    }

    [Fact]
    public void Data_of_another_shape_is_refused_with_both_shapes_named()
    {
        using var classifier = LatentClassifier.ForPixels(SyntheticShapes.Colour(20)).Build();

        var train = () => classifier.Train(SyntheticShapes.Grey(20), new TrainingOptions { Epochs = 1 }, OneThread);
        var evaluate = () => classifier.Evaluate(SyntheticShapes.Grey(20));
        var predict = () => classifier.Predict(torch.rand(2, 1, 16, 16));

        train.Should().Throw<ArgumentException>().WithMessage("Dataset '*' has samples of shape [1, 16, 16], but the raw-values baseline takes input of shape [3, 32, 32]*");
        evaluate.Should().Throw<ArgumentException>().WithMessage("*shape [1, 16, 16], but the raw-values baseline takes input of shape [3, 32, 32]*");
        predict.Should().Throw<ArgumentException>().WithMessage("Images must be shaped N x 3072 or N x 3 x 32 x 32; got [2, 1, 16, 16].*");
    }

    [Fact]
    public void Unlabelled_data_cannot_make_a_baseline()
    {
        var act = () => LatentClassifier.ForPixels(SyntheticShapes.Vectors(10, labelled: false));
        act.Should().Throw<ArgumentException>().WithMessage("*has no labels*");
    }

    [Fact]
    public void The_MNIST_baseline_still_takes_784_values()
    {
        using var classifier = LatentClassifier.ForPixels().Build();
        classifier.Autoencoder.InputShape.Should().Equal(784L);
        using var probabilities = classifier.PredictProbabilities(torch.rand(3, 1, 28, 28));
        probabilities.shape.Should().Equal(3, 10);
    }
}
