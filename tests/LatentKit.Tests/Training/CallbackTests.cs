using LatentKit.Studies;
using LatentKit.Tests.Support;

namespace LatentKit.Tests.Training;

public class CallbackTests
{
    private static readonly TrainingOptions Quick = new() { Epochs = 5, BatchSize = 32, LearningRate = 3e-3, Seed = 5 };

    [Fact]
    public void A_callback_receives_every_epochs_figures_and_can_stop_training()
    {
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        var seen = new List<EpochSummary>();
        var stopper = new DelegateCallback((summary, control) =>
        {
            seen.Add(summary);
            if (summary.Epoch == 2)
            {
                control.Stop("enough after two epochs");
            }
        });

        var history = model.Train(Synthetic.Digits(128), Quick with { ValidationFraction = 0.25 }, new TrainingRun { Threads = 1, Callbacks = [stopper] });

        history.Epochs.Should().HaveCount(2);
        history.StoppedEarly.Should().BeTrue();
        history.StopReason.Should().Be("enough after two epochs");
        seen.Select(s => s.Epoch).Should().Equal(1, 2);
        seen.Should().OnlyContain(s => s.TotalEpochs == 5 && s.LearningRateFactor == 1.0 && s.Duration > TimeSpan.Zero);
        for (var i = 0; i < 2; i++)
        {
            seen[i][Metric.Loss].Should().Be(history.Epochs[i].TrainingLoss);
            seen[i][Metric.ValidationLoss].Should().Be(history.Epochs[i].ValidationLoss!.Value);
            seen[i].Metrics.Keys.Should().BeEquivalentTo(Metric.Loss, Metric.BinaryCrossEntropy, Metric.ValidationLoss, Metric.ValidationBinaryCrossEntropy, Metric.ValidationMeanSquaredError);
        }

        var missing = () => seen[0]["accuracy"];
        missing.Should().Throw<KeyNotFoundException>().WithMessage("Epoch 1 has no metric 'accuracy'; it has: loss, bce, val_loss, val_bce, val_mse.");
    }

    [Fact]
    public void Early_stopping_watches_the_chosen_metric_with_its_mode_and_minimum_improvement()
    {
        // On the training loss, which falls every epoch: with a minimum improvement larger than any epoch's gain it
        // stops after `patience` epochs; with mode Max (a falling loss never "improves") likewise.
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        var huge = new EarlyStopping(monitor: Metric.Loss, patience: 2, minDelta: 10, restoreBestWeights: false);
        var history = model.Train(Synthetic.Digits(128), Quick, new TrainingRun { Threads = 1, Callbacks = [huge] });
        history.Epochs.Should().HaveCount(3, "epoch 1 sets the best, epochs 2 and 3 do not improve by 10");
        history.StopReason.Should().StartWith("early stopping: loss did not improve for 2 epochs");
        huge.BestEpoch.Should().Be(1);

        using var other = SmallModels.Build(AutoencoderKind.Dense);
        var none = new EarlyStopping(monitor: Metric.Loss, patience: 2, minDelta: 0, restoreBestWeights: false);
        var full = other.Train(Synthetic.Digits(128), Quick, new TrainingRun { Threads = 1, Callbacks = [none] });
        full.Epochs.Should().HaveCount(5, "the training loss improves every epoch");
        full.StoppedEarly.Should().BeFalse();
        none.BestEpoch.Should().Be(5);
    }

    [Fact]
    public void The_historys_best_epoch_is_the_epoch_whose_weights_early_stopping_restored()
    {
        // Early stopping on the training loss with a minimum improvement no epoch reaches keeps epoch 1's weights;
        // without validation data there is no lowest validation loss, so only the restored weights can say which
        // epoch is best (the history said null before).
        var data = Synthetic.Digits(128);
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        var stopping = new EarlyStopping(monitor: Metric.Loss, patience: 2, minDelta: 10);
        var history = model.Train(data, Quick, new TrainingRun { Threads = 1, Callbacks = [stopping] });
        history.Epochs.Should().HaveCount(3);
        history.BestEpoch.Should().Be(1).And.Be(stopping.BestEpoch);

        // With validation data whose lowest loss is at a later epoch than the monitored figure's best: the history
        // names the epoch of the weights the model holds (the monitor's), not the lowest validation loss.
        using var other = SmallModels.Build(AutoencoderKind.Dense);
        var onLoss = new EarlyStopping(monitor: Metric.Loss, patience: 2, minDelta: 10);
        var validated = other.Train(data, Quick, new TrainingRun { Threads = 1, ValidationSet = Synthetic.Digits(40, seed: 2), Callbacks = [onLoss] });
        validated.Epochs.Select(e => e.ValidationLoss!.Value).Should().BeInDescendingOrder("the validation loss still falls, so its lowest is at epoch 3");
        validated.BestEpoch.Should().Be(1, "the model holds epoch 1's weights");

        // Without a callback that keeps weights, the best epoch is the lowest validation loss's, as before.
        using var plain = SmallModels.Build(AutoencoderKind.Dense);
        var lowest = plain.Train(data, Quick with { Epochs = 3 }, new TrainingRun { Threads = 1, ValidationSet = Synthetic.Digits(40, seed: 2) });
        lowest.BestEpoch.Should().Be(3);
    }

    [Fact]
    public void Reduce_learning_rate_on_plateau_scales_the_rate_from_the_next_epoch_and_changes_training()
    {
        var data = Synthetic.Digits(128);
        var factors = new List<double>();
        var recorder = new DelegateCallback((summary, _) => factors.Add(summary.LearningRateFactor));
        using var plain = SmallModels.Build(AutoencoderKind.Dense);
        using var reduced = SmallModels.Build(AutoencoderKind.Dense);

        var baseline = plain.Train(data, Quick, new TrainingRun { Threads = 1 });

        // Epoch 1 sets the best; minDelta 10 makes every later epoch a plateau: the factor falls to 0.5 after epoch 2,
        // 0.25 after epoch 3, and stops at 0.2.
        var plateau = new ReduceLearningRateOnPlateau(monitor: Metric.Loss, factor: 0.5, patience: 1, minDelta: 10, minLearningRateFactor: 0.2);
        var history = reduced.Train(data, Quick, new TrainingRun { Threads = 1, Callbacks = [plateau, recorder] });

        factors.Should().Equal(1.0, 1.0, 0.5, 0.25, 0.2);
        history.Epochs[1].TrainingLoss.Should().Be(baseline.Epochs[1].TrainingLoss, "epochs 1 and 2 run at the full rate in both");
        history.Epochs[2].TrainingLoss.Should().NotBe(baseline.Epochs[2].TrainingLoss, "epoch 3 runs at half the rate");
    }

    [Fact]
    public void A_callback_that_throws_stops_training_with_its_exception()
    {
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        var broken = new DelegateCallback((_, _) => throw new InvalidOperationException("callback failed"));
        var act = () => model.Train(Synthetic.Digits(64), Quick, new TrainingRun { Threads = 1, Callbacks = [broken] });
        act.Should().Throw<InvalidOperationException>().WithMessage("callback failed");
    }

    [Fact]
    public void The_label_efficiency_study_throws_training_canceled_when_cancelled()
    {
        var pool = Synthetic.Digits(100);
        var act = () => LabelEfficiencyStudy.Run(pool, pool, [], new LabelEfficiencyOptions { LabelsPerClass = [2], Seeds = [1], TrainingSteps = 5 }, cancellationToken: new CancellationToken(canceled: true));
        act.Should().Throw<TrainingCanceledException>().WithMessage("*cancelled after 0 of 1 trials*");
    }
}
