using LatentKit.Tests.Support;
using static TorchSharp.torch;

namespace LatentKit.Tests.Models;

public class ShapeTests
{
    public static TheoryData<AutoencoderKind> Kinds => new() { AutoencoderKind.Dense, AutoencoderKind.Convolutional, AutoencoderKind.Variational };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Flat_and_image_input_give_codes_and_reconstructions_of_the_right_shape(AutoencoderKind kind)
    {
        using var model = SmallModels.Build(kind);
        using var scope = NewDisposeScope();
        var data = Synthetic.Digits(6);
        var flat = data.ImagesToTensor(ImageLayout.Flat);
        var image = data.ImagesToTensor(ImageLayout.Image);

        model.Encode(flat).shape.Should().Equal(6, model.LatentSize);
        model.Encode(image).shape.Should().Equal(6, model.LatentSize);
        SmallModels.Values(model.Encode(flat)).Should().Equal(SmallModels.Values(model.Encode(image)));

        var reconstructedFlat = model.Reconstruct(flat);
        var reconstructedImage = model.Reconstruct(image);
        reconstructedFlat.shape.Should().Equal(6, 784);
        reconstructedImage.shape.Should().Equal(6, 1, 28, 28);
        SmallModels.Values(reconstructedFlat).Should().OnlyContain(v => v >= 0 && v <= 1);

        var decoded = model.Decode(model.Encode(flat));
        decoded.shape.Should().Equal([6, .. model.InputShape]);
        SmallModels.Values(decoded).Should().Equal(SmallModels.Values(reconstructedFlat));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_wrong_image_shape_is_an_argument_exception_naming_the_shape(AutoencoderKind kind)
    {
        using var model = SmallModels.Build(kind);
        using var scope = NewDisposeScope();

        var wrongWidth = () => model.Encode(zeros(3, 100));
        wrongWidth.Should().Throw<ArgumentException>().WithMessage("*[3, 100]*").Which.ParamName.Should().Be("images");
        var wrongChannels = () => model.Reconstruct(zeros(2, 3, 28, 28));
        wrongChannels.Should().Throw<ArgumentException>().WithMessage("*[2, 3, 28, 28]*");
        var integers = () => model.Encode(zeros(new long[] { 2, 784 }, ScalarType.Int32));
        integers.Should().Throw<ArgumentException>().WithMessage("*floating-point*");
        var badCodes = () => model.Decode(zeros(2, model.LatentSize + 1));
        badCodes.Should().Throw<ArgumentException>().WithMessage($"*N x {model.LatentSize}*").Which.ParamName.Should().Be("codes");
    }

    [Fact]
    public void The_variational_autoencoder_gives_a_distribution_and_seeded_samples()
    {
        using var model = Autoencoders.Variational().WithHiddenLayers(64, 32).WithLatentSize(8).WithKlWeight(0.3).WithSeed(1).Build();
        using var defaultWeight = Autoencoders.Variational().WithHiddenLayers(8).WithLatentSize(2).Build();
        using var scope = NewDisposeScope();
        var images = Synthetic.Digits(5).ImagesToTensor(ImageLayout.Image);

        var (mean, logVariance) = model.EncodeDistribution(images);
        mean.shape.Should().Equal(5, 8);
        logVariance.shape.Should().Equal(5, 8);
        SmallModels.Values(mean).Should().Equal(SmallModels.Values(model.Encode(images)), "the code of a VAE is the mean");

        var first = SmallModels.Values(model.Sample(4, seed: 3));
        var again = SmallModels.Values(model.Sample(4, seed: 3));
        var other = SmallModels.Values(model.Sample(4, seed: 4));
        first.Should().HaveCount(4 * 784).And.Equal(again).And.OnlyContain(v => v >= 0 && v <= 1);
        other.Should().NotEqual(first);
        model.KlWeight.Should().Be(0.3);
        defaultWeight.KlWeight.Should().Be(1.0, "the documented default");

        // The weight scales the KL term of the loss: same weights (same seed), KL weight 0.3 against 0.
        using var noKl = Autoencoders.Variational().WithHiddenLayers(64, 32).WithLatentSize(8).WithKlWeight(0).WithSeed(1).Build();
        var data = Synthetic.Digits(12);
        var x = data.ImagesToTensor();
        var weighted = model.ComputeLoss(x, null).item<float>();
        var unweighted = noKl.ComputeLoss(x, null).item<float>();
        var kl = model.Evaluate(data).KlDivergence!.Value;
        kl.Should().BeGreaterThan(0);
        ((double)weighted - unweighted).Should().BeApproximately(0.3 * kl, 1e-3 + (1e-4 * kl));
    }

    [Theory]
    [InlineData(ClassifierHead.Logits)]
    [InlineData(ClassifierHead.SigmoidCrossEntropy)]
    public void The_classifier_takes_flat_and_image_input_and_gives_probabilities_that_sum_to_one(ClassifierHead head)
    {
        using var autoencoder = SmallModels.Build(AutoencoderKind.Dense);
        using var classifier = LatentClassifier.For(autoencoder).WithHead(head).WithSeed(2).Build();
        using var scope = NewDisposeScope();
        var data = Synthetic.Digits(7);

        var probabilities = classifier.PredictProbabilities(data.ImagesToTensor(ImageLayout.Image));
        probabilities.shape.Should().Equal(7, 10);
        foreach (var sum in SmallModels.Values(probabilities.sum(1)))
        {
            sum.Should().BeApproximately(1f, 1e-5f);
        }

        var fromFlat = classifier.Predict(data.ImagesToTensor(ImageLayout.Flat));
        var fromImage = classifier.Predict(data.ImagesToTensor(ImageLayout.Image));
        fromFlat.Should().HaveCount(7).And.Equal(fromImage).And.OnlyContain(d => d >= 0 && d <= 9);
        fromFlat.Should().Equal(probabilities.argmax(1).data<long>().ToArray().Select(v => (int)v));

        var wrong = () => classifier.Predict(zeros(2, 10));
        wrong.Should().Throw<ArgumentException>().WithMessage("*[2, 10]*");
    }

    [Fact]
    public void Evaluation_reports_per_pixel_losses_and_the_vae_kl()
    {
        var data = Synthetic.Digits(40);
        using var dense = SmallModels.Build(AutoencoderKind.Dense);
        using var vae = SmallModels.Build(AutoencoderKind.Variational);

        var denseMetrics = dense.Evaluate(data, batchSize: 16);
        denseMetrics.Count.Should().Be(40);
        denseMetrics.BinaryCrossEntropy.Should().BeInRange(0.3, 1.5);
        denseMetrics.MeanSquaredError.Should().BeInRange(0.01, 0.5);
        denseMetrics.KlDivergence.Should().BeNull();

        // The BCE equals the mean over pixels computed directly from the reconstructions.
        using var scope = NewDisposeScope();
        var x = data.ImagesToTensor();
        var r = dense.Reconstruct(x).clamp(1e-7, 1 - 1e-7);
        var direct = -(x * r.log() + (1 - x) * (1 - r).log()).mean().item<float>();
        denseMetrics.BinaryCrossEntropy.Should().BeApproximately(direct, 1e-4);

        vae.Evaluate(data).KlDivergence.Should().NotBeNull().And.BeGreaterThanOrEqualTo(0);
    }

    // ---- Bounds of generation (the audit: Interpolate(steps: int.MaxValue) was OOM-killed, Sample(int.MaxValue) an ExternalException) ----

    [Fact]
    public void Interpolate_refuses_more_steps_than_the_generation_bound_before_allocating()
    {
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        using var scope = NewDisposeScope();
        var images = Synthetic.Digits(2).ImagesToTensor(ImageLayout.Flat);

        var act = () => model.Interpolate(images[0], images[1], steps: 65_537);

        act.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "steps").WithMessage("*65,537*65,536*ModelLimits.MaxGeneratedSamples*");
        model.Interpolate(images[0], images[1], steps: 3).shape.Should().Equal(3, 784);
    }

