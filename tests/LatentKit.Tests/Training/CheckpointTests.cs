using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using LatentKit.ResumeProbe;
using LatentKit.Tests.Support;
using TorchSharp;

namespace LatentKit.Tests.Training;

public sealed class CheckpointTests
{
    [Fact]
    public void A_path_without_extension_or_epoch_pattern_is_a_folder_even_before_it_exists()
    {
        using var temp = new TempDirectory();
        var run = temp.Combine("runA");
        new ModelCheckpoint(run).Path.Should().Be(Path.Combine(run, ModelCheckpoint.DefaultFileName));
        new ModelCheckpoint(run + Path.DirectorySeparatorChar).Path.Should().Be(Path.Combine(run, ModelCheckpoint.DefaultFileName));
        var dotted = temp.CreateSubdirectory("run.v2");
        new ModelCheckpoint(dotted).Path.Should().Be(Path.Combine(dotted, ModelCheckpoint.DefaultFileName));
        new ModelCheckpoint(temp.Combine("ck.lkcheckpoint")).Path.Should().Be(temp.Combine("ck.lkcheckpoint"));
        new ModelCheckpoint(temp.Combine("ck-{epoch}")).Path.Should().Be(temp.Combine("ck-{epoch}"));
        File.WriteAllText(temp.Combine("plain"), string.Empty);
        new ModelCheckpoint(temp.Combine("plain")).Path.Should().Be(temp.Combine("plain"));

        // The folder is created by the first write, with the best model file beside the checkpoints.
        var data = ResumeScenarios.Data();
        var model = ResumeScenarios.Build("dense", data);
        var options = ResumeScenarios.Options("dense") with { Epochs = 1 };
        ResumeScenarios.Train(model, data, options, new TrainingRun { Threads = 1, Callbacks = [new ModelCheckpoint(run, monitor: Metric.Loss, bestModelPath: Path.Combine(run, "best.lkm"))] });
        File.Exists(Path.Combine(run, "checkpoint-0001.lkcheckpoint")).Should().BeTrue();
        File.Exists(Path.Combine(run, "best.lkm")).Should().BeTrue();
        ((IDisposable)model).Dispose();
    }

    [Fact]
    public void Checkpoint_and_best_model_paths_that_collide_are_refused_at_construction()
    {
        using var temp = new TempDirectory();
        var file = temp.Combine("ck.lkcheckpoint");
        foreach (var best in new[] { file, Path.Combine(file, "best.lkm"), temp.Path, temp.Combine("models") + Path.DirectorySeparatorChar })
        {
            var act = () => new ModelCheckpoint(file, monitor: Metric.Loss, bestModelPath: best);
            act.Should().Throw<LatentKitValidationException>().Which.ParamName.Should().Be("bestModelPath", best);
        }

        var underBest = () => new ModelCheckpoint(Path.Combine(temp.Combine("best.lkm"), "ck.lkcheckpoint"), monitor: Metric.Loss, bestModelPath: temp.Combine("best.lkm"));
        underBest.Should().Throw<LatentKitValidationException>().WithMessage("*best.lkm*");
    }

    [Fact]
    public void A_checkpoint_that_cannot_be_written_is_a_checkpoint_exception_naming_the_path()
    {
        using var temp = new TempDirectory();
        var blocker = temp.Combine("blocker");
        File.WriteAllText(blocker, "x");
        var data = ResumeScenarios.Data();
        var options = ResumeScenarios.Options("dense") with { Epochs = 1 };
        var lateFolder = temp.Combine("late.lkm");
        foreach (var callback in new[]
        {
            new ModelCheckpoint(Path.Combine(blocker, "ck.lkcheckpoint")),
            new ModelCheckpoint(temp.Combine("ok.lkcheckpoint"), monitor: Metric.Loss, bestModelPath: lateFolder),
        })
        {
            // A folder made where the best model file goes, after the callback was created.
            Directory.CreateDirectory(lateFolder);
            var model = ResumeScenarios.Build("dense", data);
            var act = () => ResumeScenarios.Train(model, data, options, new TrainingRun { Threads = 1, Callbacks = [callback] });
            var exception = act.Should().Throw<CheckpointException>().Which;
            exception.Error.Should().Be(CheckpointError.CannotWrite);
            var expected = callback.BestModelPath ?? callback.Path;
            exception.Path.Should().Be(expected);
            exception.Message.Should().Contain($"'{expected}'").And.NotContain(".tmp");
            ((IDisposable)model).Dispose();
        }
    }

