using System.Diagnostics;
using System.Globalization;
using LatentKit.Data;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentKit.Training;

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

    /// <summary>The device the network lives on.</summary>
    Device Device { get; }

    /// <summary>Moves the network to <paramref name="device"/>.</summary>
    void MoveTo(Device device);

    /// <summary>Puts the trainable part in training or evaluation mode (a frozen encoder always stays in evaluation mode).</summary>
    void SetTrainingMode(bool training);

    /// <summary>Turns the raw rows of a batch (as stored in <see cref="TrainingData.Inputs"/>) into the network's input.</summary>
    Tensor PrepareInputs(Tensor raw);

    /// <summary>
    /// The scalar loss of a batch (mean over its samples). <paramref name="noise"/> is the training run's own seeded
    /// generator for any sampling (the VAE's reparameterisation); <see langword="null"/> when evaluating.
    /// </summary>
    Tensor ComputeLoss(Tensor inputs, Tensor? targets, Generator? noise);
}

/// <summary>Training data as tensors on the CPU: raw inputs (for images, one uint8 row of 784 pixels per image) and optional targets.</summary>
internal sealed class TrainingData : IDisposable
{
    public TrainingData(Tensor inputs, Tensor? targets)
    {
        Inputs = inputs;
        Targets = targets;
        Count = checked((int)inputs.shape[0]);
    }

    public Tensor Inputs { get; }

    public Tensor? Targets { get; }

    public int Count { get; }

    /// <summary>The dataset's pixels as one uint8 tensor N x 784 (converted to float per batch, natively) and, if asked, its labels as int64.</summary>
    public static TrainingData FromImages(MnistDataset dataset, bool withLabels)
    {
        var pixels = torch.tensor(dataset.Pixels.ToArray(), [dataset.Count, MnistDataset.PixelsPerImage], ScalarType.Byte);
        return new TrainingData(pixels, withLabels ? dataset.LabelsToTensor() : null);
    }

    public void Dispose()
    {
        Inputs.Dispose();
        Targets?.Dispose();
    }
}

/// <summary>
/// The one training loop of LatentKit, used by every autoencoder and by the latent classifier: seeding, threads,
/// optimizer, shuffled batches with a dispose scope each, progress, logging, validation, early stopping,
/// cancellation and divergence detection.
/// </summary>
internal static class Trainer
{
    private const int EvaluationBatchSize = 1000;

