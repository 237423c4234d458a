using TorchSharp;

namespace LatentKit;

/// <summary>Entry points of the fluent autoencoder builders.</summary>
public static partial class Autoencoders
{
    /// <summary>A fully connected autoencoder; defaults: hidden 256, 128, latent 49, ReLU, sigmoid output, BCE.</summary>
    public static DenseAutoencoderBuilder Dense() => new();

    /// <summary>A convolutional autoencoder; defaults: channels 32, 64, latent 49 (a 7 x 7 x 1 code map), ReLU, sigmoid output, BCE.</summary>
    public static ConvolutionalAutoencoderBuilder Convolutional() => new();

    /// <summary>A variational autoencoder; defaults: hidden 256, 128, latent 49, ReLU, sigmoid output, BCE, KL weight 1.</summary>
    public static VariationalAutoencoderBuilder Variational() => new();

    /// <summary>
    /// A convolutional variational autoencoder; defaults: channels 32, 64, latent 49 (a 7 x 7 x 1 code map for 28 x 28
    /// images), ReLU, sigmoid output, BCE, KL weight 1. See <see cref="ConvolutionalVariationalAutoencoder"/>.
    /// </summary>
    public static ConvolutionalVariationalAutoencoderBuilder ConvolutionalVariational() => new();
}

/// <summary>
/// The largest models LatentKit builds or loads. Every builder's <c>Build</c> and every model-file load checks them
/// before allocating any weights, so a mistyped size is a clear <see cref="ArgumentException"/> (or, in a file, a
/// <see cref="LatentKit.ModelFileException"/>) instead of an allocation of gigabytes.
/// </summary>
public static class ModelLimits
{
    /// <summary>The largest latent size: 65,536 values per code.</summary>
    public const int MaxLatentSize = 65_536;

    /// <summary>The widest hidden layer of a dense or variational autoencoder or of a classifier head: 65,536 units.</summary>
    public const int MaxLayerWidth = 65_536;

    /// <summary>The most channels of one convolution of a convolutional autoencoder: 4,096.</summary>
    public const int MaxChannels = 4_096;

    /// <summary>The most hidden layers (or channel entries) of one encoder or classifier head: 64.</summary>
    public const int MaxHiddenLayers = 64;

    /// <summary>The most parameters (weights, biases and buffers) of an autoencoder or of a classifier head: 100 million (400 MB of float32).</summary>
    public const long MaxParameters = 100_000_000;

    /// <summary>The most values in one input sample (channels x height x width, or features): 16,777,216 (as <see cref="Dataset.MaxSampleSize"/>).</summary>
    public const int MaxInputSize = Dataset.MaxSampleSize;

    /// <summary>The most features a model's <see cref="FeatureStandardizer"/> may have (it is stored in the model file's manifest): 16,384.</summary>
    public const int MaxStandardizedFeatures = 16_384;

    /// <summary>
    /// The most samples one generation call makes (<see cref="IVariationalAutoencoder.Sample"/>'s <c>count</c>,
    /// <see cref="LatentSpace.Interpolate"/>'s <c>steps</c>): 65,536, checked before anything is allocated. For more,
    /// call again (with another seed).
    /// </summary>
    public const int MaxGeneratedSamples = 65_536;

    /// <summary>
    /// The most values one generation call returns, and the most latent values it draws: samples x the larger of the
    /// sample size and the latent size, at most 67,108,864 (2^26, 256 MB of float32), checked before anything is
    /// allocated. The codes are decoded <see cref="AutoencoderArrays.MaxBatchSamples"/> at a time, so the network's own
    /// activations stay bounded too.
    /// </summary>
    public const long MaxGeneratedValues = 1L << 26;

