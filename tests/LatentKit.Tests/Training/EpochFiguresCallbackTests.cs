using LatentKit.Tests.Support;

namespace LatentKit.Tests.Training;

/// <summary>The figures of <see cref="EpochSummary.Metrics"/> beyond the losses: loss parts and accuracy (issue 8).</summary>
public class EpochFiguresCallbackTests
{
    private static readonly TrainingOptions Quick = new() { Epochs = 2, BatchSize = 32, LearningRate = 3e-3, Seed = 5 };

    public static TheoryData<string> AutoencoderCases => ["dense bce", "dense mse", "variational"];

    [Theory]
    [MemberData(nameof(AutoencoderCases))]
    public void An_autoencoders_epoch_figures_hold_its_loss_parts_and_the_validation_parts_equal_Evaluate(string scenario)
    {
        using var model = scenario switch
        {
            "dense bce" => SmallModels.Build(AutoencoderKind.Dense),
            "dense mse" => Autoencoders.Dense().WithHiddenLayers(64, 32).WithLatentSize(16).WithOutputActivation(OutputActivation.Identity).WithLoss(ReconstructionLoss.MeanSquaredError).WithSeed(1).Build(),
            _ => SmallModels.Build(AutoencoderKind.Variational),
        };
        var validation = Synthetic.Digits(70, seed: 9);
        var seen = new List<EpochSummary>();
        var recorder = new Recorder(seen.Add);

        var history = model.Train(Synthetic.Digits(128), Quick, new TrainingRun { Threads = 1, ValidationSet = validation, Callbacks = [recorder] });

        // Training: the loss's own terms; validation: every part.
        var (training, validated) = scenario switch
        {
            "dense bce" => (new[] { Metric.BinaryCrossEntropy }, new[] { Metric.BinaryCrossEntropy, Metric.MeanSquaredError }),
            "dense mse" => (new[] { Metric.MeanSquaredError }, new[] { Metric.MeanSquaredError }),
            _ => (new[] { Metric.BinaryCrossEntropy, Metric.KlDivergence }, new[] { Metric.BinaryCrossEntropy, Metric.MeanSquaredError, Metric.KlDivergence }),
        };
        seen.Should().HaveCount(2);
        var last = seen[^1];
        last.Metrics.Keys.Should().BeEquivalentTo([Metric.Loss, Metric.ValidationLoss, .. training, .. validated.Select(p => Metric.ValidationPrefix + p)]);
        last.Metrics.Values.Should().OnlyContain(v => double.IsFinite(v) && v >= 0);

        // The weights after training are those at the end of the last epoch (no callback restores others).
        var evaluated = model.Evaluate(validation);
        last[Metric.ValidationMeanSquaredError].Should().BeApproximately(evaluated.MeanSquaredError, 1e-6);
        if (scenario != "dense mse")
        {
            last[Metric.ValidationBinaryCrossEntropy].Should().BeApproximately(evaluated.BinaryCrossEntropy, 1e-6);
        }

        if (scenario == "variational")
        {
            last[Metric.ValidationKlDivergence].Should().BeApproximately(evaluated.KlDivergence!.Value, 1e-6 * Math.Max(1, evaluated.KlDivergence!.Value));
            last[Metric.KlDivergence].Should().BeGreaterThan(0);
            // The training parts are the loss's terms: loss = BCE per value x values per sample + KL weight x KL.
            var klWeight = ((IVariationalAutoencoder)model).KlWeight;
            foreach (var summary in seen)
            {
                var recomposed = summary[Metric.BinaryCrossEntropy] * 784 + klWeight * summary[Metric.KlDivergence];
                recomposed.Should().BeApproximately(summary[Metric.Loss], 1e-5 * summary[Metric.Loss]);
            }
        }
        else
        {
            // Without a KL term the loss is the mean per-value reconstruction loss: the parts match it.
            var part = scenario == "dense bce" ? Metric.BinaryCrossEntropy : Metric.MeanSquaredError;
            foreach (var summary in seen)
            {
                summary[part].Should().BeApproximately(history.Epochs[summary.Epoch - 1].TrainingLoss, 1e-6);
                summary[Metric.ValidationPrefix + part].Should().BeApproximately(history.Epochs[summary.Epoch - 1].ValidationLoss!.Value, 1e-6);
            }
        }
    }