    [Fact]
    public void Sample_refuses_a_count_above_the_generation_bound_before_allocating()
    {
        using var model = (IVariationalAutoencoder)SmallModels.Build(AutoencoderKind.Variational);

        var act = () => model.Sample(65_537, seed: 1);

        act.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "count").WithMessage("*65,537*65,536*ModelLimits.MaxGeneratedSamples*");
    }

    [Fact]
    public void Sample_refuses_more_values_in_all_than_the_generation_bound()
    {
        // 4,097 samples of 16,384 values: 67,125,248 values, one sample more than ModelLimits.MaxGeneratedValues (2^26).
        using var model = Autoencoders.Variational().WithInputShape(16_384).WithHiddenLayers(2).WithLatentSize(2).WithSeed(1).Build();

        var act = () => ((IVariationalAutoencoder)model).Sample(4_097, seed: 1);

        act.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "count").WithMessage("*67,125,248 values*67,108,864*ModelLimits.MaxGeneratedValues*");
    }

    // ---- Figures over an empty dataset (the audit: Evaluate(data.Take(0)) returned NaN metrics) ----

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Evaluate_refuses_an_empty_dataset_as_train_does(AutoencoderKind kind)
    {
        using var model = SmallModels.Build(kind);
        var empty = Synthetic.Digits(4).Take(0);

        var act = () => model.Evaluate(empty);

        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "data").WithMessage("Cannot evaluate * on an empty dataset*");
    }

    [Fact]
    public void A_classifier_refuses_to_evaluate_an_empty_dataset()
    {
        using var autoencoder = SmallModels.Build(AutoencoderKind.Dense);
        using var classifier = LatentClassifier.For(autoencoder).WithHiddenLayers(8).WithSeed(1).Build();

        var act = () => classifier.Evaluate(Synthetic.Digits(4).Take(0));

        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "data").WithMessage("Cannot evaluate * on an empty dataset*");
    }

    [Fact]
    public void A_disposed_tensor_is_refused_naming_the_parameter()
    {
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        using var classifier = LatentClassifier.For(model).WithClasses(2).Build();
        var images = zeros(2, 784);
        images.Dispose();
        var codes = zeros(2, 16);
        codes.Dispose();
        foreach (var (call, parameter) in new (Action, string)[]
        {
            (() => model.Encode(images), "images"),
            (() => model.Reconstruct(images), "images"),
            (() => model.Decode(codes), "codes"),
            (() => classifier.PredictProbabilities(images), "images"),
        })
        {
            var error = call.Should().Throw<ArgumentException>().Which;
            error.ParamName.Should().Be(parameter);
            error.Message.Should().Contain("disposed");
        }
    }
}