    /// <summary>Refuses a generation of <paramref name="count"/> samples beyond <see cref="MaxGeneratedSamples"/> or <see cref="MaxGeneratedValues"/>.</summary>
    internal static void CheckGeneratedCount(int count, IAutoencoder model, string parameter, int minimum)
    {
        if (count < minimum)
        {
            throw new ArgumentOutOfRangeException(parameter, count, $"{parameter} = {count:N0}: give at least {minimum}.");
        }

        if (count > MaxGeneratedSamples)
        {
            throw new ArgumentOutOfRangeException(parameter, count, $"{parameter} = {count:N0} is more than the {MaxGeneratedSamples:N0} samples one call makes (ModelLimits.MaxGeneratedSamples); make them in several calls.");
        }

        var perSample = Math.Max(AutoencoderArrays.SampleSizeOf(model), model.LatentSize);
        var values = (long)count * perSample;
        if (values > MaxGeneratedValues)
        {
            throw new ArgumentOutOfRangeException(parameter, count, $"{parameter} = {count:N0} samples of {perSample:N0} values each make {values:N0} values, more than the {MaxGeneratedValues:N0} one call returns (ModelLimits.MaxGeneratedValues); give at most {MaxGeneratedValues / perSample:N0} per call.");
        }
    }

    /// <summary>Decodes <paramref name="codes"/> (already checked by <see cref="CheckGeneratedCount"/>) <see cref="AutoencoderArrays.MaxBatchSamples"/> at a time into one result tensor.</summary>
    internal static torch.Tensor DecodeInBatches(IAutoencoder model, torch.Tensor codes)
    {
        using var scope = torch.NewDisposeScope();
        var count = codes.shape[0];
        torch.Tensor? result = null;
        for (long start = 0; start < count; start += AutoencoderArrays.MaxBatchSamples)
        {
            using var batchScope = torch.NewDisposeScope();
            var n = Math.Min(AutoencoderArrays.MaxBatchSamples, count - start);
            var decoded = model.Decode(codes.narrow(0, start, n));
            if (result is null)
            {
                result = torch.empty([count, .. decoded.shape.Skip(1)], decoded.dtype, decoded.device);
                result.MoveToOuterDisposeScope();
            }

            result.narrow(0, start, n).copy_(decoded);
        }

        return result!.MoveToOuterDisposeScope();
    }
}

/// <summary>Anything that builds an autoencoder.</summary>
public interface IAutoencoderBuilder
{
    /// <summary>Validates the settings and creates the autoencoder.</summary>
    /// <exception cref="LatentKitValidationException">Settings are invalid: <see cref="LatentKitValidationException.Errors"/> lists every one (the builder method's parameter, the value, the rule); <see cref="ArgumentException.ParamName"/> names the first.</exception>
    IAutoencoder Build();
}

