using LatentKit.Tests.Support;
using static TorchSharp.torch;

namespace LatentKit.Tests.Training;

public class TrainerTests
{
    private static readonly TrainingOptions Quick = new() { Epochs = 3, BatchSize = 32, LearningRate = 3e-3, Seed = 5 };

    private static readonly TrainingRun OneThread = new() { Threads = 1 };

    [Theory]
    [InlineData(AutoencoderKind.Dense)]
    [InlineData(AutoencoderKind.Convolutional)]
    [InlineData(AutoencoderKind.Variational)]
    public void Training_lowers_the_loss_and_reports_progress_and_one_log_line_per_epoch(AutoencoderKind kind)
    {
        var data = Synthetic.Digits(320);
        using var model = SmallModels.Build(kind);
        var before = model.Evaluate(data).BinaryCrossEntropy;
        var reports = new List<TrainingProgress>();
        var logger = new ListLogger();

        var history = model.Train(data, Quick, new TrainingRun { Threads = 1, ProgressInterval = TimeSpan.Zero, Progress = new SyncProgress<TrainingProgress>(reports.Add), Logger = logger });

        history.Epochs.Should().HaveCount(3);
        history.Epochs.Select(e => e.Epoch).Should().Equal(1, 2, 3);
        history.Epochs[^1].TrainingLoss.Should().BeLessThan(history.Epochs[0].TrainingLoss);
        history.Epochs.Should().OnlyContain(e => e.ImagesPerSecond > 0 && e.Duration > TimeSpan.Zero && e.ValidationLoss == null && e.Completed);
        history.StoppedEarly.Should().BeFalse();
        history.StopReason.Should().BeNull();
        model.Evaluate(data).BinaryCrossEntropy.Should().BeLessThan(before);

        reports.Should().HaveCount(3 * 10, "320 images in batches of 32 with no throttling give 10 reports per epoch");
        reports[0].Should().Match<TrainingProgress>(p => p.Epoch == 1 && p.TotalEpochs == 3 && p.Batch == 1 && p.TotalBatches == 10 && p.ImagesPerSecond > 0);
        reports[^1].Should().Match<TrainingProgress>(p => p.Epoch == 3 && p.Batch == 10);
        reports[^1].RunningLoss.Should().BeApproximately(history.Epochs[^1].TrainingLoss, 1e-9);

        logger.Lines.Should().HaveCount(3);
        logger.Lines[1].Should().Contain("epoch 2/3").And.Contain("training loss");
    }

    [Fact]
    public void Progress_is_throttled_but_the_last_batch_of_each_epoch_is_always_reported()
    {
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        var reports = new List<TrainingProgress>();
        model.Train(Synthetic.Digits(320), Quick with { Epochs = 2 }, new TrainingRun { Threads = 1, ProgressInterval = TimeSpan.FromHours(1), Progress = new SyncProgress<TrainingProgress>(reports.Add) });
        reports.Select(r => (r.Epoch, r.Batch)).Should().Equal((1, 1), (1, 10), (2, 1), (2, 10));
    }

    [Theory]
    [InlineData(AutoencoderKind.Dense)]
    [InlineData(AutoencoderKind.Variational)]
    [InlineData(AutoencoderKind.Convolutional)]
    public void The_same_seed_and_settings_on_one_thread_give_the_same_losses(AutoencoderKind kind)
    {
        var data = Synthetic.Digits(192);
        double[] Run()
        {
            using var model = SmallModels.Build(kind, seed: 11);
            var options = Quick with { Epochs = 2, ValidationFraction = 0.25 };
            var history = model.Train(data, options, OneThread);
            return history.Epochs.SelectMany(e => new[] { e.TrainingLoss, e.ValidationLoss!.Value }).ToArray();
        }

        var first = Run();
        var second = Run();
        second.Should().HaveCount(4);
        for (var i = 0; i < first.Length; i++)
        {
            second[i].Should().BeApproximately(first[i], 1e-6);
        }
    }