    [Fact]
    public void A_classifiers_epoch_figures_hold_its_accuracy_and_the_validation_accuracy_equals_Evaluate()
    {
        var data = Synthetic.Digits(160);
        var validation = Synthetic.Digits(90, seed: 4);
        using var encoder = SmallModels.Build(AutoencoderKind.Dense);
        using var classifier = LatentClassifier.For(encoder).ForData(data).WithHiddenLayers(16).WithSeed(3).Build();
        var seen = new List<EpochSummary>();

        classifier.Train(data, Quick with { Epochs = 3 }, new TrainingRun { Threads = 1, ValidationSet = validation, Callbacks = [new Recorder(seen.Add)] });

        seen.Should().HaveCount(3);
        seen.Should().OnlyContain(s => s.Metrics.Count == 4 && s[Metric.Accuracy] >= 0 && s[Metric.Accuracy] <= 1);
        seen[^1].Metrics.Keys.Should().BeEquivalentTo(Metric.Loss, Metric.Accuracy, Metric.ValidationLoss, Metric.ValidationAccuracy);
        seen[^1][Metric.ValidationAccuracy].Should().BeApproximately(classifier.Evaluate(validation).Accuracy, 1e-12);
        // Accuracies are multiples of one sample.
        (seen[^1][Metric.Accuracy] * 160).Should().BeApproximately(Math.Round(seen[^1][Metric.Accuracy] * 160), 1e-9);
    }

    [Fact]
    public void A_classifiers_training_accuracy_is_the_fraction_of_its_training_samples_classified_right()
    {
        // A learning rate so small that the weights do not move, and a head without dropout or batch norm: the
        // training batches' logits are then those Evaluate computes, so the epoch's accuracy must be Evaluate's on
        // the training data (to one sample: batches of another size may round a near tie otherwise).
        var data = Synthetic.Digits(160);
        using var encoder = SmallModels.Build(AutoencoderKind.Dense);
        encoder.Train(data, Quick, new TrainingRun { Threads = 1 });
        using var classifier = LatentClassifier.For(encoder).ForData(data).WithHiddenLayers(16).WithSeed(3).Build();
        classifier.Train(data, Quick with { Epochs = 4, LearningRate = 1e-2 }, new TrainingRun { Threads = 1 });
        var seen = new List<EpochSummary>();

        classifier.Train(data, Quick with { Epochs = 1, LearningRate = 1e-20 }, new TrainingRun { Threads = 1, Callbacks = [new Recorder(seen.Add)] });

        var expected = classifier.Evaluate(data).Accuracy;
        expected.Should().BeInRange(0.15, 0.95, "a head trained four epochs is neither at chance (0.1) nor right everywhere, so the figure is informative");
        seen.Single()[Metric.Accuracy].Should().BeApproximately(expected, 1.0 / 160);
    }

    [Fact]
    public void Early_stopping_on_validation_accuracy_with_mode_max_stops_and_keeps_the_best_weights()
    {
        var data = Synthetic.Digits(160);
        var validation = Synthetic.Digits(90, seed: 4);
        using var encoder = SmallModels.Build(AutoencoderKind.Dense);
        using var classifier = LatentClassifier.For(encoder).ForData(data).WithHiddenLayers(16).WithSeed(3).Build();
        var seen = new List<EpochSummary>();
        // Epoch 1 sets the best (from minus infinity); no later epoch can gain 2 in accuracy, so patience 2 stops after epoch 3.
        var stopping = new EarlyStopping(monitor: Metric.ValidationAccuracy, patience: 2, minDelta: 2, mode: MetricMode.Max);

        var history = classifier.Train(data, Quick with { Epochs = 6, LearningRate = 3e-2 }, new TrainingRun { Threads = 1, ValidationSet = validation, Callbacks = [new Recorder(seen.Add), stopping] });

        history.Epochs.Should().HaveCount(3);
        history.StopReason.Should().StartWith("early stopping: val_accuracy did not improve for 2 epochs");
        stopping.BestEpoch.Should().Be(1);
        classifier.Evaluate(validation).Accuracy.Should().BeApproximately(seen[0][Metric.ValidationAccuracy], 1e-12, "the weights of the best epoch are restored");
    }