    /// <summary>
    /// Trains <paramref name="model"/>. On a NaN or infinite batch loss the weights are restored to the snapshot taken
    /// at the start of the epoch (the last weights that gave finite losses over a whole epoch, or the starting weights)
    /// and a <see cref="TrainingDivergedException"/> is thrown. One snapshot per epoch costs one copy of the weights,
    /// far less than a copy per step, and the weights are never left half-updated by a step with a non-finite loss,
    /// because the loss is checked before <c>backward</c>.
    /// </summary>
    public static TrainingHistory Train(
        ITrainable model,
        TrainingData training,
        TrainingData? validation,
        TrainingOptions options,
        IProgress<TrainingProgress>? progress,
        ILogger? logger,
        CancellationToken cancellationToken)
    {
        options.Validate();
        if (training.Count == 0)
        {
            throw new ArgumentException($"Cannot train {model.DisplayName} on an empty dataset.", nameof(training));
        }

        var previousThreads = options.Threads is null ? (int?)null : torch.get_num_threads();
        if (options.Threads is { } threads)
        {
            torch.set_num_threads(threads);
        }

        if (options.Device is { } device)
        {
            model.MoveTo(device);
        }

        var epochs = new List<EpochResult>();
        Dictionary<string, Tensor>? best = null;
        Dictionary<string, Tensor>? epochStart = null;
        double bestLoss = double.PositiveInfinity;
        int? bestEpoch = null;
        var epochsWithoutImprovement = 0;
        var stoppedEarly = false;
        var cancelled = false;

        // The run's own generators: batch order (managed) and sampling noise (native), both from the seed and
        // independent of TorchSharp's global generator, which other threads may use.
        using var noise = new Generator((ulong)options.Seed, model.Device);
        var shuffleRandom = new Random(options.Seed);
        var batchSize = Math.Min(options.BatchSize, training.Count);
        var totalBatches = (training.Count + batchSize - 1) / batchSize;
        var groups = model.OptimizerGroups;
        var baseRates = groups.Select(g => g.LearningRate ?? options.LearningRate).ToArray();
        var optimizers = groups.Select((g, i) => CreateOptimizer(g.Parameters, options, baseRates[i])).ToArray();

        try
        {
            for (var epoch = 1; epoch <= options.Epochs && !cancelled; epoch++)
            {
                DisposeAll(epochStart);
                epochStart = Snapshot(model.Network);

                var epochWatch = Stopwatch.StartNew();
                TimeSpan? lastReport = null;
                double lossSum = 0;
                var seen = 0;
                var batchesDone = 0;
                model.SetTrainingMode(true);

                var order = MnistDataset.ShuffledIndices(training.Count, shuffleRandom.Next());
                using var permutation = torch.tensor(Array.ConvertAll(order, i => (long)i));
                for (var batch = 0; batch < totalBatches; batch++)
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        cancelled = true;
                        break;
                    }

                    var start = batch * batchSize;
                    var count = Math.Min(batchSize, training.Count - start);
                    float batchLoss;
                    using (var scope = torch.NewDisposeScope())
                    {
                        var indices = permutation.narrow(0, start, count);
                        var inputs = model.PrepareInputs(training.Inputs.index_select(0, indices));
                        var targets = training.Targets?.index_select(0, indices).to(model.Device);
                        if (options.LearningRateSchedule != LearningRateSchedule.None)
                        {
                            var factor = options.LearningRateFactor(epoch, batch, totalBatches);
                            for (var i = 0; i < optimizers.Length; i++)
                            {
                                foreach (var group in optimizers[i].ParamGroups)
                                {
                                    group.LearningRate = baseRates[i] * factor;
                                }
                            }
                        }

                        foreach (var optimizer in optimizers)
                        {
                            optimizer.zero_grad();
                        }

                        var loss = model.ComputeLoss(inputs, targets, noise);
                        batchLoss = loss.item<float>();
                        if (!float.IsFinite(batchLoss))
                        {
                            Restore(model.Network, epochStart);
                            throw new TrainingDivergedException(
                                epoch,
                                batch + 1,
                                batchLoss,
                                $"Training {model.DisplayName} diverged: the loss of epoch {epoch}, batch {batch + 1} of {totalBatches} is {batchLoss.ToString(CultureInfo.InvariantCulture)}. " +
                                $"The weights were restored to those at the start of epoch {epoch}. Try a lower learning rate (it was {options.LearningRate.ToString(CultureInfo.InvariantCulture)}).");
                        }

                        loss.backward();
                        foreach (var optimizer in optimizers)
                        {
                            optimizer.step();
                        }
                    }

                    lossSum += (double)batchLoss * count;
                    seen += count;
                    batchesDone++;
                    if (progress is not null)
                    {
                        var elapsed = epochWatch.Elapsed;
                        if (lastReport is null || batchesDone == totalBatches || elapsed - lastReport.Value >= options.ProgressInterval)
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

                double? validationLoss = null;
                if (validation is not null && !cancelled)
                {
                    validationLoss = Evaluate(model, validation);
                    if (validationLoss < bestLoss)
                    {
                        bestLoss = validationLoss.Value;
                        bestEpoch = epoch;
                        epochsWithoutImprovement = 0;
                        if (options.EarlyStoppingPatience is not null)
                        {
                            DisposeAll(best);
                            best = Snapshot(model.Network);
                        }
                    }
                    else
                    {
                        epochsWithoutImprovement++;
                    }
                }

                var result = new EpochResult(epoch, lossSum / seen, validationLoss, epochWatch.Elapsed, seen / Math.Max(trainingTime.TotalSeconds, 1e-9), Completed: !cancelled);
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

                if (options.EarlyStoppingPatience is { } patience && epochsWithoutImprovement >= patience && epoch < options.Epochs)
                {
                    stoppedEarly = true;
                    logger?.LogInformation("{Model}: early stopping after epoch {Epoch}, keeping the weights of epoch {BestEpoch}", model.DisplayName, epoch, bestEpoch);
                    break;
                }
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

        return new TrainingHistory(epochs, bestEpoch, stoppedEarly, cancelled);
    }

    /// <summary>Mean loss of <paramref name="model"/> on <paramref name="data"/> in evaluation mode, without gradients.</summary>
    public static double Evaluate(ITrainable model, TrainingData data)
    {
        model.SetTrainingMode(false);
        using var noGrad = torch.no_grad();
        double sum = 0;
        for (var start = 0; start < data.Count; start += EvaluationBatchSize)
        {
            var count = Math.Min(EvaluationBatchSize, data.Count - start);
            using var scope = torch.NewDisposeScope();
            var inputs = model.PrepareInputs(data.Inputs.narrow(0, start, count));
            var targets = data.Targets?.narrow(0, start, count).to(model.Device);
            sum += model.ComputeLoss(inputs, targets, noise: null).item<float>() * (double)count;
        }

        return sum / data.Count;
    }

    private static optim.Optimizer CreateOptimizer(IEnumerable<TorchSharp.Modules.Parameter> parameters, TrainingOptions options, double learningRate) => options.Optimizer switch
    {
        OptimizerKind.Adam => optim.Adam(parameters, learningRate, weight_decay: options.WeightDecay),
        OptimizerKind.AdamW => optim.AdamW(parameters, learningRate, weight_decay: options.WeightDecay),
        OptimizerKind.Sgd => optim.SGD(parameters, learningRate, momentum: options.Momentum, weight_decay: options.WeightDecay),
        OptimizerKind.RmsProp => optim.RMSProp(parameters, learningRate, weight_decay: options.WeightDecay, momentum: options.Momentum),
        _ => throw new ArgumentOutOfRangeException(nameof(options), options.Optimizer, "Unknown optimizer."),
    };

    /// <summary>A detached copy of every parameter and buffer of <paramref name="network"/>.</summary>
    internal static Dictionary<string, Tensor> Snapshot(nn.Module network)
    {
        using var noGrad = torch.no_grad();
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