    /// <summary>10 epochs in one go equal 5 epochs, a checkpoint, a resume in a new process and 5 more: losses within 1e-6, weights equal.</summary>
    [Theory]
    [InlineData("dense")]
    [InlineData("vae")]
    [InlineData("classifier")]
    [InlineData("custom vae")]
    public void Resuming_in_a_new_process_gives_the_uninterrupted_runs_losses_and_weights(string scenario)
    {
        using var temp = new TempDirectory();
        var (reference, referenceWeights) = Uninterrupted(scenario);
        var checkpoint = FirstHalf(scenario, temp);

        var losses = temp.Combine("losses.txt");
        var modelPath = temp.Combine("resumed.lkm");
        RunProbe(scenario, checkpoint, losses, modelPath);

        var resumed = File.ReadAllLines(losses).Select(l => double.Parse(l.Split(' ')[1], CultureInfo.InvariantCulture)).ToArray();
        resumed.Should().HaveCount(ResumeScenarios.Epochs);
        for (var i = 0; i < ResumeScenarios.Epochs; i++)
        {
            resumed[i].Should().BeApproximately(reference[i], 1e-6, $"epoch {i + 1} of {scenario}");
        }

        var loaded = scenario switch
        {
            "classifier" => (object)LatentClassifier.Load(modelPath),
            "custom vae" => LoadCustom(modelPath),
            _ => AutoencoderFile.Load(modelPath),
        };
        Weights(loaded).Should().BeEquivalentTo(referenceWeights, o => o.WithStrictOrdering());
    }

    [Fact]
    public void Resuming_in_the_same_process_gives_the_uninterrupted_runs_losses_and_the_full_history()
    {
        using var temp = new TempDirectory();
        var (reference, referenceWeights) = Uninterrupted("vae");
        var checkpoint = FirstHalf("vae", temp);
        var data = ResumeScenarios.Data();
        var model = ResumeScenarios.Build("vae", data);
        var history = ResumeScenarios.Train(model, data, ResumeScenarios.Options("vae"), new TrainingRun { Threads = 1, ResumeFrom = checkpoint });

        history.Epochs.Select(e => e.Epoch).Should().Equal(Enumerable.Range(1, 10));
        history.Epochs.Select(e => e.TrainingLoss).Should().Equal(reference, (a, b) => Math.Abs(a - b) <= 1e-6);
        Weights(model).Should().BeEquivalentTo(referenceWeights, o => o.WithStrictOrdering());

        // The checkpoint's epochs keep their figures (through the manifest's JSON) as the resumed ones have them.
        history.Epochs.Should().OnlyContain(e => e.Metrics.Keys.SequenceEqual(new[] { Metric.Loss, Metric.BinaryCrossEntropy, Metric.KlDivergence }));
        history.GetMetric(Metric.Loss).Should().Equal(history.Epochs.Select(e => e.TrainingLoss));
        history.GetMetric(Metric.KlDivergence).Should().OnlyContain(v => double.IsFinite(v) && v > 0);
    }

    [Fact]
    public void A_user_callbacks_state_is_saved_and_restored_so_it_continues_as_in_the_uninterrupted_run()
    {
        using var temp = new TempDirectory();
        var data = ResumeScenarios.Data();
        var options = ResumeScenarios.Options("dense");
        var whole = new LossTally();
        using (var model = (IAutoencoder)ResumeScenarios.Build("dense", data))
        {
            model.Train(data, options, new TrainingRun { Threads = 1, Callbacks = [whole] });
        }

        var path = temp.Combine("tally.lkcheckpoint");
        using (var model = (IAutoencoder)ResumeScenarios.Build("dense", data))
        {
            model.Train(data, options, new TrainingRun { Threads = 1, Callbacks = [new LossTally(), new ModelCheckpoint(path, everyEpochs: 5), new StopAfter(5)] });
        }

        var resumed = new LossTally();
        using (var model = (IAutoencoder)ResumeScenarios.Build("dense", data))
        {
            model.Train(data, options, new TrainingRun { Threads = 1, ResumeFrom = path, Callbacks = [resumed] });
        }

        whole.Epochs.Should().Be(10);
        resumed.Epochs.Should().Be(10, "the first five epochs come back from the checkpoint");
        resumed.LossSum.Should().BeApproximately(whole.LossSum, 1e-6);
        resumed.Lowest.Should().Be(whole.Lowest);
    }