/// <summary>Settings shared by every autoencoder builder. Each <c>With...</c> method returns the builder; <see cref="Build"/> validates.</summary>
/// <typeparam name="TBuilder">The concrete builder.</typeparam>
/// <typeparam name="TModel">The model it builds.</typeparam>
public abstract class AutoencoderBuilder<TBuilder, TModel> : IAutoencoderBuilder
    where TBuilder : AutoencoderBuilder<TBuilder, TModel>
    where TModel : AutoencoderBase
{
    private AutoencoderSpec spec;
    private TrainingOptions training = new();
    private torch.Device? device;
    private bool latentSizeGiven;

    private protected AutoencoderBuilder(AutoencoderKind kind, int[] defaultLayers)
    {
        spec = new AutoencoderSpec { Kind = kind, LatentSize = 49, Layers = defaultLayers };
    }

    /// <summary>
    /// The shape of one input sample (default 1 x 28 x 28, MNIST): <c>channels, height, width</c> for images or one
    /// number, the width of a feature vector. Dense and variational autoencoders take either (they flatten images and
    /// give reconstructions the image shape back; samples of another shape, such as 20 x 6, are given as their number
    /// of values, 120, which <see cref="ForData"/> does); the convolutional ones need an image shape, and pad and crop sizes the strides do not divide (see
    /// <see cref="ConvolutionalAutoencoder"/>). At most <see cref="ModelLimits.MaxInputSize"/> values and
    /// <see cref="ModelLimits.MaxChannels"/> channels; checked at <see cref="Build"/>.
    /// </summary>
    public TBuilder WithInputShape(params int[] shape) => Set(spec with { InputShape = shape?.ToArray()! });

    /// <summary>
    /// Takes the input shape from <paramref name="data"/>'s <see cref="Dataset.SampleShape"/> (for a dense or
    /// variational autoencoder, a shape other than <c>[features]</c> or <c>[channels, height, width]</c> becomes its
    /// number of values), and the output and loss
    /// from its <see cref="Dataset.ValueRange"/>: sigmoid + binary cross-entropy for <see cref="SampleRange.ZeroToOne"/>,
    /// identity + mean squared error for <see cref="SampleRange.Unbounded"/>. Later <c>With...</c> calls override these.
    /// </summary>
    public TBuilder ForData(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var unbounded = data.ValueRange == SampleRange.Unbounded;
        var flatten = !spec.IsConvolutional && data.SampleShape.Count is not (1 or 3);
        return Set(spec with
        {
            InputShape = flatten ? [data.SampleSize] : [.. data.SampleShape],
            OutputActivation = unbounded ? OutputActivation.Identity : OutputActivation.Sigmoid,
            Loss = unbounded ? ReconstructionLoss.MeanSquaredError : ReconstructionLoss.BinaryCrossEntropy,
        });
    }

    /// <summary>
    /// Standardises every input with <paramref name="standardizer"/> (fitted with <see cref="FeatureStandardizer.Fit"/>
    /// on the training data) before the network: in training, evaluation, encoding and reconstruction; decoded outputs
    /// are mapped back to the data's units. The standardizer is saved in the model file. It must have one feature per
    /// input value, and the model must use <see cref="OutputActivation.Identity"/> and
    /// <see cref="ReconstructionLoss.MeanSquaredError"/> (standardised values are not in [0, 1]); checked at
    /// <see cref="Build"/>. <see langword="null"/> removes it.
    /// </summary>
    public TBuilder WithStandardization(FeatureStandardizer? standardizer) =>
        Set(spec with { StandardizerMean = standardizer?.MeanArray.ToArray(), StandardizerStd = standardizer?.StdArray.ToArray() });

    /// <summary>
    /// Number of values in a latent code, 1 to <see cref="ModelLimits.MaxLatentSize"/>. Default: 49 for the dense and
    /// variational autoencoders; for the convolutional ones one code map of the input shape (49 for 28 x 28 with two
    /// strided layers, 64 for 32 x 32, 25 for 20 x 20; see <see cref="ConvolutionalAutoencoder"/>), since their latent
    /// size must be a whole number of code maps.
    /// </summary>
    public TBuilder WithLatentSize(int latentSize)
    {
        latentSizeGiven = true;
        return Set(spec with { LatentSize = latentSize });
    }

    /// <summary>Activation after every hidden layer of the encoder and the decoder (default ReLU).</summary>
    public TBuilder WithActivation(Activation activation) => Set(spec with { Activation = activation });

    /// <summary>Activation of the code layer (default Identity: a linear code). Not used by the variational autoencoder, whose code is a distribution.</summary>
    public TBuilder WithLatentActivation(Activation latentActivation) => Set(spec with { LatentActivation = latentActivation });

    /// <summary>Activation of the decoder's last layer (default Sigmoid; binary cross-entropy requires it).</summary>
    public TBuilder WithOutputActivation(OutputActivation outputActivation) => Set(spec with { OutputActivation = outputActivation });

    /// <summary>The reconstruction loss (default binary cross-entropy).</summary>
    public TBuilder WithLoss(ReconstructionLoss loss) => Set(spec with { Loss = loss });

    /// <summary>Seeds TorchSharp's global generator before the weights are initialised, so the same seed gives the same initial weights.</summary>
    public TBuilder WithSeed(int seed) => Set(spec with { Seed = seed });

    /// <summary>
    /// Makes a denoising autoencoder: during training each input is corrupted (a <paramref name="maskFraction"/> of
    /// its pixels set to 0 at random, then Gaussian noise of standard deviation <paramref name="noiseStd"/> added and
    /// the result clamped to [0, 1], except for a standardised model, whose values have no range) and the loss compares the reconstruction with the clean image. The noise comes
    /// from the training run's own generator seeded by <see cref="TrainingOptions.Seed"/>, so runs are reproducible.
    /// Encoding, reconstruction and evaluation never add noise. <c>WithDenoising(0, 0)</c> turns it off.
    /// </summary>
    /// <param name="noiseStd">Standard deviation of the additive Gaussian noise, 0..1 (0.3 is typical for MNIST).</param>
    /// <param name="maskFraction">Fraction of pixels dropped to 0, in [0, 1) (for example 0.25).</param>
    public TBuilder WithDenoising(double noiseStd, double maskFraction = 0) => Set(spec with { DenoisingNoiseStd = noiseStd, DenoisingMaskFraction = maskFraction });

    /// <summary>The device the weights are created on (default the CPU).</summary>
    /// <exception cref="ArgumentException">The device is not available (for example CUDA on a CPU-only build); the message names it and the devices that are.</exception>
    public TBuilder OnDevice(torch.Device device)
    {
        DeviceRules.Check(device, nameof(device));
        this.device = device;
        return (TBuilder)this;
    }

    /// <summary>The training settings the model's <see cref="IAutoencoder.Train"/> uses when called without options.</summary>
    public TBuilder WithTrainingDefaults(TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        training = options;
        return (TBuilder)this;
    }

    /// <summary>Optimizer settings of the training defaults.</summary>
    public TBuilder WithOptimizer(OptimizerKind optimizer, double learningRate, double weightDecay = 0)
    {
        training = training with { Optimizer = optimizer, LearningRate = learningRate, WeightDecay = weightDecay };
        return (TBuilder)this;
    }

    /// <summary>Learning rate of the training defaults (default 0.001).</summary>
    public TBuilder WithLearningRate(double learningRate)
    {
        training = training with { LearningRate = learningRate };
        return (TBuilder)this;
    }

    /// <summary>Validates the settings and creates the autoencoder.</summary>
    /// <exception cref="LatentKitValidationException">Settings are invalid: <see cref="LatentKitValidationException.Errors"/> lists every one (the builder method's parameter, the value, the rule); <see cref="ArgumentException.ParamName"/> names the first.</exception>
    public TModel Build()
    {
        var spec = latentSizeGiven || !this.spec.IsConvolutional
            ? this.spec
            : this.spec with { LatentSize = ConvolutionalGeometry.OneCodeMap(this.spec.InputShape, this.spec.Layers?.Length ?? 0) ?? this.spec.LatentSize };
        AutoencoderFactory.ValidateWithTraining(spec, training);
        var model = (TModel)AutoencoderFactory.Create(spec, training, applySeed: true);
        if (device is not null && device.type != DeviceType.CPU)
        {
            model.MoveTo(device);
        }

        return model;
    }

    IAutoencoder IAutoencoderBuilder.Build() => Build();

    private protected TBuilder Set(AutoencoderSpec value)
    {
        spec = value;
        return (TBuilder)this;
    }

    private protected AutoencoderSpec Spec => spec;
}