    [Fact]
    public void Cancellation_stops_at_the_next_batch_and_leaves_a_usable_model_with_the_history_so_far()
    {
        var data = Synthetic.Digits(320);
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        using var cancellation = new CancellationTokenSource();
        var batchesSeen = 0;
        var progress = new SyncProgress<TrainingProgress>(p =>
        {
            batchesSeen++;
            if (p.Epoch == 2 && p.Batch == 4)
            {
                cancellation.Cancel();
            }
        });

        var act = () => model.Train(data, Quick with { Epochs = 5 }, new TrainingRun { Threads = 1, ProgressInterval = TimeSpan.Zero, Progress = progress }, cancellationToken: cancellation.Token);

        var canceled = act.Should().Throw<TrainingCanceledException>().Which;
        canceled.Should().BeAssignableTo<OperationCanceledException>();
        canceled.CancellationToken.Should().Be(cancellation.Token);
        canceled.Message.Should().Contain("cancelled after 1 of 5 epochs");
        var history = canceled.History;
        batchesSeen.Should().Be(10 + 4, "training stops before batch 5 of epoch 2");
        history.Epochs.Should().HaveCount(2);
        history.Epochs[0].Completed.Should().BeTrue();
        history.Epochs[1].Completed.Should().BeFalse();
        history.Epochs[1].TrainingLoss.Should().BeGreaterThan(0);

        using var scope = NewDisposeScope();
        var reconstruction = model.Reconstruct(data.ImagesToTensor(0, 4));
        reconstruction.isfinite().all().item<bool>().Should().BeTrue();
        model.Evaluate(data).BinaryCrossEntropy.Should().BeLessThan(1);
    }

    [Fact]
    public void A_token_cancelled_before_training_runs_no_batch()
    {
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        using var scope = NewDisposeScope();
        var probe = rand(2, 784);
        var before = SmallModels.Values(model.Encode(probe));
        var act = () => model.Train(Synthetic.Digits(64), Quick, OneThread, cancellationToken: new CancellationToken(canceled: true));
        var history = act.Should().Throw<TrainingCanceledException>().Which.History;
        history.Epochs.Should().BeEmpty();
        SmallModels.Values(model.Encode(probe)).Should().Equal(before);
    }

    [Fact]
    public void A_diverging_loss_throws_naming_epoch_and_batch_and_restores_the_last_good_weights()
    {
        var data = Synthetic.Digits(256);
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        model.Train(data, Quick with { Epochs = 1 }, OneThread);
        using var scope = NewDisposeScope();
        var probe = data.ImagesToTensor(0, 8);
        var good = SmallModels.Values(model.Reconstruct(probe));

        var act = () => model.Train(data, Quick with { Optimizer = OptimizerKind.Sgd, LearningRate = 1e12, Epochs = 3 }, OneThread);

        var error = act.Should().Throw<TrainingDivergedException>().Which;
        error.Epoch.Should().Be(1);
        error.Batch.Should().BeInRange(2, 8);
        double.IsFinite(error.Loss).Should().BeFalse();
        error.Message.Should().Contain($"epoch 1, batch {error.Batch}");
        SmallModels.Values(model.Reconstruct(probe)).Should().Equal(good, "the weights are those at the start of the diverging epoch");
    }

    [Fact]
    public void Early_stopping_stops_when_the_validation_loss_rises_and_keeps_the_weights_of_the_best_epoch()
    {
        var data = Synthetic.Digits(320);

        // Validation images with the ink and the background swapped: the better the model reconstructs the training
        // digits (dark background), the worse it does on these, so the validation loss rises while training goes on.
        // Measured (one thread, seeded): 2.968, 2.616, 2.986, 3.238 - best after epoch 2, then two epochs worse.
        var validation = Inverted(Synthetic.Digits(100, seed: 9));
        using var model = SmallModels.Build(AutoencoderKind.Dense);

        var history = model.Train(data, Quick with { Epochs = 10 }, new TrainingRun { Threads = 1, ValidationSet = validation, Callbacks = [new EarlyStopping(patience: 2)] });

        var losses = history.Epochs.Select(e => e.ValidationLoss!.Value).ToArray();
        history.StoppedEarly.Should().BeTrue($"validation losses {string.Join(", ", losses)}");
        history.BestEpoch.Should().Be(2, $"validation losses {string.Join(", ", losses)}");
        history.Epochs.Should().HaveCount(4, "two epochs without improvement after the best one, with a patience of 2");
        losses[2].Should().BeGreaterThan(losses[1]);
        losses[3].Should().BeGreaterThan(losses[1]);
        history.Epochs[^1].TrainingLoss.Should().BeLessThan(history.Epochs[0].TrainingLoss, "training itself goes on improving");

        var kept = model.Evaluate(validation).BinaryCrossEntropy;
        kept.Should().BeApproximately(losses[1], 1e-5, "the model holds the weights of epoch 2");
        Math.Abs(kept - losses[3]).Should().BeGreaterThan(1e-2, "the weights of the last epoch were replaced");
    }