    [Fact]
    public void A_user_callback_that_refuses_its_saved_state_fails_the_resume_with_the_callback_named()
    {
        using var temp = new TempDirectory();
        var data = ResumeScenarios.Data();
        var options = ResumeScenarios.Options("dense");
        var path = temp.Combine("tally.lkcheckpoint");
        using (var model = (IAutoencoder)ResumeScenarios.Build("dense", data))
        {
            model.Train(data, options, new TrainingRun { Threads = 1, Callbacks = [new LossTally(), new ModelCheckpoint(path, everyEpochs: 5), new StopAfter(5)] });
        }

        using var fresh = (IAutoencoder)ResumeScenarios.Build("dense", data);
        var before = Weights(fresh);
        var act = () => fresh.Train(data, options, new TrainingRun { Threads = 1, ResumeFrom = path, Callbacks = [new LossTally { RefuseState = true }] });

        act.Should().Throw<CheckpointException>()
            .Where(e => e.Error == CheckpointError.Damaged)
            .WithMessage("*callback 0 (LossTally) could not take its saved state (no 'epochs' in this version)*");
        Weights(fresh).Should().BeEquivalentTo(before, o => o.WithStrictOrdering(), "nothing of the checkpoint is kept");
    }

    [Theory]
    [InlineData("", "a name is empty")]
    [InlineData("too long", "a name is 257 characters long, more than 256")]
    [InlineData("too many", "1,025 names, more than 1,024")]
    public void A_state_that_cannot_be_saved_is_refused_with_the_callback_named(string problem, string message)
    {
        using var temp = new TempDirectory();
        var data = ResumeScenarios.Data();
        using var model = (IAutoencoder)ResumeScenarios.Build("dense", data);
        var state = problem switch
        {
            "" => new Dictionary<string, double> { [""] = 1 },
            "too long" => new Dictionary<string, double> { [new string('x', 257)] = 1 },
            _ => Enumerable.Range(0, 1_025).ToDictionary(i => $"k{i}", i => (double)i),
        };

        var act = () => model.Train(data, ResumeScenarios.Options("dense"), new TrainingRun { Threads = 1, Callbacks = [new FixedState(state), new ModelCheckpoint(temp.Combine("c.lkcheckpoint"), everyEpochs: 1)] });

        act.Should().Throw<InvalidOperationException>().WithMessage($"Callback 0 (FixedState) returned a state that cannot be saved in a checkpoint: {message}.");
        File.Exists(temp.Combine("c.lkcheckpoint")).Should().BeFalse();
    }

    [Fact]
    public void A_resumed_run_keeps_the_epoch_of_the_weights_early_stopping_kept()
    {
        // Early stopping keeps epoch 1's weights (no epoch improves the loss by 10); the run is stopped after epoch 2
        // with a checkpoint and resumed to epoch 4: the model ends with epoch 1's weights, and the history says so.
        using var temp = new TempDirectory();
        var data = ResumeScenarios.Data();
        var path = temp.Combine("run.lkcheckpoint");
        var options = ResumeScenarios.Options("dense") with { Epochs = 4 };
        var first = ResumeScenarios.Build("dense", data);
        var pause = new DelegateCallback((summary, control) =>
        {
            if (summary.Epoch == 2)
            {
                control.Stop("pause");
            }
        });
        ResumeScenarios.Train(first, data, options, new TrainingRun { Threads = 1, Callbacks = [new EarlyStopping(Metric.Loss, patience: 10, minDelta: 10), new ModelCheckpoint(path), pause] });

        var resumed = ResumeScenarios.Build("dense", data);
        var history = ResumeScenarios.Train(resumed, data, options, new TrainingRun { Threads = 1, ResumeFrom = path, Callbacks = [new EarlyStopping(Metric.Loss, patience: 10, minDelta: 10)] });

        history.Epochs.Should().HaveCount(4);
        history.BestEpoch.Should().Be(1);
    }

