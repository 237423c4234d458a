using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace LatentKit;

/// <summary>
/// What every autoencoder shares: shape checks, encode/decode plumbing, loss, evaluation, training and saving.
/// <para>
/// Threads: <see cref="Encode(Tensor)"/>, <see cref="Decode(Tensor)"/>, <see cref="Reconstruct(Tensor)"/>, <see cref="EncodeDataset"/>,
/// <see cref="Evaluate"/> and <see cref="Save"/> (and a VAE's <c>EncodeDistribution</c> and <c>Sample</c>) may be
/// called on one model from several threads at once: they take the model's lock, so they run one after another and give
/// the same results as on one thread. <see cref="Train"/> holds the lock for the whole run; any call on the same model
/// while it trains (from another thread or from a progress callback) throws an <see cref="InvalidOperationException"/>
/// at once instead of waiting, and a <see cref="Train"/> that finds an inference call running waits for it. Different
/// models are independent, except that <see cref="TrainingRun.Threads"/> sets TorchSharp's process-wide thread
/// count. <see cref="Dispose"/> must not run concurrently with any other call.
/// </para>
/// </summary>
public abstract partial class AutoencoderBase : IAutoencoder, ITrainable
{
    private const float ClampEpsilon = 1e-7f;

    // Long-lived Scalars (never implicit conversions: see Scalars).
    private static readonly Scalar ClampLow = Scalars.Of(ClampEpsilon);
    private static readonly Scalar ClampHigh = Scalars.Of(1 - ClampEpsilon);
    private bool disposed;

    private protected AutoencoderBase(AutoencoderSpec spec, TrainingOptions defaultTraining)
    {
        Spec = spec;
        DefaultTraining = defaultTraining;
        Guard = new ModelGuard(() => $"This {Kind} autoencoder (latent {LatentSize})");
        Standardizer = spec.StandardizerMean is { } mean && spec.StandardizerStd is { } std ? FeatureStandardizer.FromValues(mean, std) : null;
    }

    /// <inheritdoc />
    public int LatentSize => Spec.LatentSize;

    /// <inheritdoc />
    public abstract IReadOnlyList<long> InputShape { get; }

    /// <inheritdoc />
    public Device Device { get; private set; } = CPU;

    /// <inheritdoc />
    public TrainingOptions DefaultTraining { get; }

    /// <summary>
    /// The shape of one sample the model was built for: <c>[C, H, W]</c> for images, <c>[F]</c> for feature vectors
    /// (a dense model's <see cref="InputShape"/> is this shape flattened).
    /// </summary>
    public IReadOnlyList<int> SampleShape => Spec.InputShape;

    /// <summary>
    /// The standardizer applied to every input (training, evaluation, encoding, reconstruction) before the network;
    /// <see cref="Decode(Tensor)"/> and <see cref="Reconstruct(Tensor)"/> map the output back to the data's units. <see langword="null"/>
    /// when the model takes its inputs as they are. Saved with the model.
    /// </summary>
    public FeatureStandardizer? Standardizer { get; }

    /// <summary>Which kind of autoencoder this is.</summary>
    public AutoencoderKind Kind => Spec.Kind;

    /// <summary>Activation after each hidden layer of the encoder and the decoder.</summary>
    public Activation Activation => Spec.Activation;

    /// <summary>Activation of the code layer (Identity: a linear code).</summary>
    public Activation LatentActivation => Spec.LatentActivation;

    /// <summary>Activation of the decoder's last layer.</summary>
    public OutputActivation OutputActivation => Spec.OutputActivation;

    /// <summary>The loss the model trains with.</summary>
    public ReconstructionLoss Loss => Spec.Loss;

    /// <summary>Hidden widths (dense and variational, from the input side) or encoder channels (convolutional).</summary>
    public IReadOnlyList<int> Layers => Spec.Layers;

    /// <summary>
    /// Denoising: standard deviation of the Gaussian noise added to each training input pixel (the result clamped to
    /// [0, 1]); 0 when off. The loss compares the reconstruction with the clean image.
    /// </summary>
    public double DenoisingNoiseStd => Spec.DenoisingNoiseStd;

    /// <summary>Denoising: fraction of training input pixels set to 0 at random (masking noise); 0 when off.</summary>
    public double DenoisingMaskFraction => Spec.DenoisingMaskFraction;