/// <summary>Builds a <see cref="DenseAutoencoder"/>.</summary>
public sealed class DenseAutoencoderBuilder : AutoencoderBuilder<DenseAutoencoderBuilder, DenseAutoencoder>
{
    internal DenseAutoencoderBuilder()
        : base(AutoencoderKind.Dense, [256, 128])
    {
    }

    /// <summary>
    /// Widths of the encoder's hidden layers from the input side (default 256, 128); the decoder mirrors them. Each
    /// width is 1 to <see cref="ModelLimits.MaxLayerWidth"/>, at most <see cref="ModelLimits.MaxHiddenLayers"/> of
    /// them, and the whole model at most <see cref="ModelLimits.MaxParameters"/> parameters.
    /// </summary>
    public DenseAutoencoderBuilder WithHiddenLayers(params int[] widths) => Set(Spec with { Layers = widths?.ToArray()! });
}

/// <summary>Builds a <see cref="ConvolutionalAutoencoder"/>.</summary>
public sealed class ConvolutionalAutoencoderBuilder : AutoencoderBuilder<ConvolutionalAutoencoderBuilder, ConvolutionalAutoencoder>
{
    internal ConvolutionalAutoencoderBuilder()
        : base(AutoencoderKind.Convolutional, [32, 64])
    {
    }

    /// <summary>
    /// Output channels of the encoder's strided convolutions before the code layer (default 32, 64): each has stride 2
    /// and the code layer stride 1, so 1 or 2 entries give a 14 x 14 or 7 x 7 code map; the decoder mirrors them.
    /// Each count is 1 to <see cref="ModelLimits.MaxChannels"/>, and the whole model at most
    /// <see cref="ModelLimits.MaxParameters"/> parameters.
    /// </summary>
    public ConvolutionalAutoencoderBuilder WithChannels(params int[] channels) => Set(Spec with { Layers = channels?.ToArray()! });
}