    [Fact]
    public void Every_n_epochs_keeps_only_the_latest_checkpoint_of_a_pattern()
    {
        using var temp = new TempDirectory();
        var data = ResumeScenarios.Data();
        var model = ResumeScenarios.Build("dense", data);
        var callback = new ModelCheckpoint(temp.Combine("ck-{epoch}.lkcheckpoint"), everyEpochs: 3);
        ResumeScenarios.Train(model, data, ResumeScenarios.Options("dense") with { Epochs = 7 }, new TrainingRun { Threads = 1, Callbacks = [callback] });

        Directory.GetFiles(temp.Path).Select(Path.GetFileName).Should().Equal("ck-0006.lkcheckpoint");
        callback.LastCheckpoint.Should().Be(temp.Combine("ck-0006.lkcheckpoint"));
        Manifest(callback.LastCheckpoint!).Should().Contain("\"epoch\": 6");
    }

    [Fact]
    public void Best_only_writes_when_the_metric_improves_and_keeps_a_model_file_of_the_best_epoch()
    {
        using var temp = new TempDirectory();
        var data = ResumeScenarios.Data();
        var model = ResumeScenarios.Build("dense", data);
        var path = temp.Combine("best.lkcheckpoint");
        var bestModel = temp.Combine("best.lkm");
        var written = new List<int>();
        var spy = new Spy(s => written.Add(s.Epoch), path);

        // A learning rate so large the loss jumps around: not every epoch improves.
        var options = ResumeScenarios.Options("dense") with { Epochs = 8, LearningRate = 0.3, LearningRateSchedule = LearningRateSchedule.None };
        var history = ResumeScenarios.Train(model, data, options, new TrainingRun { Threads = 1, Callbacks = [new ModelCheckpoint(path, bestOnly: true, monitor: Metric.Loss, bestModelPath: bestModel), spy] });

        var losses = history.Epochs.Select(e => e.TrainingLoss).ToArray();
        var bestEpoch = Array.IndexOf(losses, losses.Min()) + 1;
        var improving = Enumerable.Range(1, losses.Length).Where(e => losses[e - 1] < losses.Take(e - 1).DefaultIfEmpty(double.PositiveInfinity).Min()).ToArray();
        improving.Length.Should().BeLessThan(losses.Length, "the test needs an epoch that does not improve");
        written.Should().Equal(improving);
        Manifest(path).Should().Contain($"\"epoch\": {bestEpoch}");

        // The best model file and the model in the best checkpoint are both of the best epoch.
        using var archive = ZipFile.OpenRead(path);
        var fromCheckpoint = temp.Combine("from-checkpoint.lkm");
        archive.GetEntry("model.lkm")!.ExtractToFile(fromCheckpoint);
        using var best = AutoencoderFile.Load(bestModel);
        using var inCheckpoint = AutoencoderFile.Load(fromCheckpoint);
        Weights(best).Should().BeEquivalentTo(Weights(inCheckpoint), o => o.WithStrictOrdering());
        if (bestEpoch < losses.Length)
        {
            Weights(best).Should().NotBeEquivalentTo(Weights(model), "the last epoch was not the best");
        }
    }

