using LatentKit.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentKit.Tests.Training;

/// <summary>
/// The guards of the training loop: one-sample batches and batch norm, non-finite weights, validation losses and
/// outputs, dropout seeding and the bounds of the options.
/// </summary>
public class TrainingGuardTests
{
    private static readonly TrainingOptions Quick = new() { Epochs = 3, BatchSize = 32, LearningRate = 3e-3, Seed = 5 };

    private static readonly TrainingRun OneThread = new() { Threads = 1 };

    private static float[] State(nn.Module module) =>
        module.state_dict().Values.SelectMany(t => SmallModels.Values(t.detach().to(ScalarType.Float32))).ToArray();

    private static nn.Module NetworkOf(object model) => model switch
    {
        AutoencoderBase autoencoder => autoencoder.Network,
        LatentClassifier classifier => classifier.Head,
        _ => throw new ArgumentOutOfRangeException(nameof(model)),
    };

    // ---- Item 1: batch norm and a one-sample last batch ----

    [Fact]
    public void A_batch_norm_head_trained_on_33_images_in_batches_of_32_gives_finite_probabilities_and_running_statistics()
    {
        var data = Synthetic.Digits(33);
        using var autoencoder = SmallModels.Build(AutoencoderKind.Dense);
        using var classifier = LatentClassifier.For(autoencoder).WithHiddenLayers(32).WithBatchNorm().WithSeed(3).Build();

        classifier.Train(data, Quick with { Epochs = 60, LearningRate = 1e-2 }, OneThread);

        State(classifier.Head).Should().OnlyContain(v => float.IsFinite(v), "the running mean and variance of batch norm included");
        using var scope = NewDisposeScope();
        var probabilities = SmallModels.Values(classifier.PredictProbabilities(data.ImagesToTensor()));
        probabilities.Should().HaveCount(33 * 10).And.OnlyContain(v => float.IsFinite(v));
        classifier.Evaluate(data).Accuracy.Should().BeGreaterThan(0.5, "the head learns its 33 training images");
    }

    [Theory]
    [InlineData(33, 32, new[] { 33 })]
    [InlineData(65, 32, new[] { 32, 33 })]
    [InlineData(66, 32, new[] { 32, 32, 2 })]
    [InlineData(32, 32, new[] { 32 })]
    public void A_last_batch_of_one_sample_is_merged_into_the_batch_before(int images, int batchSize, int[] expectedBatches)
    {
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        var reports = new List<TrainingProgress>();
        var history = model.Train(Synthetic.Digits(images), Quick with { Epochs = 1, BatchSize = batchSize }, new TrainingRun { Threads = 1, ProgressInterval = TimeSpan.Zero, Progress = new SyncProgress<TrainingProgress>(reports.Add) });

        reports.Should().HaveCount(expectedBatches.Length);
        reports.Should().OnlyContain(r => r.TotalBatches == expectedBatches.Length);
        history.Epochs.Single().Completed.Should().BeTrue();
        history.Epochs.Single().ImagesPerSecond.Should().BeGreaterThan(0);
    }

    [Fact]
    public void Batch_norm_with_a_batch_size_of_1_or_a_single_training_image_is_refused_naming_the_setting()
    {
        using var autoencoder = SmallModels.Build(AutoencoderKind.Dense);
        using var classifier = LatentClassifier.For(autoencoder).WithHiddenLayers(16).WithBatchNorm().WithSeed(3).Build();
        var before = State(classifier.Head);

        var batchOfOne = () => classifier.Train(Synthetic.Digits(20), Quick with { BatchSize = 1 }, OneThread);
        batchOfOne.Should().Throw<ArgumentException>().Where(e => e.ParamName == nameof(TrainingOptions.BatchSize))
            .WithMessage("*BatchSize = 1*batch norm*at least 2*");

        var oneImage = () => classifier.Train(Synthetic.Digits(1), Quick, OneThread);
        oneImage.Should().Throw<ArgumentException>().Where(e => e.ParamName == "training")
            .WithMessage("*1 training sample*batch norm*at least 2*");

        State(classifier.Head).Should().Equal(before, "nothing was trained");

        // Without batch norm both are fine.
        using var plain = LatentClassifier.For(autoencoder).WithHiddenLayers(16).WithSeed(3).Build();
        plain.Train(Synthetic.Digits(1), Quick with { BatchSize = 1, Epochs = 1 }, OneThread).Epochs.Should().ContainSingle();
    }

