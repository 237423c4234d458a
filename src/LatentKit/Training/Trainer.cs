using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentKit;

/// <summary>A model the <see cref="Trainer"/> can train: its network, how a raw batch becomes input, and its loss.</summary>
internal interface ITrainable
{
    /// <summary>A name for logs and messages.</summary>
    string DisplayName { get; }

    /// <summary>The module whose parameters are trained and whose state is snapshotted and restored.</summary>
    nn.Module Network { get; }

    /// <summary>The parameters the optimizer updates (a classifier's head only; its encoder stays frozen).</summary>
    IEnumerable<TorchSharp.Modules.Parameter> TrainableParameters { get; }

    /// <summary>
    /// The parameters in optimizer groups, each with its own base learning rate (<see langword="null"/>: the options'
    /// learning rate). By default one group of <see cref="TrainableParameters"/>; a fine-tuned classifier gives its
    /// encoder a group with the encoder's learning rate. Every group gets the same optimizer kind and schedule.
    /// </summary>
    IReadOnlyList<(IEnumerable<TorchSharp.Modules.Parameter> Parameters, double? LearningRate)> OptimizerGroups => [(TrainableParameters, null)];

    /// <summary>
    /// Whether the network may draw from TorchSharp's global generator while training: a custom network's own random
    /// layers (a TorchSharp <c>nn.Dropout</c>) do; LatentKit's own layers never do. A checkpoint of such a model holds
    /// the global generator's state, and resuming restores it, so that the resumed epochs draw what the uninterrupted
    /// run drew.
    /// </summary>
    bool DrawsFromGlobalGenerator => false;

    /// <summary>The device the network lives on.</summary>
    Device Device { get; }

    /// <summary>
    /// The fewest samples a training batch may hold: 2 for a network with batch normalisation (whose batch variance
    /// needs two samples: one gives NaN running statistics), otherwise 1.
    /// </summary>
    int MinimumBatchSize => 1;

    /// <summary>Moves the network to <paramref name="device"/>.</summary>
    void MoveTo(Device device);

    /// <summary>Puts the trainable part in training or evaluation mode (a frozen encoder always stays in evaluation mode).</summary>
    void SetTrainingMode(bool training);

    /// <summary>Turns the raw rows of a batch (as stored in <see cref="TrainingData.Inputs"/>) into the network's input.</summary>
    Tensor PrepareInputs(Tensor raw);

    /// <summary>
    /// The scalar loss of a batch (mean over its samples). <paramref name="noise"/> is the training run's own seeded
    /// generator for every random draw of training (the VAE's reparameterisation, denoising corruption, dropout
    /// masks); <see langword="null"/> when evaluating. Nothing here may draw from TorchSharp's global generator.
    /// </summary>
    Tensor ComputeLoss(Tensor inputs, Tensor? targets, Generator? noise);

    /// <summary>
    /// The figures (names from <see cref="Metric"/>, without the <c>val_</c> prefix) this model adds up when evaluating
    /// in <see cref="ComputeLoss(Tensor, Tensor?, Generator?, Tensor?)"/>: reported on validation data; none by default.
    /// </summary>
    IReadOnlyList<string> FigureNames => [];

    /// <summary>
    /// The figures this model adds up on training batches: only those that cost no extra pass over a batch's outputs
    /// (the terms of the loss, a classifier's argmax), a subset of <see cref="FigureNames"/>; none by default.
    /// </summary>
    IReadOnlyList<string> TrainingFigureNames => [];

    /// <summary>
    /// <see cref="ComputeLoss(Tensor, Tensor?, Generator?)"/>, and when <paramref name="figureSums"/> is given, adds to
    /// it (a float64 vector on the model's device, one value per <see cref="FigureNames"/> when evaluating, that is
    /// when <paramref name="noise"/> is <see langword="null"/>, and per <see cref="TrainingFigureNames"/> when
    /// training) the batch's sums over its samples of each figure, without a read back to the CPU.
    /// </summary>
    Tensor ComputeLoss(Tensor inputs, Tensor? targets, Generator? noise, Tensor? figureSums) => ComputeLoss(inputs, targets, noise);
}