    [Fact]
    public void The_history_holds_every_epochs_figures_with_or_without_callbacks()
    {
        // Keras's history.history: the same figures the callbacks get, per epoch, also when the run has no callback.
        var data = Synthetic.Digits(128);
        var validation = Synthetic.Digits(40, seed: 9);
        using var model = SmallModels.Build(AutoencoderKind.Variational);
        using var twin = SmallModels.Build(AutoencoderKind.Variational);
        var seen = new List<EpochSummary>();

        var withCallback = model.Train(data, Quick with { Epochs = 3 }, new TrainingRun { Threads = 1, ValidationSet = validation, Callbacks = [new Recorder(seen.Add)] });
        var plain = twin.Train(data, Quick with { Epochs = 3 }, new TrainingRun { Threads = 1, ValidationSet = validation });

        for (var i = 0; i < 3; i++)
        {
            withCallback.Epochs[i].Metrics.Should().Equal(seen[i].Metrics);
            plain.Epochs[i].Metrics.Keys.Should().BeEquivalentTo(seen[i].Metrics.Keys);
            plain.Epochs[i].Metrics[Metric.Loss].Should().Be(plain.Epochs[i].TrainingLoss);
            plain.Epochs[i].Metrics[Metric.ValidationLoss].Should().Be(plain.Epochs[i].ValidationLoss!.Value);
        }

        plain.GetMetric(Metric.KlDivergence).Should().Equal(plain.Epochs.Select(e => e.Metrics[Metric.KlDivergence]));
        plain.GetMetric(Metric.ValidationLoss).Should().Equal(plain.Epochs.Select(e => e.ValidationLoss!.Value));
        plain.GetMetric(Metric.ValidationKlDivergence).Last().Should().BeApproximately(twin.Evaluate(validation).KlDivergence!.Value, 1e-6);
        var missing = () => plain.GetMetric(Metric.Accuracy);
        missing.Should().Throw<KeyNotFoundException>().WithMessage("No epoch of this run has the metric 'accuracy'; it has: loss, bce, kl, val_loss, val_bce, val_mse, val_kl.");
    }

    public static TheoryData<string, bool, string> RefusedMonitors => new()
    {
        { Metric.ValidationAccuracy, true, "*EarlyStopping monitors 'val_accuracy', but this run has: loss, bce, val_loss, val_bce, val_mse.*" },
        { Metric.KlDivergence, true, "*EarlyStopping monitors 'kl', but this run has: loss, bce, val_loss, val_bce, val_mse.*" },
        { Metric.MeanSquaredError, true, "*EarlyStopping monitors 'mse', but this run has: loss, bce, val_loss, val_bce, val_mse.*" },
        { Metric.ValidationBinaryCrossEntropy, false, "*EarlyStopping monitors 'val_bce', but this run has: loss, bce.*ValidationFraction or TrainingRun.ValidationSet*" },
    };

    [Theory]
    [MemberData(nameof(RefusedMonitors))]
    public void A_monitor_the_run_will_not_have_is_refused_before_training(string monitor, bool withValidation, string message)
    {
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        var run = new TrainingRun { Threads = 1, ValidationSet = withValidation ? Synthetic.Digits(20, seed: 2) : null, Callbacks = [new EarlyStopping(monitor: monitor)] };
        var act = () => model.Train(Synthetic.Digits(64), Quick, run);
        act.Should().Throw<LatentKitValidationException>().Where(e => e.ParamName == nameof(TrainingRun.Callbacks)).WithMessage(message);
    }

    [Fact]
    public void Early_stopping_on_a_loss_part_is_accepted()
    {
        using var model = SmallModels.Build(AutoencoderKind.Variational);
        var stopping = new EarlyStopping(monitor: Metric.ValidationKlDivergence, patience: 1, minDelta: 1e9, restoreBestWeights: false);
        var history = model.Train(Synthetic.Digits(64), Quick with { Epochs = 3 }, new TrainingRun { Threads = 1, ValidationSet = Synthetic.Digits(20, seed: 2), Callbacks = [stopping] });
        history.Epochs.Should().HaveCount(2);
        stopping.BestEpoch.Should().Be(1);
    }

    private sealed class Recorder(Action<EpochSummary> record) : ITrainingCallback
    {
        public void OnEpochEnd(EpochSummary summary, TrainingControl control) => record(summary);
    }
}
