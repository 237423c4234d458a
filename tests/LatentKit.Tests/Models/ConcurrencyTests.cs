using LatentKit.Tests.Support;
using static TorchSharp.torch;

namespace LatentKit.Tests.Models;

/// <summary>Issue 11, item 13: what may run on one model from several threads, and what is refused.</summary>
public class ConcurrencyTests
{
    private const int Threads = 4;
    private const int Rounds = 15;

    [Theory]
    [InlineData(AutoencoderKind.Dense)]
    [InlineData(AutoencoderKind.Convolutional)]
    [InlineData(AutoencoderKind.Variational)]
    public void Concurrent_encode_reconstruct_and_evaluate_on_one_model_equal_the_single_thread_results(AutoencoderKind kind)
    {
        using var model = SmallModels.Build(kind);
        var data = Synthetic.Digits(24);
        using var images = data.ImagesToTensor();
        float[] codes, reconstructions;
        using (var scope = NewDisposeScope())
        {
            codes = SmallModels.Values(model.Encode(images));
            reconstructions = SmallModels.Values(model.Reconstruct(images));
        }

        var metrics = model.Evaluate(data, batchSize: 10);

        var failures = RunConcurrently(_ =>
        {
            using var scope = NewDisposeScope();
            SmallModels.Values(model.Encode(images)).Should().Equal(codes);
            SmallModels.Values(model.Reconstruct(images)).Should().Equal(reconstructions);
            model.Evaluate(data, batchSize: 10).Should().Be(metrics);
        });

        failures.Should().BeEmpty();
    }

    [Fact]
    public void Concurrent_predictions_of_a_classifier_with_dropout_and_batch_norm_equal_the_single_thread_results()
    {
        using var autoencoder = SmallModels.Build(AutoencoderKind.Dense);
        using var classifier = LatentClassifier.For(autoencoder).WithHiddenLayers(24).WithDropout(0.5).WithBatchNorm().WithSeed(3).Build();
        var data = Synthetic.Digits(40);
        classifier.Train(data, new TrainingOptions { Epochs = 1, BatchSize = 20 }, new TrainingRun { Threads = 1 });
        using var images = data.ImagesToTensor();
        var predicted = classifier.Predict(images);
        float[] probabilities;
        using (var scope = NewDisposeScope())
        {
            probabilities = SmallModels.Values(classifier.PredictProbabilities(images));
        }

        var accuracy = classifier.Evaluate(data).Accuracy;

        var failures = RunConcurrently(i =>
        {
            using var scope = NewDisposeScope();
            classifier.Predict(images).Should().Equal(predicted);
            SmallModels.Values(classifier.PredictProbabilities(images)).Should().Equal(probabilities);
            SmallModels.Values(autoencoder.Encode(images)).Should().HaveCount(40 * 16);
            classifier.Evaluate(data).Accuracy.Should().Be(accuracy);
        });

        failures.Should().BeEmpty();
    }

    [Fact]
    public async Task Using_an_autoencoder_while_it_trains_is_refused_from_another_thread_and_from_a_progress_callback()
    {
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        var data = Synthetic.Digits(64);
        using var images = data.ImagesToTensor(0, 4);
        using var started = new ManualResetEventSlim();
        using var checkedOnOtherThread = new ManualResetEventSlim();
        Exception? fromCallback = null;
        var progress = new SyncProgress<TrainingProgress>(_ =>
        {
            if (started.IsSet)
            {
                return;
            }

            fromCallback = Record(() => model.Encode(images).Dispose());
            started.Set();
            checkedOnOtherThread.Wait(TimeSpan.FromSeconds(30)).Should().BeTrue();
        });

        var training = Task.Run(() => model.Train(data, new TrainingOptions { Epochs = 1, BatchSize = 16 }, new TrainingRun { Threads = 1, ProgressInterval = TimeSpan.Zero, Progress = progress }));
        started.Wait(TimeSpan.FromSeconds(60)).Should().BeTrue("training reports progress");
        var fromOtherThread = Record(() => model.Encode(images).Dispose());
        var trainTwice = Record(() => model.Train(data, new TrainingOptions { Epochs = 1 }, new TrainingRun { Threads = 1 }));
        var evaluate = Record(() => model.Evaluate(data));
        var save = Record(() => model.Save(Path.Combine(Path.GetTempPath(), $"latentkit-never-{Guid.NewGuid():N}.lkm")));
        checkedOnOtherThread.Set();
        var history = await training;

        foreach (var refused in new[] { fromCallback, fromOtherThread, trainTwice, evaluate, save })
        {
            refused.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Contain("is being trained");
        }

        history.Epochs.Should().HaveCount(1);
        using var codes = model.Encode(images);
        codes.shape.Should().Equal(4, 16);
    }