/// <summary>
/// The one training loop of LatentKit, used by every autoencoder and by the latent classifier: seeding, threads,
/// optimizer, shuffled batches with a dispose scope each, progress, logging, validation, early stopping,
/// cancellation and divergence detection.
/// </summary>
internal static class Trainer
{
    /// <summary>
    /// Samples per batch when evaluating and encoding without gradients: the validation pass, and the default of
    /// <c>Evaluate</c> and <c>EncodeDataset</c>. Measured on MNIST (2 threads): batches of 256 evaluate the
    /// convolutional preset's 10,000 test images as fast as batches of 1,000 (0.53 s against 0.57 s) with 134 MiB less
    /// peak memory (the activations of a batch, which the native allocator keeps once touched).
    /// </summary>
    internal const int EvaluationBatchSize = 256;

    /// <summary>Training samples whose loss is computed in evaluation mode after each epoch, to check the model's outputs are finite.</summary>
    private const int OutputProbeSize = 256;

    /// <summary>
    /// Trains <paramref name="model"/>. Batches hold <see cref="TrainingOptions.BatchSize"/> samples; a last batch of
    /// one sample is merged into the batch before (so the last batch may hold one sample more).
    /// <para>
    /// The divergence guard never returns or restores non-finite weights, nor weights whose outputs are not finite.
    /// The loss of every batch is checked before <c>backward</c>. After each epoch's last step (a cancelled epoch's
    /// included) the weights are checked (parameters and buffers, such as batch norm's running statistics), then the
    /// loss of the first <see cref="OutputProbeSize"/> training samples in evaluation mode (the model's outputs), then
    /// the validation loss. When any is NaN or infinite the weights are restored to the snapshot taken at the start of
    /// the epoch (weights that passed these checks, or the starting weights) and a
    /// <see cref="TrainingDivergedException"/> is thrown. One snapshot, one pass over the weights and one small
    /// forward pass per epoch cost far less than checks at every step.
    /// </para>
    /// <para>
    /// Each epoch's figures: training loss, the model's training figures (<see cref="ITrainable.TrainingFigureNames"/>:
    /// the terms of an autoencoder's loss, a classifier's accuracy) summed on the device from values each batch
    /// computes anyway and read back once per epoch, and with validation data the validation loss and every figure
    /// (<see cref="ITrainable.FigureNames"/>) from the one validation pass. They go to the history
    /// (<see cref="EpochResult.Metrics"/>) and, in an <see cref="EpochSummary"/>, to the run's callbacks. A callback may stop
    /// training, scale the learning rate from the next epoch, or remember weights that are restored at the end.
    /// Cancellation throws <see cref="TrainingCanceledException"/> with the epochs run so far.
    /// </para>
    /// </summary>
    public static TrainingHistory Train(
        ITrainable model,
        TrainingData training,
        TrainingData? validation,
        TrainingOptions options,
        TrainingRun run,
        CancellationToken cancellationToken)
    {
        ValidateSettings(options, run);
        var progress = run.Progress;
        var logger = run.Logger;
        ThrowIfEmpty(training.Count, "train", model.DisplayName, nameof(training));

        if (model.MinimumBatchSize is var minimum && minimum > 1)
        {
            if (options.BatchSize < minimum)
            {
                throw new ArgumentException(
                    $"TrainingOptions.BatchSize = {options.BatchSize} is too small for {model.DisplayName}: batch norm needs at least {minimum} samples per training batch.",
                    nameof(TrainingOptions.BatchSize));
            }

            if (training.Count < minimum)
            {
                throw new ArgumentException(
                    $"Cannot train {model.DisplayName} on {training.Count} training sample{(training.Count == 1 ? string.Empty : "s")}: batch norm needs at least {minimum} samples per training batch.",
                    nameof(training));
            }
        }

        CheckMonitoredMetrics(model, run, validation is not null);

        if (FirstNonFinite(model.Network) is { } broken)
        {
            throw new ArgumentException($"{model.DisplayName} holds a non-finite weight ({Format(broken)}) before training; build or load it again.", nameof(model));
        }

        var previousThreads = run.Threads is null ? (int?)null : torch.get_num_threads();
        if (run.Threads is { } threads)
        {
            torch.set_num_threads(threads);
        }

        if (run.Device is { } device)
        {
            model.MoveTo(device);
        }

        var epochs = new List<EpochResult>();
        Dictionary<string, Tensor>? best = null;
        Dictionary<string, Tensor>? epochStart = null;
        double bestLoss = double.PositiveInfinity;
        int? bestEpoch = null;
        // The epoch whose weights a callback kept (TrainingControl.RememberWeights), restored at the end.
        int? bestWeightsEpoch = null;
        var currentEpoch = 0;
        var cancelled = false;
        var control = new TrainingControl(() =>
        {
            DisposeAll(best);
            best = Snapshot(model.Network);
            bestWeightsEpoch = currentEpoch;
        });
        var appliedFactor = 1.0;

        // The run's own generators: batch order (managed) and sampling noise (native), both from the seed and
        // independent of TorchSharp's global generator, which other threads may use.
        using var noise = new Generator((ulong)options.Seed, model.Device);
        var shuffleRandom = new Random(options.Seed);
        var batchSize = Math.Min(options.BatchSize, training.Count);
        var totalBatches = (training.Count + batchSize - 1) / batchSize;
        if (totalBatches > 1 && training.Count % batchSize == 1)
        {
            // A last batch of one sample joins the batch before: batch norm cannot normalise one sample (NaN running
            // variance), and a one-sample step is the noisiest of the epoch.
            totalBatches--;
        }
        // Every epoch's figures go to the history (EpochResult.Metrics) and to the callbacks: the training figures are
        // the loss's own terms, added up on the device (no extra pass, one read per epoch).
        var figureNames = model.TrainingFigureNames;
        var validationFigureNames = model.FigureNames;
        var groups = model.OptimizerGroups;
        var baseRates = groups.Select(g => g.LearningRate ?? options.LearningRate).ToArray();
        var optimizers = groups.Select((g, i) => TrainingOptimizer.Create(options.Optimizer, g.Parameters, baseRates[i], options.WeightDecay, options.Momentum)).ToArray();

        try
        {
            foreach (var callback in run.Callbacks)
            {
                callback.OnTrainingBegin();
            }

            var firstEpoch = 1;
            if (run.ResumeFrom is { } resumePath)
            {
                // The batch order replays one Next() per finished epoch; the noise generator's state, the weights, the
                // optimizers' state and step counts, the callbacks' state and the learning-rate factor are restored.
                var resumed = CheckpointFile.Read(resumePath, model, options, training.Count, validation?.Count ?? 0, optimizers, noise, run.Callbacks);
                firstEpoch = resumed.Epoch + 1;
                for (var i = 0; i < resumed.Epoch; i++)
                {
                    _ = shuffleRandom.Next();
                }

                epochs.AddRange(resumed.History);
                bestLoss = resumed.BestValidationLoss;
                bestEpoch = resumed.BestValidationEpoch;
                appliedFactor = resumed.LearningRateFactor;
                control.LearningRateFactor = appliedFactor;
                best = resumed.BestWeights;
                bestWeightsEpoch = resumed.BestWeightsEpoch;
            }

            for (var epoch = firstEpoch; epoch <= options.Epochs && !cancelled; epoch++)
            {
                currentEpoch = epoch;
                DisposeAll(epochStart);
                epochStart = Snapshot(model.Network);

                var epochWatch = Stopwatch.StartNew();
                TimeSpan? lastReport = null;
                double lossSum = 0;
                var seen = 0;
                using var figureSums = figureNames.Count > 0 ? torch.zeros(figureNames.Count, dtype: ScalarType.Float64, device: model.Device) : null;
                var batchesDone = 0;
                model.SetTrainingMode(true);

                var order = MnistDataset.ShuffledIndices(training.Count, shuffleRandom.Next());
                using var permutation = NativeTensors.Indices(order);
                for (var batch = 0; batch < totalBatches; batch++)
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        cancelled = true;
                        break;
                    }

                    var start = batch * batchSize;
                    var count = batch == totalBatches - 1 ? training.Count - start : batchSize;
                    float batchLoss;
                    using (var scope = torch.NewDisposeScope())
                    {
                        var indices = permutation.narrow(0, start, count);
                        var (raw, targets) = training.ReadBatch(indices, model.Device);
                        var inputs = model.PrepareInputs(raw);
                        if (options.LearningRateSchedule != LearningRateSchedule.None || appliedFactor != 1.0)
                        {
                            var factor = options.LearningRateFactor(epoch, batch, totalBatches) * appliedFactor;
                            for (var i = 0; i < optimizers.Length; i++)
                            {
                                optimizers[i].LearningRate = baseRates[i] * factor;
                            }
                        }

                        foreach (var optimizer in optimizers)
                        {
                            optimizer.ZeroGrad();
                        }

                        var loss = model.ComputeLoss(inputs, targets, noise, figureSums);
                        batchLoss = loss.item<float>();
                        if (!float.IsFinite(batchLoss))
                        {
                            throw Diverged(model, epochStart, options, DivergenceKind.TrainingLoss, epoch, batch + 1, batchLoss, $"the loss of epoch {epoch}, batch {batch + 1} of {totalBatches} is {Format(batchLoss)}");
                        }

                        loss.backward();
                        foreach (var optimizer in optimizers)
                        {
                            optimizer.Step();
                        }
                    }

                    lossSum += (double)batchLoss * count;
                    seen += count;
                    batchesDone++;
                    if (progress is not null)
                    {
                        var elapsed = epochWatch.Elapsed;
                        if (lastReport is null || batchesDone == totalBatches || elapsed - lastReport.Value >= run.ProgressInterval)
                        {
                            lastReport = elapsed;
                            progress.Report(new TrainingProgress(epoch, options.Epochs, batchesDone, totalBatches, lossSum / seen, seen / Math.Max(elapsed.TotalSeconds, 1e-9)));
                        }
                    }
                }

                var trainingTime = epochWatch.Elapsed;
                if (seen == 0)
                {
                    break;
                }

                if (FirstNonFinite(model.Network) is { } weight)
                {
                    throw Diverged(model, epochStart, options, DivergenceKind.Weights, epoch, batchesDone, weight, $"the weights are not finite (one is {Format(weight)}) after batch {batchesDone} of {totalBatches} of epoch {epoch}, although every batch loss was finite: a step overflowed");
                }

                var probe = Evaluate(model, training, OutputProbeSize);
                if (!double.IsFinite(probe))
                {
                    throw Diverged(model, epochStart, options, DivergenceKind.Outputs, epoch, batchesDone, probe, $"after batch {batchesDone} of {totalBatches} of epoch {epoch} the model's loss on its first {Math.Min(OutputProbeSize, training.Count)} training samples in evaluation mode is {Format(probe)}: its outputs are not finite (a step made the weights too large)");
                }

                double? validationLoss = null;
                double[]? validationFigures = null;
                if (validation is not null && !cancelled)
                {
                    (validationLoss, validationFigures) = EvaluateWithFigures(model, validation);
                    if (!double.IsFinite(validationLoss.Value))
                    {
                        throw Diverged(model, epochStart, options, DivergenceKind.ValidationLoss, epoch, batchesDone, validationLoss.Value, $"the validation loss after epoch {epoch} is {Format(validationLoss.Value)}");
                    }

                    if (validationLoss < bestLoss)
                    {
                        bestLoss = validationLoss.Value;
                        bestEpoch = epoch;
                    }
                }

                var metrics = new Dictionary<string, double> { [Metric.Loss] = lossSum / seen };
                AddFigures(metrics, figureNames, figureSums, seen);
                if (validationLoss is { } v)
                {
                    metrics[Metric.ValidationLoss] = v;
                    for (var i = 0; i < validationFigures!.Length; i++)
                    {
                        metrics[Metric.ValidationPrefix + validationFigureNames[i]] = validationFigures[i];
                    }
                }

                var result = new EpochResult(epoch, lossSum / seen, validationLoss, epochWatch.Elapsed, seen / Math.Max(trainingTime.TotalSeconds, 1e-9), Completed: !cancelled) { Metrics = metrics };
                epochs.Add(result);
                logger?.LogInformation(
                    "{Model} epoch {Epoch}/{Epochs}: training loss {TrainingLoss:F5}, validation loss {ValidationLoss}, {Seconds:F1} s, {ImagesPerSecond:F0} images/s{Cancelled}",
                    model.DisplayName,
                    epoch,
                    options.Epochs,
                    result.TrainingLoss,
                    validationLoss?.ToString("F5", CultureInfo.InvariantCulture) ?? "n/a",
                    result.Duration.TotalSeconds,
                    result.ImagesPerSecond,
                    cancelled ? " (cancelled)" : string.Empty);

                if (cancelled || run.Callbacks.Count == 0)
                {
                    continue;
                }

                var summary = new EpochSummary(epoch, options.Epochs, metrics, appliedFactor, result.Duration, result.ImagesPerSecond);
                foreach (var callback in run.Callbacks)
                {
                    callback.OnEpochEnd(summary, control);
                }

                appliedFactor = control.LearningRateFactor;
                foreach (var (path, modelFileOnly, replaces) in control.Writes)
                {
                    try
                    {
                        if (modelFileOnly)
                        {
                            ModelFile.WriteAtomically(path, stream => stream.Write(ModelFile.ToBytes(model)));
                        }
                        else
                        {
                            CheckpointFile.Write(path, model, options, epoch, appliedFactor, epochs, bestLoss, bestEpoch, optimizers, noise, run.Callbacks, best, bestWeightsEpoch, training.Count, validation?.Count ?? 0);
                            if (replaces is not null && File.Exists(replaces))
                            {
                                File.Delete(replaces);
                            }
                        }
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
                    {
                        throw new CheckpointException(
                            path,
                            CheckpointError.CannotWrite,
                            $"Cannot write the {(modelFileOnly ? "best model file" : "checkpoint")} '{path}' after epoch {epoch}: {e.Message} Training stopped; give ModelCheckpoint a file path in a folder that can be written.",
                            e);
                    }
                }

                control.Writes.Clear();
                if (control.StopRequested)
                {
                    if (epoch < options.Epochs)
                    {
                        logger?.LogInformation("{Model}: stopped after epoch {Epoch}: {Reason}", model.DisplayName, epoch, control.StopReason);
                    }

                    break;
                }
            }

            if (cancelled)
            {
                throw new TrainingCanceledException(
                    new TrainingHistory(epochs, bestEpoch, stopReason: null),
                    $"Training {model.DisplayName} was cancelled after {epochs.Count(e => e.Completed)} of {options.Epochs} epochs; the exception's History holds the epochs run so far.",
                    cancellationToken);
            }

            if (best is not null)
            {
                Restore(model.Network, best);
            }
        }
        finally
        {
            model.SetTrainingMode(false);
            foreach (var optimizer in optimizers)
            {
                optimizer.Dispose();
            }

            DisposeAll(best);
            DisposeAll(epochStart);
            if (previousThreads is { } previous)
            {
                torch.set_num_threads(previous);
            }
        }

