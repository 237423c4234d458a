using LatentKit.Tests.Support;
using static TorchSharp.torch;

namespace LatentKit.Tests.Improvements;

public class RepresentationAndDataTests
{
    private static readonly TrainingOptions Quick = new() { Epochs = 2, BatchSize = 32, LearningRate = 3e-3, Seed = 5 };

    private static readonly TrainingRun OneThread = new() { Threads = 1 };

    private static DenseAutoencoder Denoising(double std, double mask) =>
        Autoencoders.Dense().WithHiddenLayers(32).WithLatentSize(8).WithDenoising(std, mask).WithSeed(1).Build();

    [Theory]
    [InlineData(-0.1, 0.0, "noiseStd")]
    [InlineData(1.5, 0.0, "noiseStd")]
    [InlineData(double.NaN, 0.0, "noiseStd")]
    [InlineData(0.1, -0.1, "maskFraction")]
    [InlineData(0.1, 1.0, "maskFraction")]
    public void Denoising_settings_out_of_range_are_rejected(double std, double mask, string parameter)
    {
        var act = () => Denoising(std, mask);
        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == parameter);
    }

    [Fact]
    public void Denoising_is_seeded_reproducible_changes_training_and_never_touches_evaluation()
    {
        var data = Synthetic.Digits(96);
        double[] Losses(double std, double mask, int seed)
        {
            using var model = Denoising(std, mask);
            return model.Train(data, Quick with { Seed = seed }, OneThread).Epochs.Select(e => e.TrainingLoss).ToArray();
        }

        Losses(0.3, 0.2, 5).Should().Equal(Losses(0.3, 0.2, 5), "the same seed gives the same noise");
        Losses(0.3, 0.2, 5).Should().NotEqual(Losses(0.3, 0.2, 6), "another seed gives other noise (and batch order)");
        Losses(0.3, 0.2, 5).Should().NotEqual(Losses(0, 0, 5), "the noise changes what is trained on");

        // The same seed and architecture without denoising has the same weights: any noise in evaluation or encoding
        // would make the denoising model's figures differ from the plain one's.
        using var denoising = Denoising(0.5, 0.5);
        using var plain = Denoising(0, 0);
        denoising.IsDenoising.Should().BeTrue();
        plain.IsDenoising.Should().BeFalse();
        denoising.Evaluate(data).Should().Be(plain.Evaluate(data), "evaluation adds no noise");
        using var scope = NewDisposeScope();
        var images = data.ImagesToTensor(0, 4);
        SmallModels.Values(denoising.Encode(images)).Should().Equal(SmallModels.Values(plain.Encode(images)), "encoding adds no noise");
        SmallModels.Values(denoising.Reconstruct(images)).Should().Equal(SmallModels.Values(plain.Reconstruct(images)), "reconstructing adds no noise");
    }

    [Fact]
    public void Shift_augmentation_is_seeded_keeps_originals_first_and_labels()
    {
        var data = Synthetic.Digits(30);
        var a = data.AugmentWithShifts(2, 2, seed: 9);
        var b = data.AugmentWithShifts(2, 2, seed: 9);
        var c = data.AugmentWithShifts(2, 2, seed: 10);

        a.Count.Should().Be(90);
        a.Pixels.ToArray().Should().Equal(b.Pixels.ToArray());
        a.Pixels.ToArray().Should().NotEqual(c.Pixels.ToArray());
        a.Pixels.Span[..(30 * 784)].ToArray().Should().Equal(data.Pixels.ToArray());
        a.Labels.ToArray().Should().Equal([.. data.Labels.ToArray(), .. data.Labels.ToArray(), .. data.Labels.ToArray()]);
        for (var i = 30; i < 90; i++)
        {
            a.GetImage(i).ToArray().Should().NotEqual(data.GetImage(i % 30).ToArray(), "every copy is shifted by at least one pixel");
        }
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(-2, 1)]
    [InlineData(0, -2)]
    [InlineData(2, 2)]
    public void A_shift_moves_the_image_and_fills_the_border_with_background(int dx, int dy)
    {
        var source = new byte[784];
        source[(10 * 28) + 12] = 200;
        source[(0 * 28) + 0] = 99;
        var target = new byte[784];
        MnistDataset.Shift(source, target, dx, dy);
        target[((10 + dy) * 28) + 12 + dx].Should().Be(200);
        target.Count(v => v != 0).Should().Be(dx >= 0 && dy >= 0 ? 2 : 1, "a pixel moved off the image is dropped");
    }

    [Theory]
    [InlineData(0, 1, "maxShift")]
    [InlineData(9, 1, "maxShift")]
    [InlineData(2, 0, "copies")]
    public void Shift_settings_out_of_range_are_rejected(int maxShift, int copies, string parameter)
    {
        var act = () => Synthetic.Digits(10).AugmentWithShifts(maxShift, copies, 1);
        act.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == parameter);
    }

    [Fact]
    public void Learning_rate_schedules_give_the_documented_factors()
    {
        var cosine = new TrainingOptions { Epochs = 4, LearningRateSchedule = LearningRateSchedule.Cosine };
        cosine.LearningRateFactor(1, 0, 10).Should().Be(1);
        cosine.LearningRateFactor(3, 0, 10).Should().BeApproximately(0.5, 1e-12);
        cosine.LearningRateFactor(4, 9, 10).Should().BeLessThan(0.01);
        var step = new TrainingOptions { Epochs = 30, LearningRateSchedule = LearningRateSchedule.Step, LearningRateStepEpochs = 10, LearningRateStepFactor = 0.5 };
        step.LearningRateFactor(10, 5, 10).Should().Be(1);
        step.LearningRateFactor(11, 0, 10).Should().Be(0.5);
        step.LearningRateFactor(25, 0, 10).Should().Be(0.25);
        new TrainingOptions().LearningRateFactor(7, 3, 10).Should().Be(1);
    }

    [Theory]
    [InlineData(nameof(TrainingOptions.LearningRateStepEpochs))]
    [InlineData(nameof(TrainingOptions.LearningRateStepFactor))]
    [InlineData(nameof(TrainingOptions.LearningRateSchedule))]
    public void Schedule_settings_out_of_range_are_rejected(string property)
    {
        var options = property switch
        {
            nameof(TrainingOptions.LearningRateStepEpochs) => new TrainingOptions { LearningRateStepEpochs = 0 },
            nameof(TrainingOptions.LearningRateStepFactor) => new TrainingOptions { LearningRateStepFactor = 1.5 },
            _ => new TrainingOptions { LearningRateSchedule = (LearningRateSchedule)42 },
        };
        var act = options.Validate;
        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == property);
    }

    [Fact]
    public void A_cosine_schedule_changes_training_and_is_reproducible()
    {
        var data = Synthetic.Digits(96);
        double[] Losses(LearningRateSchedule schedule)
        {
            using var model = SmallModels.Build(AutoencoderKind.Dense);
            return model.Train(data, Quick with { Epochs = 3, LearningRateSchedule = schedule }, OneThread).Epochs.Select(e => e.TrainingLoss).ToArray();
        }

        Losses(LearningRateSchedule.Cosine).Should().Equal(Losses(LearningRateSchedule.Cosine));
        Losses(LearningRateSchedule.Cosine)[1..].Should().NotEqual(Losses(LearningRateSchedule.None)[1..]);
    }

    [Theory]
    [InlineData(AutoencoderKind.Dense)]
    [InlineData(AutoencoderKind.Convolutional)]
    [InlineData(AutoencoderKind.Variational)]
    public void Interpolation_gives_a_row_whose_ends_are_the_reconstructions(AutoencoderKind kind)
    {
        using var model = SmallModels.Build(kind);
        using var scope = NewDisposeScope();
        var data = Synthetic.Digits(2);
        var a = data.ImagesToTensor(0, 1);
        var b = data.ImagesToTensor(1, 1, ImageLayout.Image);
        var row = model.Interpolate(a, b, 5);
        row.shape.Should().Equal(5, 784);
        SmallModels.Values(row[0]).Should().BeEquivalentTo(SmallModels.Values(model.Reconstruct(a).reshape(784)), o => o.Using<float>(x => x.Subject.Should().BeApproximately(x.Expectation, 1e-5f)).WhenTypeIs<float>());
        SmallModels.Values(row[4]).Should().BeEquivalentTo(SmallModels.Values(model.Reconstruct(b).reshape(784)), o => o.Using<float>(x => x.Subject.Should().BeApproximately(x.Expectation, 1e-5f)).WhenTypeIs<float>());

        var fewSteps = () => model.Interpolate(a, b, 1);
        fewSteps.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "steps");
        var twoImages = () => model.Interpolate(data.ImagesToTensor(), b, 3);
        twoImages.Should().Throw<ArgumentException>().Where(e => e.ParamName == "imageA");
    }

    [Fact]
    public void Vae_samples_from_the_prior_are_seeded_images()
    {
        using var vae = (IVariationalAutoencoder)SmallModels.Build(AutoencoderKind.Variational);
        using var scope = NewDisposeScope();
        var first = vae.Sample(6, 3);
        first.shape.Should().Equal(6, 784);
        SmallModels.Values(first).Should().Equal(SmallModels.Values(vae.Sample(6, 3)));
        SmallModels.Values(first).Should().NotEqual(SmallModels.Values(vae.Sample(6, 4)));
    }
}