    // ---- Item 2: the divergence guard ----

    public static TheoryData<string, int> DivergingRuns => new()
    {
        { "autoencoder", 1 },
        { "autoencoder", 2 },
        { "classifier", 1 },
        { "classifier", 2 },
    };

    [Theory]
    [MemberData(nameof(DivergingRuns))]
    public void Sgd_at_1e30_never_returns_or_restores_non_finite_weights(string kind, int epochs)
    {
        var data = Synthetic.Digits(32);
        using var autoencoder = SmallModels.Build(AutoencoderKind.Dense);
        using var classifier = LatentClassifier.For(autoencoder).WithSeed(3).Build();
        var network = kind == "autoencoder" ? NetworkOf(autoencoder) : NetworkOf(classifier);
        var before = State(network);
        var options = Quick with { Optimizer = OptimizerKind.Sgd, LearningRate = 1e30, Epochs = epochs };

        Func<TrainingHistory> act = kind == "autoencoder" ? () => autoencoder.Train(data, options, OneThread) : () => classifier.Train(data, options, OneThread);

        var error = act.Should().Throw<TrainingDivergedException>().Which;
        error.Epoch.Should().Be(1, "the first step made the weights non-finite");
        error.Message.Should().Contain("restored to those at the start of epoch 1");
        State(network).Should().OnlyContain(v => float.IsFinite(v)).And.Equal(before, "the weights at the start of epoch 1 are restored");
    }

    [Theory]
    [InlineData(OptimizerKind.Sgd, 1e30, DivergenceKind.Outputs, "outputs are not finite")]
    [InlineData(OptimizerKind.RmsProp, 1e38, DivergenceKind.Weights, "weights are not finite")]
    public void Weights_made_too_large_or_non_finite_by_a_step_are_reported_as_such(OptimizerKind optimizer, double learningRate, DivergenceKind kind, string message)
    {
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        var act = () => model.Train(Synthetic.Digits(32), Quick with { Optimizer = optimizer, LearningRate = learningRate, Epochs = 1 }, OneThread);
        var error = act.Should().Throw<TrainingDivergedException>().Which;
        error.Kind.Should().Be(kind);
        error.Batch.Should().Be(1);
        double.IsFinite(error.Loss).Should().BeFalse();
        error.Message.Should().Contain(message).And.Contain("restored").And.Contain("lower learning rate");
    }

    [Fact]
    public void A_non_finite_validation_loss_restores_the_epochs_starting_weights_and_throws()
    {
        using var model = new FakeTrainable(evaluationLoss: float.NaN);
        var before = State(model.Network);
        using var training = FakeTrainable.Data(16);
        using var validation = FakeTrainable.Data(4, negative: true);

        var act = () => Trainer.Train(model, training, validation, Quick with { Epochs = 2 }, OneThread, CancellationToken.None);

        var error = act.Should().Throw<TrainingDivergedException>().Which;
        error.Kind.Should().Be(DivergenceKind.ValidationLoss);
        error.Epoch.Should().Be(1);
        double.IsNaN(error.Loss).Should().BeTrue();
        error.Message.Should().Contain("validation loss");
        State(model.Network).Should().Equal(before);
    }

    [Fact]
    public void A_trained_model_whose_outputs_are_not_finite_raises_instead_of_returning()
    {
        using var model = new FakeTrainable(evaluationLoss: float.PositiveInfinity);
        var before = State(model.Network);
        using var training = FakeTrainable.Data(16, negative: true);

        var act = () => Trainer.Train(model, training, null, Quick with { Epochs = 2 }, OneThread, CancellationToken.None);

        var error = act.Should().Throw<TrainingDivergedException>().Which;
        error.Kind.Should().Be(DivergenceKind.Outputs);
        error.Epoch.Should().Be(1, "the outputs are checked after every epoch");
        double.IsPositiveInfinity(error.Loss).Should().BeTrue();
        State(model.Network).Should().Equal(before, "the weights of the start of epoch 1 are restored");
    }