    [Fact]
    public void Disposing_a_model_from_its_own_training_callback_takes_effect_when_Train_returns()
    {
        // Disposing freed the network under the running loop, which then failed inside TorchSharp; now training ends
        // its run on live weights, and the model is disposed when Train returns.
        var model = SmallModels.Build(AutoencoderKind.Dense);
        var disposer = new DelegateCallback((summary, control) =>
        {
            if (summary.Epoch == 1)
            {
                model.Dispose();
                control.Stop("disposed");
            }
        });

        var history = model.Train(Synthetic.Digits(64), new TrainingOptions { Epochs = 3, BatchSize = 16, ValidationFraction = null }, new TrainingRun { Threads = 1, Callbacks = [disposer] });

        history.Epochs.Should().ContainSingle();
        history.StopReason.Should().Be("disposed");
        FluentActions.Invoking(() => model.Encode(new float[784])).Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void Disposing_a_model_while_another_thread_encodes_waits_for_that_call()
    {
        // An inference call holds the model's lock (held here by hand, as Encode holds it while its forward pass
        // runs): Dispose waits for it, so the weights stay alive until the call returns. Before, Dispose freed them
        // at once under the running call.
        var model = (AutoencoderBase)SmallModels.Build(AutoencoderKind.Dense);
        var sample = new float[784];
        var before = model.Encode(sample);
        var weights = model.Network.parameters().ToList();
        weights.Should().NotBeEmpty();
        var disposing = new Thread(model.Dispose);
        using (model.Guard.EnterUse())
        {
            disposing.Start();
            // Synchronous waits: the lock (a Monitor) must be released on the thread that took it.
            disposing.Join(TimeSpan.FromMilliseconds(300)).Should().BeFalse("Dispose waits while a call holds the lock");
            weights.Should().OnlyContain(p => !p.IsInvalid, "the weights are not freed under the running call");
        }

        disposing.Join(TimeSpan.FromSeconds(10)).Should().BeTrue();
        weights.Should().OnlyContain(p => p.IsInvalid, "Dispose freed the weights once the call returned");
        before.Should().HaveCount(16).And.OnlyContain(v => float.IsFinite(v));
        FluentActions.Invoking(() => model.Encode(sample)).Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void Predicting_with_a_classifier_while_it_trains_is_refused()
    {
        using var autoencoder = SmallModels.Build(AutoencoderKind.Dense);
        using var classifier = LatentClassifier.For(autoencoder).WithHiddenLayers(16).WithDropout(0.5).WithSeed(3).Build();
        var data = Synthetic.Digits(64);
        using var images = data.ImagesToTensor(0, 4);
        var refusals = new List<Exception?>();
        var progress = new SyncProgress<TrainingProgress>(_ =>
        {
            if (refusals.Count == 0)
            {
                // Before the fix this switched the head to evaluation mode in the middle of training (no more dropout).
                refusals.Add(Record(() => classifier.Predict(images)));
                refusals.Add(Record(() => classifier.Evaluate(data)));
            }
        });

        classifier.Train(data, new TrainingOptions { Epochs = 1, BatchSize = 16 }, new TrainingRun { Threads = 1, ProgressInterval = TimeSpan.Zero, Progress = progress });

        refusals.Should().HaveCount(2).And.AllSatisfy(e => e.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Contain("latent classifier"));
        classifier.Predict(images).Should().HaveCount(4);
    }

    [Fact]
    public void A_classifier_cannot_predict_while_its_autoencoder_trains()
    {
        using var autoencoder = SmallModels.Build(AutoencoderKind.Dense);
        using var classifier = LatentClassifier.For(autoencoder).WithHiddenLayers(16).Build();
        var data = Synthetic.Digits(32);
        using var images = data.ImagesToTensor(0, 4);
        Exception? refused = null;
        var progress = new SyncProgress<TrainingProgress>(_ => refused ??= Record(() => classifier.Predict(images)));

        autoencoder.Train(data, new TrainingOptions { Epochs = 1, BatchSize = 16 }, new TrainingRun { Threads = 1, ProgressInterval = TimeSpan.Zero, Progress = progress });

        refused.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Contain("autoencoder");
    }

    private static List<Exception> RunConcurrently(Action<int> work)
    {
        var failures = new List<Exception>();
        using var go = new ManualResetEventSlim();
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            go.Wait();
            try
            {
                for (var round = 0; round < Rounds; round++)
                {
                    work(t);
                }
            }
            catch (Exception e)
            {
                lock (failures)
                {
                    failures.Add(e);
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        go.Set();
        threads.ForEach(t => t.Join());
        return failures;
    }

    private static Exception? Record(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }
}