/// <summary>Builds a <see cref="VariationalAutoencoder"/>.</summary>
public sealed class VariationalAutoencoderBuilder : AutoencoderBuilder<VariationalAutoencoderBuilder, VariationalAutoencoder>
{
    internal VariationalAutoencoderBuilder()
        : base(AutoencoderKind.Variational, [256, 128])
    {
    }

    /// <summary>
    /// Widths of the encoder's hidden layers from the input side (default 256, 128); the decoder mirrors them. Each
    /// width is 1 to <see cref="ModelLimits.MaxLayerWidth"/>, at most <see cref="ModelLimits.MaxHiddenLayers"/> of
    /// them, and the whole model at most <see cref="ModelLimits.MaxParameters"/> parameters.
    /// </summary>
    public VariationalAutoencoderBuilder WithHiddenLayers(params int[] widths) => Set(Spec with { Layers = widths?.ToArray()! });

    /// <summary>Weight of the KL term in the training loss (default 1).</summary>
    public VariationalAutoencoderBuilder WithKlWeight(double klWeight) => Set(Spec with { KlWeight = klWeight });
}

/// <summary>Builds a <see cref="ConvolutionalVariationalAutoencoder"/>.</summary>
public sealed class ConvolutionalVariationalAutoencoderBuilder : AutoencoderBuilder<ConvolutionalVariationalAutoencoderBuilder, ConvolutionalVariationalAutoencoder>
{
    internal ConvolutionalVariationalAutoencoderBuilder()
        : base(AutoencoderKind.ConvolutionalVariational, [32, 64])
    {
    }

    /// <summary>
    /// Output channels of the encoder's strided convolutions before the mean and log-variance layers (default 32, 64);
    /// the decoder mirrors them. Each count is 1 to <see cref="ModelLimits.MaxChannels"/>; see
    /// <see cref="ConvolutionalAutoencoder"/> for the padding rule and the code map.
    /// </summary>
    public ConvolutionalVariationalAutoencoderBuilder WithChannels(params int[] channels) => Set(Spec with { Layers = channels?.ToArray()! });

    /// <summary>Weight of the KL term in the training loss (default 1).</summary>
    public ConvolutionalVariationalAutoencoderBuilder WithKlWeight(double klWeight) => Set(Spec with { KlWeight = klWeight });
}

/// <summary>Builds a <see cref="LatentClassifier"/> on a frozen autoencoder. Start with <see cref="LatentClassifier.For"/>.</summary>
public sealed class LatentClassifierBuilder
{
    private readonly IAutoencoder autoencoder;
    private ClassifierSpec spec = new();
    private TrainingOptions training = new();

    /// <summary>Starts a builder for a classifier on the codes of <paramref name="autoencoder"/>.</summary>
    public LatentClassifierBuilder(IAutoencoder autoencoder)
    {
        ArgumentNullException.ThrowIfNull(autoencoder);
        this.autoencoder = autoencoder;
    }

    /// <summary>A head of <paramref name="classCount"/> outputs (default 10, the digits), 2 to <see cref="Dataset.MaxClassCount"/>; classes are named "0", "1", ...</summary>
    public LatentClassifierBuilder WithClasses(int classCount)
    {
        spec = spec with { ClassCount = classCount, ClassNames = null };
        return this;
    }