    [Fact]
    public void Without_early_stopping_the_best_epoch_is_reported_and_the_last_weights_are_kept()
    {
        var data = Synthetic.Digits(320);
        var validation = Inverted(Synthetic.Digits(100, seed: 9));
        using var model = SmallModels.Build(AutoencoderKind.Dense);

        var history = model.Train(data, Quick with { Epochs = 3 }, new TrainingRun { Threads = 1, ValidationSet = validation });

        history.StoppedEarly.Should().BeFalse();
        history.BestEpoch.Should().Be(2);
        history.Epochs.Should().HaveCount(3);
        var kept = model.Evaluate(validation).BinaryCrossEntropy;
        kept.Should().BeApproximately(history.Epochs[^1].ValidationLoss!.Value, 1e-5, "without early stopping the last weights stay");
        Math.Abs(kept - history.Epochs[1].ValidationLoss!.Value).Should().BeGreaterThan(1e-2);
    }

    [Fact]
    public void A_validation_fraction_reports_a_validation_loss_per_epoch()
    {
        using var model = SmallModels.Build(AutoencoderKind.Variational);
        var history = model.Train(Synthetic.Digits(200), Quick with { Epochs = 2, ValidationFraction = 0.2 }, OneThread);
        history.Epochs.Should().OnlyContain(e => e.ValidationLoss > 0);
        history.BestEpoch.Should().NotBeNull();
    }

    [Fact]
    public void Threads_are_restored_after_training()
    {
        var before = get_num_threads();
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        model.Train(Synthetic.Digits(64), Quick with { Epochs = 1 }, new TrainingRun { Threads = before == 1 ? 2 : 1 });
        get_num_threads().Should().Be(before);
    }

    [Fact]
    public void The_classifier_learns_the_synthetic_digits_and_leaves_the_encoder_unchanged()
    {
        var data = Synthetic.Digits(500);
        using var autoencoder = SmallModels.Build(AutoencoderKind.Dense);
        autoencoder.Train(data, Quick, OneThread);
        using var scope = NewDisposeScope();
        var probe = data.ImagesToTensor(0, 10);
        var codes = SmallModels.Values(autoencoder.Encode(probe));

        foreach (var head in new[] { ClassifierHead.Logits, ClassifierHead.SigmoidCrossEntropy })
        {
            using var classifier = LatentClassifier.For(autoencoder).WithHead(head).WithSeed(3).Build();
            var history = classifier.Train(data, Quick with { Epochs = 15, LearningRate = 1e-2 }, OneThread);
            history.Epochs[^1].TrainingLoss.Should().BeLessThan(history.Epochs[0].TrainingLoss);

            var metrics = classifier.Evaluate(Synthetic.Digits(200, seed: 2));
            metrics.Accuracy.Should().BeGreaterThan(0.9, head.ToString());
            metrics.Count.Should().Be(200);
            metrics.PerClassRecall.Should().HaveCount(10).And.OnlyContain(r => r >= 0.6, head.ToString());
        }

        SmallModels.Values(autoencoder.Encode(probe)).Should().Equal(codes, "the encoder is frozen");
    }

    [Fact]
    public void The_confusion_matrix_counts_true_digits_in_rows_and_predictions_in_columns()
    {
        using var autoencoder = SmallModels.Build(AutoencoderKind.Dense);
        using var classifier = LatentClassifier.For(autoencoder).WithSeed(3).Build();

        // An output layer of zero weights and a bias favouring 3: every image is predicted as a 3.
        var output = (TorchSharp.Modules.Linear)classifier.Head.named_children().Single(c => c.name == "linear2").module;
        using (no_grad())
        {
            output.weight!.zero_();
            output.bias!.zero_();
            output.bias[3] = 10f;
        }

        var metrics = classifier.Evaluate(Synthetic.Digits(200, seed: 2));

        metrics.Count.Should().Be(200);
        metrics.Accuracy.Should().Be(0.1, "only the twenty 3s are right");
        for (var truth = 0; truth < 10; truth++)
        {
            for (var predicted = 0; predicted < 10; predicted++)
            {
                metrics.ConfusionMatrix[truth, predicted].Should().Be(predicted == 3 ? 20 : 0, $"cell [{truth}, {predicted}]");
            }
        }

        metrics.PerClassRecall.Should().Equal(0, 0, 0, 1, 0, 0, 0, 0, 0, 0);
    }

    /// <summary>The same images with each pixel p replaced by 255 - p.</summary>
    private static MnistDataset Inverted(MnistDataset data)
    {
        var pixels = data.Pixels.ToArray();
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (byte)(255 - pixels[i]);
        }

        return new MnistDataset(pixels, data.Labels.ToArray(), $"inverted {data.Name}");
    }
}