    [Fact]
    public void A_model_holding_a_non_finite_weight_is_refused_before_training()
    {
        using var autoencoder = SmallModels.Build(AutoencoderKind.Dense);
        using var classifier = LatentClassifier.For(autoencoder).WithSeed(3).Build();
        var output = (TorchSharp.Modules.Linear)classifier.Head.named_children().Single(c => c.name == "linear2").module;
        using (no_grad())
        {
            output.bias![4] = float.NaN;
        }

        var act = () => classifier.Train(Synthetic.Digits(20), Quick, OneThread);

        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "model").WithMessage("*non-finite weight (NaN) before training*");
    }

    // ---- Item 8: dropout from the run's seed ----

    [Fact]
    public void Dropout_draws_from_the_runs_seed_so_other_draws_from_the_global_generator_change_nothing()
    {
        var data = Synthetic.Digits(96);
        using var autoencoder = SmallModels.Build(AutoencoderKind.Dense);

        (double[] Losses, float[] Weights) Run(double dropout, int seed, bool drawInBetween)
        {
            using var classifier = LatentClassifier.For(autoencoder).WithHiddenLayers(32).WithDropout(dropout).WithSeed(3).Build();
            if (drawInBetween)
            {
                using var draw = rand(1);
            }

            var history = classifier.Train(data, Quick with { Seed = seed }, OneThread);
            return (history.Epochs.Select(e => e.TrainingLoss).ToArray(), State(classifier.Head));
        }

        var first = Run(0.5, 5, drawInBetween: false);
        var second = Run(0.5, 5, drawInBetween: true);
        second.Losses.Should().Equal(first.Losses);
        second.Weights.Should().Equal(first.Weights);

        Run(0.5, 6, drawInBetween: false).Losses.Should().NotEqual(first.Losses, "another seed gives other masks (and batch order)");
        Run(0.0, 5, drawInBetween: false).Losses.Should().NotEqual(first.Losses, "dropout is active while training");
    }

    [Fact]
    public void Dropout_is_inactive_when_predicting()
    {
        var data = Synthetic.Digits(20);
        using var autoencoder = SmallModels.Build(AutoencoderKind.Dense);
        using var classifier = LatentClassifier.For(autoencoder).WithHiddenLayers(32).WithDropout(0.5).WithSeed(3).Build();
        classifier.Train(data, Quick with { Epochs = 1 }, OneThread);
        using var scope = NewDisposeScope();
        var images = data.ImagesToTensor();
        var first = SmallModels.Values(classifier.PredictProbabilities(images));
        using var draw = rand(3);
        SmallModels.Values(classifier.PredictProbabilities(images)).Should().Equal(first);
    }

    // ---- Item 9: bounds of the options ----

    public static TheoryData<TrainingOptions, string, string> OutOfBoundOptions => new()
    {
        { new TrainingOptions { LearningRate = 1e39 }, nameof(TrainingOptions.LearningRate), "*1E+39*at most*" },
        { new TrainingOptions { LearningRate = double.MaxValue }, nameof(TrainingOptions.LearningRate), "*at most*" },
        { new TrainingOptions { Optimizer = OptimizerKind.Sgd, Momentum = 1e39 }, nameof(TrainingOptions.Momentum), "*below 1*" },
        { new TrainingOptions { WeightDecay = 1e39 }, nameof(TrainingOptions.WeightDecay), "*at most*" },
    };

    [Theory]
    [MemberData(nameof(OutOfBoundOptions))]
    public void Settings_above_their_bounds_are_rejected_by_validate(TrainingOptions options, string property, string message)
    {
        var act = options.Validate;
        act.Should().Throw<LatentKitValidationException>().Where(e => e.ParamName == property).WithMessage($"TrainingOptions.{property} = {message}");
    }

    [Fact]
    public void A_learning_rate_above_float_max_is_rejected_before_training()
    {
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        var act = () => model.Train(Synthetic.Digits(20), Quick with { LearningRate = 1e39 }, OneThread);
        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == nameof(TrainingOptions.LearningRate));
    }

    [Theory]
    [InlineData(OptimizerKind.Adam)]
    [InlineData(OptimizerKind.AdamW)]
    [InlineData(OptimizerKind.Sgd)]
    [InlineData(OptimizerKind.RmsProp)]
    public void A_learning_rate_of_3e38_diverges_clearly_for_every_optimizer(OptimizerKind optimizer)
    {
        // The audit: Adam with 3e38 (accepted: below the largest float) threw an ExternalException from TorchSharp
        // ("value cannot be converted to type float without overflow"): its step size lr / (1 - 0.9^t) is above the largest float.
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        var act = () => model.Train(Synthetic.Digits(20), Quick with { Epochs = 1, Optimizer = optimizer, LearningRate = 3e38 }, OneThread);
        act.Should().Throw<TrainingDivergedException>();
    }

    [Fact]
    public void AdamW_at_the_largest_learning_rate_and_weight_decay_diverges_clearly()
    {
        // 1 - lr * weightDecay is about -1E+77: no float; it must be reported as divergence, not an ExternalException.
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        var act = () => model.Train(Synthetic.Digits(20), Quick with { Epochs = 1, Optimizer = OptimizerKind.AdamW, LearningRate = float.MaxValue, WeightDecay = float.MaxValue }, OneThread);
        act.Should().Throw<TrainingDivergedException>();
    }

    [Fact]
    public void The_largest_accepted_coefficients_validate()
    {
        var act = (Quick with { Optimizer = OptimizerKind.Sgd, LearningRate = float.MaxValue, Momentum = Math.BitDecrement(1.0), WeightDecay = float.MaxValue }).Validate;
        act.Should().NotThrow();
    }

    public static TheoryData<TrainingOptions, string> BadMomentum => new()
    {
        { new TrainingOptions { Optimizer = OptimizerKind.Sgd, Momentum = 5 }, "*Momentum = 5 must be at least 0 and below 1*" },
        { new TrainingOptions { Optimizer = OptimizerKind.Sgd, Momentum = 1 }, "*Momentum = 1 must be at least 0 and below 1*" },
        { new TrainingOptions { Optimizer = OptimizerKind.RmsProp, Momentum = 1.5 }, "*Momentum = 1.5 must be at least 0 and below 1*" },
        { new TrainingOptions { Optimizer = OptimizerKind.Adam, Momentum = 0.9 }, "*Momentum = 0.9 has no effect with Adam*Sgd and RmsProp*" },
        { new TrainingOptions { Optimizer = OptimizerKind.AdamW, Momentum = 0.5 }, "*Momentum = 0.5 has no effect with AdamW*Sgd and RmsProp*" },
    };

    [Theory]
    [MemberData(nameof(BadMomentum))]
    public void Momentum_outside_0_to_1_or_set_for_an_optimizer_without_momentum_is_refused(TrainingOptions options, string message)
    {
        // The audit: SGD with Momentum = 5 was accepted and silently blew up the weights.
        var act = options.Validate;
        act.Should().Throw<LatentKitValidationException>().Where(e => e.ParamName == nameof(TrainingOptions.Momentum)).WithMessage(message);
    }

    /// <summary>
    /// A trainable linear layer whose training loss is an ordinary MSE and whose evaluation loss (noise
    /// <see langword="null"/>) on negative inputs is <c>evaluationLoss</c>: a way to make only the validation loss or
    /// only the outputs on the training data non-finite.
    /// </summary>
    private sealed class FakeTrainable(float evaluationLoss) : ITrainable, IDisposable
    {
        private readonly TorchSharp.Modules.Linear layer = NetworkParts.SeededConstruction(1, () => nn.Linear(4, 1));

        public string DisplayName => "Fake";

        public nn.Module Network => layer;

        public IEnumerable<TorchSharp.Modules.Parameter> TrainableParameters => layer.parameters();

        public Device Device => CPU;

        public static TrainingData Data(int count, bool negative = false)
        {
            var inputs = torch.linspace(0.1, 1, count * 4).reshape(count, 4) * (negative ? -1 : 1);
            return new TrainingData(inputs, inputs.sum(1, keepdim: true));
        }

        public void MoveTo(Device device)
        {
        }

        public void SetTrainingMode(bool training) => layer.train(training);

        public Tensor PrepareInputs(Tensor raw) => raw;

        public Tensor ComputeLoss(Tensor inputs, Tensor? targets, Generator? noise)
        {
            var loss = nn.functional.mse_loss(layer.forward(inputs), targets!);
            return noise is null && inputs.max().item<float>() < 0 ? (loss * 0) + evaluationLoss : loss;
        }

        public void Dispose() => layer.Dispose();
    }
}