    /// <summary>One class per name (distinct, non-empty), in class order; predictions and metrics report these names.</summary>
    public LatentClassifierBuilder WithClasses(params string[] classNames)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        spec = spec with { ClassCount = classNames.Length, ClassNames = [.. classNames] };
        return this;
    }

    /// <summary>Takes the class count and class names from <paramref name="data"/>, which must have labels.</summary>
    /// <exception cref="ArgumentException">The dataset has no labels.</exception>
    public LatentClassifierBuilder ForData(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        data.RequireLabels(nameof(data));
        spec = spec with { ClassCount = data.ClassCount, ClassNames = [.. data.ClassNames] };
        return this;
    }

    /// <summary>The head kind (default <see cref="ClassifierHead.Logits"/>: softmax cross-entropy).</summary>
    public LatentClassifierBuilder WithHead(ClassifierHead head)
    {
        spec = spec with { Head = head };
        return this;
    }

    /// <summary>
    /// Widths of the head's hidden layers (default one layer of 128, making two dense layers in all): each 1 to
    /// <see cref="ModelLimits.MaxLayerWidth"/>, at most <see cref="ModelLimits.MaxHiddenLayers"/> of them, and the head
    /// at most <see cref="ModelLimits.MaxParameters"/> parameters.
    /// </summary>
    public LatentClassifierBuilder WithHiddenLayers(params int[] widths)
    {
        spec = spec with { HiddenLayers = widths?.ToArray()! };
        return this;
    }

    /// <summary>Activation after each hidden layer (default ReLU).</summary>
    public LatentClassifierBuilder WithActivation(Activation activation)
    {
        spec = spec with { Activation = activation };
        return this;
    }

    /// <summary>Dropout with probability <paramref name="probability"/> after each hidden layer's activation, in [0, 1) (default 0: none).</summary>
    public LatentClassifierBuilder WithDropout(double probability)
    {
        spec = spec with { Dropout = probability };
        return this;
    }

    /// <summary>Batch normalisation between each hidden linear layer and its activation (default off).</summary>
    public LatentClassifierBuilder WithBatchNorm(bool enabled = true)
    {
        spec = spec with { BatchNorm = enabled };
        return this;
    }

    /// <summary>
    /// Fine-tuning: <see cref="Build"/> copies the autoencoder, and training then updates that copy's encoder together
    /// with the head, end to end on images, the encoder with <paramref name="encoderLearningRate"/> (typically 10
    /// times below the head's) and the head with the training options' learning rate. The autoencoder given to
    /// <see cref="LatentClassifier.For"/> is never changed; the classifier owns (and disposes) the copy.
    /// </summary>
    /// <param name="encoderLearningRate">The encoder's learning rate, a finite number above 0.</param>
    public LatentClassifierBuilder WithFineTuning(double encoderLearningRate)
    {
        spec = spec with { EncoderLearningRate = encoderLearningRate };
        return this;
    }

    /// <summary>Keeps the encoder frozen (the default; undoes <see cref="WithFineTuning"/>).</summary>
    public LatentClassifierBuilder WithFrozenEncoder()
    {
        spec = spec with { EncoderLearningRate = null };
        return this;
    }

    /// <summary>Seeds TorchSharp's global generator before the head's weights are initialised.</summary>
    public LatentClassifierBuilder WithSeed(int seed)
    {
        spec = spec with { Seed = seed };
        return this;
    }

    /// <summary>The training settings <see cref="LatentClassifier.Train"/> uses when called without options.</summary>
    public LatentClassifierBuilder WithTrainingDefaults(TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        training = options;
        return this;
    }

    /// <summary>Optimizer settings of the training defaults.</summary>
    public LatentClassifierBuilder WithOptimizer(OptimizerKind optimizer, double learningRate, double weightDecay = 0)
    {
        training = training with { Optimizer = optimizer, LearningRate = learningRate, WeightDecay = weightDecay };
        return this;
    }

    /// <summary>Learning rate of the training defaults (default 0.001).</summary>
    public LatentClassifierBuilder WithLearningRate(double learningRate)
    {
        training = training with { LearningRate = learningRate };
        return this;
    }

    /// <summary>Validates the settings and creates the classifier (the autoencoder stays the caller's to dispose).</summary>
    /// <exception cref="LatentKitValidationException">Settings are invalid: <see cref="LatentKitValidationException.Errors"/> lists every one; <see cref="ArgumentException.ParamName"/> names the first.</exception>
    /// <exception cref="ObjectDisposedException">The autoencoder was disposed (the exception names it).</exception>
    public LatentClassifier Build()
    {
        AutoencoderFactory.ValidateClassifierWithTraining(spec, autoencoder.LatentSize, training);
        if (spec.EncoderLearningRate is not null)
        {
            if (autoencoder is not AutoencoderBase encoder)
            {
                throw new ArgumentException("Only LatentKit's own autoencoders can be fine-tuned (the raw-pixel baseline has no encoder to train).", "encoderLearningRate");
            }

            var copy = encoder.Clone();
            try
            {
                return new LatentClassifier(copy, spec, training, ownsAutoencoder: true, applySeed: true);
            }
            catch
            {
                copy.Dispose();
                throw;
            }
        }

        return new LatentClassifier(autoencoder, spec, training, ownsAutoencoder: false, applySeed: true);
    }
}