    [Theory]
    [InlineData("missing", CheckpointError.Missing)]
    [InlineData("not zip", CheckpointError.NotACheckpoint)]
    [InlineData("truncated", CheckpointError.Damaged)]
    [InlineData("flipped byte", CheckpointError.Damaged)]
    [InlineData("model file", CheckpointError.NotACheckpoint)]
    [InlineData("huge entry", CheckpointError.Damaged)]
    public void A_damaged_checkpoint_is_refused_with_a_named_error_and_the_model_is_unchanged(string damage, CheckpointError error)
    {
        using var temp = new TempDirectory();
        var checkpoint = FirstHalf("dense", temp);
        var bytes = File.ReadAllBytes(checkpoint);
        var target = temp.Combine("damaged.lkcheckpoint");
        switch (damage)
        {
            case "missing":
                break;
            case "not zip":
                File.WriteAllText(target, "hello");
                break;
            case "truncated":
                File.WriteAllBytes(target, bytes[..(bytes.Length / 2)]);
                break;
            case "flipped byte":
                var copy = (byte[])bytes.Clone();
                var offset = FindEntryData(checkpoint, "network.weights") + 40;
                copy[offset] ^= 0xFF;
                File.WriteAllBytes(target, copy);
                break;
            case "model file":
                ((IAutoencoder)ResumeScenarios.Build("dense", ResumeScenarios.Data())).Save(target);
                break;
            case "huge entry":
                File.Copy(checkpoint, target);
                using (var archive = ZipFile.Open(target, ZipArchiveMode.Update))
                {
                    archive.GetEntry("generator.state")!.Delete();
                    using var stream = archive.CreateEntry("generator.state").Open();
                    stream.Write(new byte[1 << 20]);
                }

                break;
        }

        var data = ResumeScenarios.Data();
        var model = (IAutoencoder)ResumeScenarios.Build("dense", data);
        var before = Weights(model);
        var act = () => model.Train(data, ResumeScenarios.Options("dense"), new TrainingRun { Threads = 1, ResumeFrom = target });
        var thrown = act.Should().Throw<CheckpointException>().Which;
        thrown.Error.Should().Be(error);
        thrown.Path.Should().Be(target);
        thrown.Message.Should().Contain(target);
        Weights(model).Should().BeEquivalentTo(before, o => o.WithStrictOrdering());
    }

    [Fact]
    public void A_checkpoint_of_a_run_on_other_data_is_refused_naming_both_counts()
    {
        // The resumed epochs would not be the interrupted run's (another batch order and count): refused, as another
        // batch size is. The same count of other samples cannot be told apart, and is taken.
        using var temp = new TempDirectory();
        var checkpoint = FirstHalf("dense", temp);
        var data = ResumeScenarios.Data();
        var model = ResumeScenarios.Build("dense", data);
        var fewer = () => ResumeScenarios.Train(model, data.Take(data.Count - 4), ResumeScenarios.Options("dense"), new TrainingRun { Threads = 1, ResumeFrom = checkpoint });
        fewer.Should().Throw<CheckpointException>().Where(e => e.Error == CheckpointError.DataMismatch)
            .WithMessage($"*on {data.Count} training and 0 validation samples, but this run has {data.Count - 4} and 0: resume with the same training data*");
        var validated = () => ResumeScenarios.Train(model, data, ResumeScenarios.Options("dense"), new TrainingRun { Threads = 1, ResumeFrom = checkpoint, ValidationSet = data.Take(8) });
        validated.Should().Throw<CheckpointException>().Where(e => e.Error == CheckpointError.DataMismatch).WithMessage("*this run has * and 8*");
    }

    [Fact]
    public void A_checkpoint_of_other_options_names_the_setting()
    {
        using var temp = new TempDirectory();
        var checkpoint = FirstHalf("dense", temp);
        var data = ResumeScenarios.Data();
        var model = ResumeScenarios.Build("dense", data);
        var act = () => ResumeScenarios.Train(model, data, ResumeScenarios.Options("dense") with { BatchSize = 8 }, new TrainingRun { Threads = 1, ResumeFrom = checkpoint });
        act.Should().Throw<CheckpointException>().Where(e => e.Error == CheckpointError.OptionsMismatch && e.Message.Contains("TrainingOptions.BatchSize = 16") && e.Message.Contains("this run has 8"));

        var cosine = () => ResumeScenarios.Train(model, data, ResumeScenarios.Options("dense") with { Epochs = 12 }, new TrainingRun { Threads = 1, ResumeFrom = checkpoint });
        cosine.Should().Throw<CheckpointException>().Where(e => e.Error == CheckpointError.OptionsMismatch && e.Message.Contains("TrainingOptions.Epochs = 10"));
    }