    /// <summary>True when training corrupts the inputs (a denoising autoencoder).</summary>
    public bool IsDenoising => Spec.DenoisingNoiseStd > 0 || Spec.DenoisingMaskFraction > 0;

    internal AutoencoderSpec Spec { get; }

    /// <summary>The model's lock: inference calls serialise on it, training holds it and refuses other calls.</summary>
    internal ModelGuard Guard { get; }

    /// <summary>All weights, as one module (saved, loaded and snapshotted together).</summary>
    internal abstract nn.Module Network { get; }

    /// <summary>The encoder's layers (tests count them).</summary>
    internal abstract nn.Module<Tensor, Tensor> EncoderLayers { get; }

    /// <summary>The decoder's layers up to, not including, the output activation (tests count them).</summary>
    internal abstract nn.Module<Tensor, Tensor> DecoderLayers { get; }

    string ITrainable.DisplayName => $"{Kind} autoencoder (latent {LatentSize})";

    nn.Module ITrainable.Network => Network;

    IEnumerable<TorchSharp.Modules.Parameter> ITrainable.TrainableParameters => Network.parameters();

    /// <inheritdoc />
    public Tensor Encode(Tensor images)
    {
        ThrowIfDisposed();
        using var use = Guard.EnterUse();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Network.eval();
        var input = ToNetworkInput(images, nameof(images));
        return EncodeCore(input).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public Tensor Decode(Tensor codes)
    {
        ThrowIfDisposed();
        InputShapeRules.CheckUsable(codes, nameof(codes));
        if (codes.dim() != 2 || codes.shape[1] != LatentSize)
        {
            throw new ArgumentException($"Codes must be shaped N x {LatentSize}; got [{string.Join(", ", codes.shape)}].", nameof(codes));
        }

        InputShapeRules.CheckValues(codes, zeroToOne: false, nameof(codes));
        using var use = Guard.EnterUse();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Network.eval();
        var z = codes.to(ScalarType.Float32).to(Device);
        return ToDataUnits(ToPixels(DecodeLogitsCore(z))).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public Tensor Reconstruct(Tensor images)
    {
        ThrowIfDisposed();
        using var use = Guard.EnterUse();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Network.eval();
        var input = ToNetworkInput(images, nameof(images));
        return ToDataUnits(ToPixels(DecodeLogitsCore(EncodeCore(input)))).reshape(images.shape).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public Tensor EncodeDataset(Dataset dataset, int batchSize = Trainer.EvaluationBatchSize)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        CheckShape(dataset, nameof(dataset));
        using var use = Guard.EnterUse();
        using var data = dataset.OpenReader(withLabels: false);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Network.eval();
        // The codes go straight into one result tensor: no list of per-batch pieces to concatenate at the end, which
        // held every piece and the result at once and left the native heap fragmented between the batches.
        var codes = empty(data.Count, LatentSize);
        for (var start = 0; start < data.Count; start += batchSize)
        {
            // One scope per batch: the batch's inputs and outputs are freed at once.
            using var batchScope = NewDisposeScope();
            var count = Math.Min(batchSize, data.Count - start);
            codes.narrow(0, start, count).copy_(EncodeCore(PrepareInputs(data.ReadRange(start, count).Inputs)));
        }

        return codes.MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public TrainingHistory Train(Dataset training, TrainingOptions? options = null, TrainingRun? run = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(training);
        options ??= DefaultTraining;
        run ??= new TrainingRun();
        Trainer.ValidateSettings(options, run);
        CheckShape(training, nameof(training));
        CheckRange(training, nameof(training));
        if (run.ValidationSet is { } validationSet)
        {
            CheckShape(validationSet, nameof(TrainingRun.ValidationSet));
        }

        using var trainingScope = Guard.EnterTraining();
        using var split = TrainingSplit.Open(training, options, run, data => data.OpenReader(withLabels: false));
        return Trainer.Train(this, split.Training, split.Validation, options, run, cancellationToken);
    }

    /// <inheritdoc />
    public ReconstructionMetrics Evaluate(Dataset data, int batchSize = Trainer.EvaluationBatchSize)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        CheckShape(data, nameof(data));
        Trainer.ThrowIfEmpty(data.Count, "evaluate", ((ITrainable)this).DisplayName, nameof(data));
        using var use = Guard.EnterUse();
        using var tensors = data.OpenReader(withLabels: false);
        using var noGrad = no_grad();
        Network.eval();
        var bceMeaningful = Spec.OutputActivation == OutputActivation.Sigmoid && Standardizer is null && data.ValueRange == SampleRange.ZeroToOne;
        double bce = 0, mse = 0, kl = 0;
        for (var start = 0; start < tensors.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var count = Math.Min(batchSize, tensors.Count - start);
            var x = PrepareInputs(tensors.ReadRange(start, count).Inputs);
            var (logits, klSum) = EvaluateBatch(x);
            if (bceMeaningful)
            {
                bce += PixelBce(logits, x, Reduction.Sum).item<float>();
            }

            mse += F.mse_loss(ToPixels(logits), x, Reduction.Sum).item<float>();
            kl += klSum;
        }

        var pixels = (double)tensors.Count * data.SampleSize;
        return new ReconstructionMetrics(bceMeaningful ? bce / pixels : double.NaN, mse / pixels, this is IVariationalAutoencoder ? kl / tensors.Count : null, tensors.Count) { Loss = Spec.Loss };
    }

    /// <inheritdoc />
    public void Save(string path)
    {
        ThrowIfDisposed();
        using var use = Guard.EnterUse();
        ModelFile.SaveAutoencoder(this, path);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!disposed)
        {
            disposed = true;
            Guard.Release(Network.Dispose);
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Codes (<c>N x LatentSize</c>) of images already in the network's shape; the VAE returns the mean.</summary>
    internal abstract Tensor EncodeCore(Tensor input);

    /// <summary>The decoder's output before the output activation, in the network's image shape.</summary>
    internal abstract Tensor DecodeLogitsCore(Tensor codes);

    /// <summary>Decoder output before the output activation for evaluation, and the batch's summed KL term (0 for plain autoencoders).</summary>
    internal virtual (Tensor Logits, double KlSum) EvaluateBatch(Tensor input) => (DecodeLogitsCore(EncodeCore(input)), 0);

    /// <summary>The training loss of a batch: the mean per-pixel reconstruction loss; <paramref name="noise"/> is null when evaluating.</summary>
    internal Tensor ComputeLoss(Tensor inputs, Generator? noise) => ComputeLoss(inputs, noise, figureSums: null);

    /// <summary>
    /// The loss of a batch, and (when <paramref name="figureSums"/> is given) the batch's figures added to it: when
    /// evaluating (<paramref name="noise"/> null) those of <see cref="FigureNames"/> (see <see cref="AddFigures"/>),
    /// when training those of <see cref="TrainingFigureNames"/>, which are the loss itself (see
    /// <see cref="AddTrainingFigures"/>).
    /// </summary>
    internal virtual Tensor ComputeLoss(Tensor inputs, Generator? noise, Tensor? figureSums)
    {
        var logits = DecodeLogitsCore(EncodeCore(Corrupt(inputs, noise)));
        var loss = Spec.Loss == ReconstructionLoss.BinaryCrossEntropy
            ? PixelBce(logits, inputs, Reduction.Mean)
            : F.mse_loss(ToPixels(logits), inputs, Reduction.Mean);
        if (figureSums is not null)
        {
            if (noise is null)
            {
                AddFigures(figureSums, logits, inputs, klPerSample: null);
            }
            else
            {
                AddTrainingFigures(figureSums, [loss], inputs.shape[0]);
            }
        }

        return loss;
    }

    /// <summary>
    /// The figures of <see cref="Metric"/> this model reports on validation data: <see cref="Metric.BinaryCrossEntropy"/>
    /// when its loss is binary cross-entropy, <see cref="Metric.MeanSquaredError"/>, and <see cref="Metric.KlDivergence"/>
    /// for variational models.
    /// </summary>
    internal IReadOnlyList<string> FigureNames =>
    [
        .. Spec.Loss == ReconstructionLoss.BinaryCrossEntropy ? [Metric.BinaryCrossEntropy] : Array.Empty<string>(),
        Metric.MeanSquaredError,
        .. this is IVariationalAutoencoder ? [Metric.KlDivergence] : Array.Empty<string>(),
    ];

    /// <summary>
    /// The figures this model reports on its training batches: the terms its loss is made of, so that they cost no
    /// extra pass over the outputs: the reconstruction loss's own figure (<see cref="Metric.BinaryCrossEntropy"/> or
    /// <see cref="Metric.MeanSquaredError"/>, per value) and, for variational models, <see cref="Metric.KlDivergence"/>.
    /// </summary>
    internal IReadOnlyList<string> TrainingFigureNames =>
    [
        Spec.Loss == ReconstructionLoss.BinaryCrossEntropy ? Metric.BinaryCrossEntropy : Metric.MeanSquaredError,
        .. this is IVariationalAutoencoder ? [Metric.KlDivergence] : Array.Empty<string>(),
    ];

    /// <summary>
    /// Adds to <paramref name="figureSums"/> (float64, one value per <see cref="FigureNames"/>) the batch's sums over its
    /// samples of the per-value mean BCE and MSE of each sample and of its KL divergence, as
    /// <see cref="Evaluate(Dataset, int)"/> defines them; divided by the samples seen they are the figures. Computed
    /// from the detached outputs without gradients (one elementwise pass per part) and added on the device, so reading
    /// them costs nothing until the loop reads the sums once per validation pass.
    /// </summary>
    internal void AddFigures(Tensor figureSums, Tensor logits, Tensor inputs, Tensor? klPerSample)
    {
        using var noGrad = no_grad();
        var output = logits.detach();
        using var valuesPerSample = Scalars.Of((double)(inputs.numel() / inputs.shape[0]));
        var parts = new List<Tensor>(3);
        if (Spec.Loss == ReconstructionLoss.BinaryCrossEntropy)
        {
            parts.Add(PixelBce(output, inputs, Reduction.Sum).div(valuesPerSample));
        }

        parts.Add(F.mse_loss(ToPixels(output), inputs, Reduction.Sum).div(valuesPerSample));
        if (klPerSample is not null)
        {
            parts.Add(klPerSample.detach().sum());
        }

        figureSums.add_(stack(parts).to(ScalarType.Float64), Scalars.One);
    }

    /// <summary>
    /// Adds to <paramref name="figureSums"/> (float64, one value per <see cref="TrainingFigureNames"/>) the batch's
    /// <paramref name="means"/> (its per-sample means of the loss's terms, in that order) times its
    /// <paramref name="samples"/>: two operations on values the loss computed anyway, on the device, without a read
    /// back to the CPU.
    /// </summary>
    internal static void AddTrainingFigures(Tensor figureSums, Tensor[] means, long samples)
    {
        using var noGrad = no_grad();
        using var weight = Scalars.Of((double)samples);
        var terms = means.Length == 1 ? means[0].detach().reshape(1) : stack(Array.ConvertAll(means, m => m.detach()));
        figureSums.add_(terms, weight);
    }

    /// <summary>
    /// The encoder's input while training a denoising autoencoder: <paramref name="inputs"/> with masking and Gaussian
    /// noise drawn from the run's seeded generator <paramref name="noise"/>; the inputs unchanged when not training
    /// (<paramref name="noise"/> null) or when denoising is off.
    /// </summary>
    internal Tensor Corrupt(Tensor inputs, Generator? noise)
    {
        if (noise is null || !IsDenoising)
        {
            return inputs;
        }

        var corrupted = inputs;
        if (Spec.DenoisingMaskFraction > 0)
        {
            using var fraction = Scalars.Of(Spec.DenoisingMaskFraction);
            var keep = rand(inputs.shape, device: inputs.device, generator: noise).ge(fraction).to(inputs.dtype);
            corrupted = corrupted * keep;
        }

        if (Spec.DenoisingNoiseStd > 0)
        {
            using var std = Scalars.Of(Spec.DenoisingNoiseStd);
            corrupted = corrupted.add(randn(inputs.shape, device: inputs.device, generator: noise).mul_(std), Scalars.One);
            if (Standardizer is null)
            {
                // Pixels stay pixels; standardised values have no range to clamp to.
                corrupted = corrupted.clamp(Scalars.Zero, Scalars.One);
            }
        }

        return corrupted;
    }

    /// <summary>Binary cross-entropy of decoder output against pixels; from logits (numerically stable) when the output is a sigmoid.</summary>
    internal Tensor PixelBce(Tensor logits, Tensor target, Reduction reduction) => Spec.OutputActivation == OutputActivation.Sigmoid
        ? F.binary_cross_entropy_with_logits(logits, target, reduction: reduction)
        : F.binary_cross_entropy(logits.clamp(ClampLow, ClampHigh), target, reduction: reduction);

    /// <summary>Applies the output activation: the sigmoid (values in (0, 1)), or nothing for <see cref="OutputActivation.Identity"/>.</summary>
    internal Tensor ToPixels(Tensor logits) => Spec.OutputActivation == OutputActivation.Sigmoid ? logits.sigmoid() : logits.alias();

    /// <summary>The network's output in the data's units: the standardizer's inverse, or the output itself.</summary>
    internal Tensor ToDataUnits(Tensor output) => Standardizer is null ? output : Standardizer.Inverse(output);

    /// <summary>Whether the model reads values in [0, 1]: binary cross-entropy on unstandardised inputs (the data it trains on must be <see cref="SampleRange.ZeroToOne"/>).</summary>
    internal bool ReadsZeroToOne => Spec.Loss == ReconstructionLoss.BinaryCrossEntropy && Standardizer is null;

    /// <summary>Checks an image tensor's shape and values and returns it as float32 on the model's device in the network's shape.</summary>
    internal Tensor ToNetworkInput(Tensor images, string parameterName)
    {
        var shaped = InputShapeRules.Shape(images, InputShape, ReadsZeroToOne, parameterName).to(Device);
        return Standardizer is null ? shaped : Standardizer.Forward(shaped);
    }

    /// <summary>
    /// Checks that <paramref name="dataset"/>'s samples fit the network: the same shape as <see cref="InputShape"/>, or
    /// for a dense model (input shape <c>[n]</c>) any shape of <c>n</c> values.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes differ; the message names both.</exception>
    internal void CheckShape(Dataset dataset, string parameterName) =>
        InputShapeRules.CheckDataset(dataset, InputShape, ((ITrainable)this).DisplayName, parameterName);

    /// <summary>Refuses to train with binary cross-entropy on data that is not in [0, 1] (<see cref="SampleRange.Unbounded"/>) and not standardised either.</summary>
    /// <exception cref="ArgumentException">The loss is BCE and the dataset's values are unbounded.</exception>
    internal void CheckRange(Dataset dataset, string parameterName)
    {
        if (Spec.Loss == ReconstructionLoss.BinaryCrossEntropy && dataset.ValueRange == SampleRange.Unbounded)
        {
            throw new ArgumentException(
                $"Dataset '{dataset.Name}' holds unbounded values, but {((ITrainable)this).DisplayName} trains with binary cross-entropy, which needs values in [0, 1]; build the model with ForData(dataset) (identity output and mean squared error) or WithOutputActivation(OutputActivation.Identity).WithLoss(ReconstructionLoss.MeanSquaredError).",
                parameterName);
        }
    }

    /// <summary>Raw rows (uint8 0..255 or float32, N x SampleSize) to float input in the network's shape on its device.</summary>
    internal Tensor PrepareInputs(Tensor raw)
    {
        var x = TrainingData.ToFloat(raw.to(Device));
        if (Standardizer is not null)
        {
            x = Standardizer.Forward(x);
        }

        return InputShape.Count == 1 ? x : x.view([x.shape[0], .. InputShape]);
    }

    /// <summary>A new autoencoder with the same architecture, training defaults, device and (copied) weights.</summary>
    internal AutoencoderBase Clone()
    {
        ThrowIfDisposed();
        using var use = Guard.EnterUse();
        var copy = AutoencoderFactory.Create(Spec, DefaultTraining, applySeed: false);
        copy.MoveTo(Device);
        using var noGrad = no_grad();
        var source = Network.state_dict();
        foreach (var (name, tensor) in copy.Network.state_dict())
        {
            tensor.copy_(source[name]);
        }

        return copy;
    }

    /// <summary>
    /// Moves the weights to <paramref name="device"/>; later inputs are moved there and results come back on it (the
    /// array methods of <see cref="AutoencoderArrays"/> always return managed arrays). LatentKit is tested on the CPU only.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model is being trained.</exception>
    /// <exception cref="ArgumentException">The device is not available (for example CUDA on a CPU-only build); the message names it and the devices that are.</exception>
    public void MoveTo(Device device)
    {
        ThrowIfDisposed();
        DeviceRules.Check(device, nameof(device));
        using var use = Guard.EnterUse();
        MoveToCore(device);
    }

    /// <summary>Moves the weights to <paramref name="device"/> without taking the lock (the trainer holds it).</summary>
    private void MoveToCore(Device device)
    {
        Network.to(device);
        Device = device;
    }

    /// <summary>Throws <see cref="ObjectDisposedException"/> naming this model when it was disposed.</summary>
    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(disposed, this);

    Tensor ITrainable.PrepareInputs(Tensor raw) => PrepareInputs(raw);

    Tensor ITrainable.ComputeLoss(Tensor inputs, Tensor? targets, Generator? noise) => ComputeLoss(inputs, noise);

    IReadOnlyList<string> ITrainable.FigureNames => FigureNames;

    IReadOnlyList<string> ITrainable.TrainingFigureNames => TrainingFigureNames;

    bool ITrainable.DrawsFromGlobalGenerator => Kind is AutoencoderKind.Custom or AutoencoderKind.CustomVariational;

    /// <summary>2 when the network has a batch normalisation layer (a user's module may), otherwise 1.</summary>
    int ITrainable.MinimumBatchSize => Network.modules().Any(m => m is TorchSharp.Modules.BatchNorm1d or TorchSharp.Modules.BatchNorm2d or TorchSharp.Modules.BatchNorm3d) ? 2 : 1;

    Tensor ITrainable.ComputeLoss(Tensor inputs, Tensor? targets, Generator? noise, Tensor? figureSums) => ComputeLoss(inputs, noise, figureSums);

    void ITrainable.MoveTo(Device device) => MoveToCore(device);

    void ITrainable.SetTrainingMode(bool training) => Network.train(training);
}

/// <summary>
/// A model's lock. Inference calls (<see cref="EnterUse"/>) take it in turn; a training run (<see cref="EnterTraining"/>)
/// holds it for the whole run, and any other call on the model meanwhile, from any thread (including the training
/// thread's own progress callbacks), is refused with an <see cref="InvalidOperationException"/> within a few
/// milliseconds rather than left waiting for minutes.
/// </summary>
internal sealed class ModelGuard(Func<string> describe)
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(10);
    private readonly object sync = new();
    private readonly object state = new();
    private volatile bool training;
    private Action? pendingRelease;

    /// <summary>Takes the lock for one inference call; throws while the model trains.</summary>
    public Scope EnterUse()
    {
        Enter();
        return new Scope(this, endsTraining: false);
    }

    /// <summary>Takes the lock for a training run (after any running inference call) and marks the model as training.</summary>
    public Scope EnterTraining()
    {
        Enter();
        lock (state)
        {
            training = true;
        }

        return new Scope(this, endsTraining: true);
    }

    /// <summary>
    /// Runs <paramref name="release"/> (a model's disposal) under the lock: after a running inference call, and, while
    /// the model trains (a callback of the run, or another thread), when the training run ends, so the loop never runs
    /// on freed weights. Never throws for the training mark and never waits for a training run.
    /// </summary>
    public void Release(Action release)
    {
        while (true)
        {
            lock (state)
            {
                if (training)
                {
                    pendingRelease = release;
                    return;
                }
            }

            if (Monitor.TryEnter(sync, Poll))
            {
                try
                {
                    lock (state)
                    {
                        if (training)
                        {
                            // The training thread itself (the lock is re-entrant): a callback of the run.
                            pendingRelease = release;
                            return;
                        }
                    }

                    release();
                    return;
                }
                finally
                {
                    Monitor.Exit(sync);
                }
            }
        }
    }

    private void Enter()
    {
        while (true)
        {
            ThrowIfTraining();
            if (Monitor.TryEnter(sync, Poll))
            {
                if (training)
                {
                    // Only the training thread itself can get here (the lock is re-entrant): a call from a progress callback.
                    Monitor.Exit(sync);
                    ThrowIfTraining();
                }

                return;
            }
        }
    }

    private void ThrowIfTraining()
    {
        if (training)
        {
            throw new InvalidOperationException($"{describe()} is being trained; wait until Train returns before using it (a model is not used while it trains, and is not trained twice at once).");
        }
    }

    /// <summary>Releases the lock (and ends the training mark) on dispose.</summary>
    public readonly struct Scope(ModelGuard guard, bool endsTraining) : IDisposable
    {
        /// <summary>Releases the lock.</summary>
        public void Dispose()
        {
            try
            {
                if (endsTraining)
                {
                    Action? release;
                    lock (guard.state)
                    {
                        guard.training = false;
                        release = guard.pendingRelease;
                        guard.pendingRelease = null;
                    }

                    release?.Invoke();
                }
            }
            finally
            {
                Monitor.Exit(guard.sync);
            }
        }
    }
}