        var stopped = control.StopRequested && epochs.Count < options.Epochs ? control.StopReason : null;
        // The model ends with the kept weights when a callback kept some: their epoch is the best one it holds.
        return new TrainingHistory(epochs, bestWeightsEpoch ?? bestEpoch, stopped);
    }

    /// <summary>
    /// The one rule for work that needs samples (training, and every figure over a dataset such as Evaluate's means):
    /// an empty dataset is refused rather than giving NaN.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="count"/> is 0.</exception>
    internal static void ThrowIfEmpty(int count, string action, string modelName, string parameterName)
    {
        if (count == 0)
        {
            throw new ArgumentException($"Cannot {action} {modelName} on an empty dataset; give at least one sample.", parameterName);
        }
    }

    /// <summary>Checks the options and the run together: one <see cref="LatentKitValidationException"/> lists every invalid setting of both.</summary>
    public static void ValidateSettings(TrainingOptions options, TrainingRun run)
    {
        var errors = new ValidationErrors();
        errors.AddFrom(options.Validate);
        errors.AddFrom(run.Validate);
        errors.ThrowIfAny();
    }

    /// <summary>
    /// Refuses, before training, a built-in callback that monitors a metric this run will not have (such as
    /// <see cref="Metric.ValidationLoss"/> without validation data), instead of failing after the first epoch.
    /// </summary>
    private static void CheckMonitoredMetrics(ITrainable model, TrainingRun run, bool hasValidation)
    {
        string[] available = hasValidation
            ? [Metric.Loss, .. model.TrainingFigureNames, Metric.ValidationLoss, .. model.FigureNames.Select(f => Metric.ValidationPrefix + f)]
            : [Metric.Loss, .. model.TrainingFigureNames];
        foreach (var callback in run.Callbacks)
        {
            var (name, monitor) = callback switch
            {
                EarlyStopping e => (nameof(EarlyStopping), e.Monitor),
                ModelCheckpoint c when c.BestOnly || c.BestModelPath is not null => (nameof(ModelCheckpoint), c.Monitor),
                ReduceLearningRateOnPlateau r => (nameof(ReduceLearningRateOnPlateau), r.Monitor),
                _ => (null, null),
            };
            if (monitor is not null && !available.Contains(monitor))
            {
                throw new LatentKitValidationException([new ValidationError(
                    nameof(TrainingRun.Callbacks),
                    monitor,
                    $"TrainingRun.Callbacks: {name} monitors '{monitor}', but this run has: {string.Join(", ", available)}. For '{Metric.ValidationLoss}' and the other '{Metric.ValidationPrefix}' figures set TrainingOptions.ValidationFraction or TrainingRun.ValidationSet.")]);
            }
        }
    }

    /// <summary>Mean loss of <paramref name="model"/> on <paramref name="data"/> (its first <paramref name="limit"/> samples) in evaluation mode, without gradients.</summary>
    public static double Evaluate(ITrainable model, TrainingData data, int limit = int.MaxValue) => Evaluate(model, data, limit, figureSums: null);

    /// <summary>
    /// Mean loss and the model's <see cref="ITrainable.FigureNames"/> figures (means over the samples) on
    /// <paramref name="data"/> in evaluation mode: one pass, the figures read back once.
    /// </summary>
    private static (double Loss, double[] Figures) EvaluateWithFigures(ITrainable model, TrainingData data)
    {
        var names = model.FigureNames;
        if (names.Count == 0)
        {
            return (Evaluate(model, data), []);
        }

        using var figureSums = torch.zeros(names.Count, dtype: ScalarType.Float64, device: model.Device);
        var loss = Evaluate(model, data, int.MaxValue, figureSums);
        return (loss, ReadMeans(figureSums, data.Count));
    }

    private static double Evaluate(ITrainable model, TrainingData data, int limit, Tensor? figureSums)
    {
        model.SetTrainingMode(false);
        using var noGrad = torch.no_grad();
        var total = Math.Min(limit, data.Count);
        double sum = 0;
        for (var start = 0; start < total; start += EvaluationBatchSize)
        {
            var count = Math.Min(EvaluationBatchSize, total - start);
            using var scope = torch.NewDisposeScope();
            var (raw, targets) = data.ReadRange(start, count, model.Device);
            var inputs = model.PrepareInputs(raw);
            sum += model.ComputeLoss(inputs, targets, noise: null, figureSums).item<float>() * (double)count;
        }

        return sum / total;
    }

    /// <summary>The sums in <paramref name="figureSums"/> divided by <paramref name="samples"/>: one read back to the CPU.</summary>
    private static double[] ReadMeans(Tensor figureSums, int samples)
    {
        using var scope = torch.NewDisposeScope();
        var sums = figureSums.cpu().data<double>().ToArray();
        return Array.ConvertAll(sums, s => s / samples);
    }

    /// <summary>Adds the training figures (<paramref name="figureSums"/> over <paramref name="samples"/> samples) to <paramref name="metrics"/>.</summary>
    private static void AddFigures(Dictionary<string, double> metrics, IReadOnlyList<string> names, Tensor? figureSums, int samples)
    {
        if (figureSums is null)
        {
            return;
        }

        var means = ReadMeans(figureSums, samples);
        for (var i = 0; i < names.Count; i++)
        {
            metrics[names[i]] = means[i];
        }
    }

    /// <summary>
    /// Restores <paramref name="snapshot"/> (weights known to be finite) and makes the exception to throw: what was
    /// not finite, where, that the weights were restored, and what to try.
    /// </summary>
    private static TrainingDivergedException Diverged(ITrainable model, Dictionary<string, Tensor>? snapshot, TrainingOptions options, DivergenceKind kind, int epoch, int batch, double value, string what)
    {
        Restore(model.Network, snapshot!);
        return new TrainingDivergedException(
            epoch,
            batch,
            value,
            kind,
            $"Training {model.DisplayName} diverged: {what}. The weights were restored to those at the start of epoch {epoch}. Try a lower learning rate (it was {Format(options.LearningRate)}).");
    }

    /// <summary>
    /// The first NaN or infinite value among the floating-point parameters and buffers of <paramref name="network"/>,
    /// or <see langword="null"/> when all are finite. One pass over the weights.
    /// </summary>
    internal static double? FirstNonFinite(nn.Module network)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        foreach (var (_, tensor) in network.state_dict())
        {
            if (tensor.is_floating_point() && !tensor.isfinite().all().item<bool>())
            {
                return tensor.masked_select(tensor.isfinite().logical_not()).cpu().to(ScalarType.Float64)[0].item<double>();
            }
        }

        return null;
    }

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// A detached copy of every parameter and buffer of <paramref name="network"/>. The intermediate <c>detach()</c>
    /// tensors are held by a dispose scope: unreferenced, another thread's garbage collection could finalize one while
    /// <c>clone</c> reads it (a crash in native code).
    /// </summary>
    internal static Dictionary<string, Tensor> Snapshot(nn.Module network)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var copy = new Dictionary<string, Tensor>();
        foreach (var (name, tensor) in network.state_dict())
        {
            copy[name] = tensor.detach().clone().DetachFromDisposeScope();
        }

        return copy;
    }

    /// <summary>Copies a <see cref="Snapshot"/> back into <paramref name="network"/>, in place.</summary>
    internal static void Restore(nn.Module network, Dictionary<string, Tensor> snapshot)
    {
        using var noGrad = torch.no_grad();
        foreach (var (name, tensor) in network.state_dict())
        {
            tensor.copy_(snapshot[name]);
        }
    }

    private static void DisposeAll(Dictionary<string, Tensor>? tensors)
    {
        if (tensors is null)
        {
            return;
        }

        foreach (var tensor in tensors.Values)
        {
            tensor.Dispose();
        }

        tensors.Clear();
    }
}