    [Fact]
    public void A_checkpoint_of_another_architecture_is_refused_and_another_builder_seed_is_not()
    {
        using var temp = new TempDirectory();
        var checkpoint = FirstHalf("dense", temp);
        var data = ResumeScenarios.Data();
        using var other = Autoencoders.Dense().WithInputShape(1, 8, 8).WithHiddenLayers(20).WithLatentSize(6).WithSeed(3).Build();
        var act = () => other.Train(data, ResumeScenarios.Options("dense"), new TrainingRun { Threads = 1, ResumeFrom = checkpoint });
        act.Should().Throw<CheckpointException>().Where(e => e.Error == CheckpointError.WrongModel)
            .WithMessage("*is a checkpoint of another model kind or architecture than * (autoencoder.layers[0]: 24 in the checkpoint, 20 in this model): resume with*");

        // The builder's seed only sets the initial weights, which the checkpoint replaces.
        using var reseeded = Autoencoders.Dense().WithInputShape(1, 8, 8).WithHiddenLayers(24).WithLatentSize(6).WithSeed(1234).Build();
        reseeded.Train(data, ResumeScenarios.Options("dense"), new TrainingRun { Threads = 1, ResumeFrom = checkpoint }).Epochs.Should().HaveCount(10);
    }

    [Fact]
    public void A_classifier_checkpoint_is_refused_on_a_frozen_encoder_with_other_weights()
    {
        using var temp = new TempDirectory();
        var checkpoint = FirstHalf("classifier", temp);
        var data = ResumeScenarios.Data();
        // The scenario's encoder (same builder, same seed) but not trained: same architecture, other weights.
        using var otherEncoder = Autoencoders.Dense().WithInputShape(1, 8, 8).WithHiddenLayers(24).WithLatentSize(6).WithSeed(5).Build();
        using var classifier = new LatentClassifierBuilder(otherEncoder).ForData(data).WithHiddenLayers(16).WithDropout(0.3).WithSeed(6).Build();
        var act = () => classifier.Train(data, ResumeScenarios.Options("classifier"), new TrainingRun { Threads = 1, ResumeFrom = checkpoint });
        act.Should().Throw<CheckpointException>().Where(e => e.Error == CheckpointError.WrongModel && e.Message.Contains("other weights"));
    }

    private static (double[] Losses, float[][] Weights) Uninterrupted(string scenario)
    {
        var data = ResumeScenarios.Data();
        var model = ResumeScenarios.Build(scenario, data);
        var history = ResumeScenarios.Train(model, data, ResumeScenarios.Options(scenario), new TrainingRun { Threads = 1, Callbacks = ResumeScenarios.Callbacks(scenario) });
        history.Epochs.Should().HaveCount(ResumeScenarios.Epochs);
        return (history.Epochs.Select(e => e.TrainingLoss).ToArray(), Weights(model));
    }

    /// <summary>The first 5 epochs of the 10-epoch run, a checkpoint after epoch 5, and a stop.</summary>
    private static string FirstHalf(string scenario, TempDirectory temp)
    {
        var data = ResumeScenarios.Data();
        var model = ResumeScenarios.Build(scenario, data);
        var path = temp.Combine("half.lkcheckpoint");
        var callbacks = ResumeScenarios.Callbacks(scenario);
        callbacks.Add(new ModelCheckpoint(path, everyEpochs: 5));
        callbacks.Add(new StopAfter(5));
        var history = ResumeScenarios.Train(model, data, ResumeScenarios.Options(scenario), new TrainingRun { Threads = 1, Callbacks = callbacks });
        history.Epochs.Should().HaveCount(5);
        File.Exists(path).Should().BeTrue();
        return path;
    }

