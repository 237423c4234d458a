using LatentKit.Tests.Support;
using static TorchSharp.torch;

namespace LatentKit.Tests.Training;

/// <summary>What the training settings do in a run: optimizers, momentum, weight decay, the step schedule, the VAE's KL weight, the MSE loss, and the classifier's cancellation.</summary>
public class TrainingBehaviourTests
{
    private static readonly TrainingOptions Quick = new() { Epochs = 3, BatchSize = 32, LearningRate = 3e-3, Seed = 5 };

    private static readonly TrainingRun OneThread = new() { Threads = 1 };

    private static readonly Lazy<MnistDataset> Digits = new(() => Synthetic.Digits(128));

    private static float[] Weights(IAutoencoder model) =>
        ((AutoencoderBase)model).Network.parameters().SelectMany(p => SmallModels.Values(p.detach())).ToArray();

    private static double Norm(float[] weights) => Math.Sqrt(weights.Sum(w => (double)w * w));

    private static (float[] Weights, double[] Losses) TrainDense(TrainingOptions options)
    {
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        var history = model.Train(Digits.Value, options, OneThread);
        return (Weights(model), history.Epochs.Select(e => e.TrainingLoss).ToArray());
    }

    public static TheoryData<string, TrainingOptions, TrainingOptions> OptimizerSettings => new()
    {
        { "AdamW (decoupled decay) against Adam (L2 decay)", Quick with { Optimizer = OptimizerKind.AdamW, WeightDecay = 0.1 }, Quick with { WeightDecay = 0.1 } },
        { "RMSProp against Adam", Quick with { Optimizer = OptimizerKind.RmsProp, LearningRate = 1e-3 }, Quick with { LearningRate = 1e-3 } },
        { "SGD with momentum against SGD", Quick with { Optimizer = OptimizerKind.Sgd, LearningRate = 0.05, Momentum = 0.9 }, Quick with { Optimizer = OptimizerKind.Sgd, LearningRate = 0.05 } },
        { "RMSProp with momentum against RMSProp", Quick with { Optimizer = OptimizerKind.RmsProp, LearningRate = 1e-3, Momentum = 0.9 }, Quick with { Optimizer = OptimizerKind.RmsProp, LearningRate = 1e-3 } },
        { "Adam with weight decay against Adam", Quick with { WeightDecay = 0.1 }, Quick },
    };

    [Theory]
    [MemberData(nameof(OptimizerSettings))]
    public void Each_optimizer_setting_changes_training_and_still_learns(string what, TrainingOptions options, TrainingOptions baseline)
    {
        var (weights, losses) = TrainDense(options);
        var (baseWeights, baseLosses) = TrainDense(baseline);

        losses[^1].Should().BeLessThan(losses[0], what);
        weights.Should().OnlyContain(w => float.IsFinite(w));
        var largest = weights.Zip(baseWeights, (a, b) => Math.Abs(a - b)).Max();
        largest.Should().BeGreaterThan(1e-3f, $"{what}: the setting changes the trained weights");
        losses[^1].Should().NotBe(baseLosses[^1], what);
    }

    [Theory]
    [InlineData(OptimizerKind.Sgd, 0.05)]
    [InlineData(OptimizerKind.AdamW, 3e-3)]
    [InlineData(OptimizerKind.Adam, 3e-3)]
    public void Weight_decay_shrinks_the_weights(OptimizerKind optimizer, double learningRate)
    {
        var options = Quick with { Optimizer = optimizer, LearningRate = learningRate, Epochs = 4 };
        var plain = Norm(TrainDense(options).Weights);
        var decayed = Norm(TrainDense(options with { WeightDecay = 0.5 }).Weights);
        decayed.Should().BeLessThan(plain * 0.99, $"{optimizer}: weight decay pulls the weights towards 0 (norm {decayed} against {plain})");
    }