    private static void RunProbe(string scenario, string checkpoint, string losses, string model)
    {
        var probe = Path.Combine(AppContext.BaseDirectory, "LatentKit.ResumeProbe.dll");
        File.Exists(probe).Should().BeTrue($"the probe is built and copied next to the tests ({probe})");
        var start = new ProcessStartInfo(Environment.ProcessPath!.EndsWith("dotnet", StringComparison.Ordinal) || Environment.ProcessPath.EndsWith("dotnet.exe", StringComparison.Ordinal) ? Environment.ProcessPath : "dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { probe, scenario, checkpoint, losses, model })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        process.WaitForExit(120_000).Should().BeTrue("the probe finishes");
        process.ExitCode.Should().Be(0, $"the probe succeeds: {errors.Result}{output.Result}");
    }

    private static IAutoencoder LoadCustom(string path)
    {
        var (encoder, decoder) = ResumeScenarios.CustomModules();
        return AutoencoderFile.LoadCustom(path, encoder, decoder);
    }

    private static float[][] Weights(object model)
    {
        var network = model switch
        {
            LatentClassifier c => ((ITrainable)c).Network,
            AutoencoderBase a => ((ITrainable)a).Network,
            _ => throw new ArgumentException("Not a model.", nameof(model)),
        };
        return network.state_dict().Values.Where(t => t.is_floating_point()).Select(SmallModels.Values).ToArray();
    }

    private static string Manifest(string checkpoint)
    {
        using var archive = ZipFile.OpenRead(checkpoint);
        using var reader = new StreamReader(archive.GetEntry("manifest.json")!.Open());
        return reader.ReadToEnd();
    }

    private static long FindEntryData(string checkpoint, string entry)
    {
        // The local header: signature, fixed fields (30 bytes), name, extra; the entries are stored uncompressed.
        var bytes = File.ReadAllBytes(checkpoint);
        var name = System.Text.Encoding.ASCII.GetBytes(entry);
        for (var i = 0; i + 30 + name.Length < bytes.Length; i++)
        {
            if (bytes[i] == 'P' && bytes[i + 1] == 'K' && bytes[i + 2] == 3 && bytes[i + 3] == 4 && bytes.AsSpan(i + 30, name.Length).SequenceEqual(name))
            {
                var extra = BitConverter.ToUInt16(bytes, i + 28);
                return i + 30 + name.Length + extra;
            }
        }

        throw new InvalidOperationException($"No entry {entry}.");
    }

    private sealed class StopAfter(int epochs) : ITrainingCallback
    {
        public void OnEpochEnd(EpochSummary summary, TrainingControl control)
        {
            if (summary.Epoch == epochs)
            {
                control.Stop("first half done");
            }
        }
    }

    /// <summary>A user callback with state: epochs seen, the sum and the lowest of their losses.</summary>
    private sealed class LossTally : ITrainingCallback, IStatefulCallback
    {
        public int Epochs { get; private set; }

        public double LossSum { get; private set; }

        public double Lowest { get; private set; } = double.PositiveInfinity;

        public bool RefuseState { get; init; }

        public void OnTrainingBegin() => (Epochs, LossSum, Lowest) = (0, 0, double.PositiveInfinity);

        public void OnEpochEnd(EpochSummary summary, TrainingControl control)
        {
            Epochs++;
            LossSum += summary[Metric.Loss];
            Lowest = Math.Min(Lowest, summary[Metric.Loss]);
        }

        public IReadOnlyDictionary<string, double> SaveState() => new Dictionary<string, double> { ["epochs"] = Epochs, ["sum"] = LossSum, ["lowest"] = Lowest };

        public void RestoreState(IReadOnlyDictionary<string, double> state)
        {
            if (RefuseState)
            {
                throw new KeyNotFoundException("no 'epochs' in this version");
            }

            (Epochs, LossSum, Lowest) = ((int)state["epochs"], state["sum"], state["lowest"]);
        }
    }

    /// <summary>A callback whose state is given.</summary>
    private sealed class FixedState(Dictionary<string, double> state) : ITrainingCallback, IStatefulCallback
    {
        public void OnEpochEnd(EpochSummary summary, TrainingControl control)
        {
        }

        public IReadOnlyDictionary<string, double> SaveState() => state;

        public void RestoreState(IReadOnlyDictionary<string, double> saved)
        {
        }
    }

    /// <summary>Records the epochs at which a checkpoint to <c>path</c> was requested (it runs after <see cref="ModelCheckpoint"/>).</summary>
    private sealed class Spy(Action<EpochSummary> onWrite, string path) : ITrainingCallback
    {
        public void OnEpochEnd(EpochSummary summary, TrainingControl control)
        {
            if (control.Writes.Exists(w => w.Path == path && !w.ModelFileOnly))
            {
                onWrite(summary);
            }
        }
    }
}