    [Fact]
    public void The_step_schedule_applies_its_factor_per_epoch()
    {
        var oneEpoch = TrainDense(Quick with { Epochs = 1 }).Weights;
        var twoEpochs = TrainDense(Quick with { Epochs = 2 }).Weights;

        // Decay after every epoch by 1e-9: epoch 1 at the full rate, epoch 2 at almost nothing.
        var decayAfterOne = TrainDense(Quick with { Epochs = 2, LearningRateSchedule = LearningRateSchedule.Step, LearningRateStepEpochs = 1, LearningRateStepFactor = 1e-9 }).Weights;

        // Decay every 2 epochs: both epochs at the full rate, the same run as without a schedule.
        var decayAfterTwo = TrainDense(Quick with { Epochs = 2, LearningRateSchedule = LearningRateSchedule.Step, LearningRateStepEpochs = 2, LearningRateStepFactor = 1e-9 }).Weights;

        // Halving after epoch 1: in between.
        var halved = TrainDense(Quick with { Epochs = 2, LearningRateSchedule = LearningRateSchedule.Step, LearningRateStepEpochs = 1, LearningRateStepFactor = 0.5 }).Weights;

        static float Distance(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
        Distance(twoEpochs, oneEpoch).Should().BeGreaterThan(1e-3f, "a second epoch at the full rate moves the weights");
        Distance(decayAfterOne, oneEpoch).Should().BeLessThan(1e-6f, "epoch 2 ran at 1e-9 of the rate");
        decayAfterTwo.Should().Equal(twoEpochs, "the first decay comes after epoch 2");
        Distance(halved, oneEpoch).Should().BeGreaterThan(1e-4f);
        Distance(halved, twoEpochs).Should().BeGreaterThan(1e-4f);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(4.0)]
    public void The_vae_trains_on_summed_bce_plus_kl_weight_times_kl(double klWeight)
    {
        var validation = Synthetic.Digits(60, seed: 8);
        using var vae = Autoencoders.Variational().WithHiddenLayers(64, 32).WithLatentSize(8).WithKlWeight(klWeight).WithSeed(1).Build();
        var history = vae.Train(Digits.Value, Quick, new TrainingRun { Threads = 1, ValidationSet = validation });

        var metrics = vae.Evaluate(validation);
        var expected = (metrics.BinaryCrossEntropy * 784) + (klWeight * metrics.KlDivergence!.Value);
        history.Epochs[^1].ValidationLoss!.Value.Should().BeApproximately(expected, expected * 1e-4, "the loss is summed BCE per image + weight x KL");
        history.Epochs[^1].TrainingLoss.Should().BeLessThan(history.Epochs[0].TrainingLoss);
    }

    [Fact]
    public void A_larger_kl_weight_trains_a_smaller_kl_divergence()
    {
        double Kl(double weight)
        {
            using var vae = Autoencoders.Variational().WithHiddenLayers(64, 32).WithLatentSize(8).WithKlWeight(weight).WithSeed(1).Build();
            vae.Train(Digits.Value, Quick with { Epochs = 4 }, OneThread);
            return vae.Evaluate(Digits.Value).KlDivergence!.Value;
        }

        var free = Kl(0);
        var weighted = Kl(5);
        weighted.Should().BeLessThan(free * 0.5, $"KL {weighted} with weight 5 against {free} with weight 0");
    }

    [Theory]
    [InlineData(ReconstructionLoss.MeanSquaredError)]
    [InlineData(ReconstructionLoss.BinaryCrossEntropy)]
    public void The_reconstruction_loss_setting_is_the_loss_trained_and_validated(ReconstructionLoss loss)
    {
        var validation = Synthetic.Digits(60, seed: 8);
        using var model = Autoencoders.Dense().WithHiddenLayers(64, 32).WithLatentSize(16).WithLoss(loss).WithSeed(1).Build();
        var before = model.Evaluate(validation);

        var history = model.Train(Digits.Value, Quick, new TrainingRun { Threads = 1, ValidationSet = validation });

        var after = model.Evaluate(validation);
        var (reported, other) = loss == ReconstructionLoss.MeanSquaredError
            ? (after.MeanSquaredError, after.BinaryCrossEntropy)
            : (after.BinaryCrossEntropy, after.MeanSquaredError);
        history.Epochs[^1].ValidationLoss!.Value.Should().BeApproximately(reported, 1e-6);
        history.Epochs[^1].ValidationLoss!.Value.Should().NotBeApproximately(other, 1e-3);
        after.MeanSquaredError.Should().BeLessThan(before.MeanSquaredError);
    }

    [Fact]
    public void Classifier_cancellation_stops_at_the_next_batch_and_leaves_a_usable_head()
    {
        var data = Synthetic.Digits(320);
        using var autoencoder = SmallModels.Build(AutoencoderKind.Dense);
        using var classifier = LatentClassifier.For(autoencoder).WithSeed(3).Build();
        var before = classifier.Head.parameters().SelectMany(p => SmallModels.Values(p.detach())).ToArray();
        var untrained = classifier.Evaluate(data).Accuracy;
        using var cancellation = new CancellationTokenSource();
        var batches = 0;
        var progress = new SyncProgress<TrainingProgress>(p =>
        {
            batches++;
            if (p.Epoch == 2 && p.Batch == 3)
            {
                cancellation.Cancel();
            }
        });

        var act = () => classifier.Train(data, Quick with { Epochs = 5, LearningRate = 1e-2 }, new TrainingRun { Threads = 1, ProgressInterval = TimeSpan.Zero, Progress = progress }, cancellationToken: cancellation.Token);

        var history = act.Should().Throw<TrainingCanceledException>().Which.History;
        batches.Should().Be(10 + 3);
        history.Epochs.Select(e => e.Completed).Should().Equal(true, false);
        var after = classifier.Head.parameters().SelectMany(p => SmallModels.Values(p.detach())).ToArray();
        after.Should().OnlyContain(w => float.IsFinite(w)).And.NotEqual(before, "13 batches were trained");
        classifier.Evaluate(data).Accuracy.Should().BeGreaterThan(Math.Max(0.15, untrained + 0.05), "the 13 steps trained are kept");

        var cancelledAtOnce = () => classifier.Train(data, Quick, OneThread, cancellationToken: new CancellationToken(canceled: true));
        var none = cancelledAtOnce.Should().Throw<TrainingCanceledException>().Which.History;
        none.Epochs.Should().BeEmpty();
        classifier.Head.parameters().SelectMany(p => SmallModels.Values(p.detach())).Should().Equal(after);
    }

    [Fact]
    public void A_diverging_classifier_throws_and_keeps_the_weights_of_the_start_of_the_epoch()
    {
        var data = Synthetic.Digits(256);
        using var autoencoder = SmallModels.Build(AutoencoderKind.Dense);
        using var classifier = LatentClassifier.For(autoencoder).WithSeed(3).Build();
        classifier.Train(data, Quick with { Epochs = 1 }, OneThread);
        var good = classifier.Head.parameters().SelectMany(p => SmallModels.Values(p.detach())).ToArray();

        var act = () => classifier.Train(data, Quick with { Optimizer = OptimizerKind.Sgd, LearningRate = 1e12, Epochs = 3 }, OneThread);

        var error = act.Should().Throw<TrainingDivergedException>().Which;
        error.Epoch.Should().Be(1);
        double.IsFinite(error.Loss).Should().BeFalse();
        error.Message.Should().Contain("Latent classifier").And.Contain("1000000000000");
        classifier.Head.parameters().SelectMany(p => SmallModels.Values(p.detach())).Should().Equal(good);
        using var scope = NewDisposeScope();
        SmallModels.Values(classifier.PredictProbabilities(data.ImagesToTensor(0, 5))).Should().OnlyContain(v => float.IsFinite(v));
    }
}
