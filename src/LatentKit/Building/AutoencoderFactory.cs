using System.Globalization;
using TorchSharp;

namespace LatentKit;

/// <summary>
/// The one place of every architecture and training-defaults rule, used by the builders' <c>Build</c> and by loading a
/// model file (which turns the <see cref="ArgumentException"/> into a <see cref="LatentKit.ModelFileException"/>
/// naming the manifest field), and the one place that creates the concrete autoencoders.
/// </summary>
internal static class AutoencoderFactory
{
    /// <summary>Throws an <see cref="ArgumentException"/> naming the builder parameter and the bad value; allocates nothing.</summary>
    public static void Validate(AutoencoderSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!Enum.IsDefined(spec.Kind))
        {
            throw new ArgumentException($"Unknown autoencoder kind {spec.Kind}.", "kind");
        }

        if (spec.LatentSize <= 0)
        {
            throw new ArgumentException($"The latent size must be at least 1; got {spec.LatentSize}.", "latentSize");
        }

        if (spec.LatentSize > ModelLimits.MaxLatentSize)
        {
            throw new ArgumentException($"The latent size must be at most {ModelLimits.MaxLatentSize} (ModelLimits.MaxLatentSize); got {spec.LatentSize}.", "latentSize");
        }

        ValidateInputShape(spec);
        var convolutional = spec.IsConvolutional;
        var layersParameter = convolutional ? "channels" : "widths";
        var what = convolutional ? "channel count" : "hidden layer width";
        var maxWidth = convolutional ? ModelLimits.MaxChannels : ModelLimits.MaxLayerWidth;
        var maxWidthName = convolutional ? nameof(ModelLimits.MaxChannels) : nameof(ModelLimits.MaxLayerWidth);
        if (spec.Layers is null || spec.Layers.Length == 0)
        {
            throw new ArgumentException(
                convolutional
                    ? "A convolutional autoencoder needs at least one encoder channel count (no layers given)."
                    : "An autoencoder needs at least one hidden layer (no layers given).",
                layersParameter);
        }

        if (spec.Layers.Length > ModelLimits.MaxHiddenLayers)
        {
            throw new ArgumentException($"At most {ModelLimits.MaxHiddenLayers} layers are allowed (ModelLimits.MaxHiddenLayers); got {spec.Layers.Length}.", layersParameter);
        }

        for (var i = 0; i < spec.Layers.Length; i++)
        {
            if (spec.Layers[i] <= 0)
            {
                throw new ArgumentException($"Every {what} must be at least 1; entry {i} is {spec.Layers[i]}.", layersParameter);
            }

            if (spec.Layers[i] > maxWidth)
            {
                throw new ArgumentException($"Every {what} must be at most {maxWidth} (ModelLimits.{maxWidthName}); entry {i} is {spec.Layers[i]}.", layersParameter);
            }
        }

        CheckEnum(spec.Activation, "activation");
        CheckEnum(spec.LatentActivation, "latentActivation");
        CheckEnum(spec.OutputActivation, "outputActivation");
        CheckEnum(spec.Loss, "loss");
        if (spec.Loss == ReconstructionLoss.BinaryCrossEntropy && spec.OutputActivation != OutputActivation.Sigmoid)
        {
            throw new ArgumentException($"Binary cross-entropy needs a sigmoid output activation (pixels in (0, 1)); got {spec.OutputActivation}. Use OutputActivation.Sigmoid or ReconstructionLoss.MeanSquaredError.", "outputActivation");
        }

        if (!(spec.KlWeight >= 0) || double.IsInfinity(spec.KlWeight))
        {
            throw new ArgumentException($"The KL weight must be a finite number of at least 0; got {spec.KlWeight.ToString(CultureInfo.InvariantCulture)}.", "klWeight");
        }

        if (!(spec.DenoisingNoiseStd >= 0 && spec.DenoisingNoiseStd <= 1))
        {
            throw new ArgumentException($"The denoising noise standard deviation must be in [0, 1]; got {spec.DenoisingNoiseStd.ToString(CultureInfo.InvariantCulture)}.", "noiseStd");
        }

        if (!(spec.DenoisingMaskFraction >= 0 && spec.DenoisingMaskFraction < 1))
        {
            throw new ArgumentException($"The denoising mask fraction must be in [0, 1); got {spec.DenoisingMaskFraction.ToString(CultureInfo.InvariantCulture)}.", "maskFraction");
        }

        if (convolutional && ConvolutionalGeometry.Problem(spec.InputShape, spec.Layers.Length, spec.LatentSize) is { } problem)
        {
            throw new ArgumentException(problem.Message, problem.Parameter);
        }

        ValidateStandardizer(spec);

        var parameters = Layout(spec).Values;
        if (parameters > ModelLimits.MaxParameters)
        {
            throw new ArgumentException(
                $"Latent size {spec.LatentSize} with {(convolutional ? "channels" : "hidden widths")} [{string.Join(", ", spec.Layers)}] makes {parameters:N0} parameters, more than the {ModelLimits.MaxParameters:N0} allowed (ModelLimits.MaxParameters); use smaller layers.",
                layersParameter);
        }
    }

    /// <summary>The input shape: <c>[F]</c> or <c>[C, H, W]</c>, every dimension at least 1, at most <see cref="ModelLimits.MaxInputSize"/> values and <see cref="ModelLimits.MaxChannels"/> channels.</summary>
    private static void ValidateInputShape(AutoencoderSpec spec)
    {
        var shape = spec.InputShape;
        if (shape is null || (shape.Length != 1 && shape.Length != 3))
        {
            throw new ArgumentException(
                $"The input shape must be [features] or [channels, height, width]; got [{string.Join(", ", shape ?? [])}].",
                "shape");
        }

        if (Array.Exists(shape, d => d <= 0))
        {
            throw new ArgumentException($"Every dimension of the input shape must be at least 1; got [{string.Join(", ", shape)}].", "shape");
        }

        var size = shape.Aggregate(1L, (a, b) => Math.Min(a * b, long.MaxValue / 1_000_000));
        if (size > ModelLimits.MaxInputSize)
        {
            throw new ArgumentException($"An input of shape [{string.Join(", ", shape)}] has {size:N0} values per sample, more than the {ModelLimits.MaxInputSize:N0} allowed (ModelLimits.MaxInputSize).", "shape");
        }

        if (shape.Length == 3 && shape[0] > ModelLimits.MaxChannels)
        {
            throw new ArgumentException($"An input of shape [{string.Join(", ", shape)}] has {shape[0]} channels, more than the {ModelLimits.MaxChannels} allowed (ModelLimits.MaxChannels).", "shape");
        }
    }

    /// <summary>The standardizer (both arrays or neither) follows <see cref="FeatureStandardizer"/>'s rule, fits the input size, and is not paired with BCE.</summary>
    private static void ValidateStandardizer(AutoencoderSpec spec)
    {
        if (spec.StandardizerMean is null && spec.StandardizerStd is null)
        {
            return;
        }

        if (spec.StandardizerMean is null || spec.StandardizerStd is null)
        {
            throw new ArgumentException("A standardizer needs both its means and its standard deviations; one of them is missing.", "standardizer");
        }

        if (spec.StandardizerMean.Length > ModelLimits.MaxStandardizedFeatures)
        {
            throw new ArgumentException($"A standardizer of {spec.StandardizerMean.Length} features is more than the {ModelLimits.MaxStandardizedFeatures} a model carries (ModelLimits.MaxStandardizedFeatures).", "standardizer");
        }

        FeatureStandardizer.Validate(spec.StandardizerMean, spec.StandardizerStd, "standardizer", "standardizer");
        if (spec.StandardizerMean.Length != spec.InputSize)
        {
            throw new ArgumentException(
                $"The standardizer was fitted on {spec.StandardizerMean.Length} features, but the input shape [{string.Join(", ", spec.InputShape)}] has {spec.InputSize} values per sample.",
                "standardizer");
        }

        if (spec.Loss == ReconstructionLoss.BinaryCrossEntropy)
        {
            throw new ArgumentException(
                "Standardised inputs are not in [0, 1], so binary cross-entropy does not apply; use WithOutputActivation(OutputActivation.Identity) and WithLoss(ReconstructionLoss.MeanSquaredError).",
                "loss");
        }
    }

    /// <summary>
    /// Throws an <see cref="ArgumentException"/> naming the classifier builder's parameter and the bad value, for a
    /// head on codes of <paramref name="latentSize"/> values; allocates nothing.
    /// </summary>
    public static void ValidateClassifier(ClassifierSpec spec, int latentSize)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!Enum.IsDefined(spec.Head))
        {
            throw new ArgumentException($"Unknown classifier head {spec.Head}.", "head");
        }

        if (spec.HiddenLayers is null || spec.HiddenLayers.Length == 0)
        {
            throw new ArgumentException("A latent classifier needs at least one hidden layer (no layers given).", "widths");
        }

        if (spec.HiddenLayers.Length > ModelLimits.MaxHiddenLayers)
        {
            throw new ArgumentException($"At most {ModelLimits.MaxHiddenLayers} hidden layers are allowed (ModelLimits.MaxHiddenLayers); got {spec.HiddenLayers.Length}.", "widths");
        }

        for (var i = 0; i < spec.HiddenLayers.Length; i++)
        {
            if (spec.HiddenLayers[i] <= 0)
            {
                throw new ArgumentException($"Every hidden layer width must be at least 1; entry {i} is {spec.HiddenLayers[i]}.", "widths");
            }

            if (spec.HiddenLayers[i] > ModelLimits.MaxLayerWidth)
            {
                throw new ArgumentException($"Every hidden layer width must be at most {ModelLimits.MaxLayerWidth} (ModelLimits.MaxLayerWidth); entry {i} is {spec.HiddenLayers[i]}.", "widths");
            }
        }

        CheckEnum(spec.Activation, "activation");
        if (spec.ClassCount < 2 || spec.ClassCount > Dataset.MaxClassCount)
        {
            throw new ArgumentException($"A classifier needs 2 to {Dataset.MaxClassCount} classes; got {spec.ClassCount}.", "classCount");
        }

        if (spec.ClassNames is { } names)
        {
            if (names.Length != spec.ClassCount)
            {
                throw new ArgumentException($"A classifier of {spec.ClassCount} classes needs {spec.ClassCount} class names; got {names.Length}.", "classNames");
            }

            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < names.Length; i++)
            {
                if (string.IsNullOrWhiteSpace(names[i]) || !seen.Add(names[i]))
                {
                    throw new ArgumentException($"Every class name must be non-empty and distinct; name {i} is {(names[i] is null ? "missing" : $"'{names[i]}'")}.", "classNames");
                }
            }
        }

        if (!(spec.Dropout >= 0 && spec.Dropout < 1))
        {
            throw new ArgumentException($"The dropout probability must be in [0, 1); got {spec.Dropout.ToString(CultureInfo.InvariantCulture)}.", "probability");
        }

        if (spec.EncoderLearningRate is { } encoderRate)
        {
            // The encoder's learning rate follows the one learning-rate rule of TrainingOptions.
            Rethrow(() => new TrainingOptions { LearningRate = encoderRate }.Validate(), p => p == nameof(TrainingOptions.LearningRate) ? "encoderLearningRate" : p);
        }

        var parameters = ClassifierLayout(spec, latentSize).Values;
        if (parameters > ModelLimits.MaxParameters)
        {
            throw new ArgumentException(
                $"Hidden widths [{string.Join(", ", spec.HiddenLayers)}] on a latent of {latentSize} make {parameters:N0} parameters, more than the {ModelLimits.MaxParameters:N0} allowed (ModelLimits.MaxParameters); use smaller layers.",
                "widths");
        }
    }

    /// <summary>
    /// Validates training defaults given to a builder with <see cref="TrainingOptions.Validate"/> (the one place of
    /// the training rules); the learning rate, weight decay and optimizer are reported under the builder methods'
    /// parameter names (<c>learningRate</c>, <c>weightDecay</c>, <c>optimizer</c>), the rest under the property names.
    /// </summary>
    public static void ValidateTraining(TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Rethrow(options.Validate, p => p switch
        {
            nameof(TrainingOptions.LearningRate) => "learningRate",
            nameof(TrainingOptions.WeightDecay) => "weightDecay",
            nameof(TrainingOptions.Optimizer) => "optimizer",
            _ => p,
        });
    }

    /// <summary>The message of <paramref name="e"/> without the " (Parameter 'x')" suffix .NET appends.</summary>
    public static string RuleMessage(ArgumentException e)
    {
        var message = e.Message;
        var suffix = e.ParamName is null ? null : $" (Parameter '{e.ParamName}')";
        return suffix is not null && message.EndsWith(suffix, StringComparison.Ordinal) ? message[..^suffix.Length] : message;
    }

    /// <summary>
    /// The tensors (weights and buffers) an autoencoder of <paramref name="spec"/> holds: how many, and how many
    /// float32 values in all. Computed from the spec alone, before anything is allocated. <paramref name="spec"/> must
    /// have passed the per-field checks of <see cref="Validate"/> (widths at least 1 and bounded).
    /// </summary>
    public static WeightsLayout Layout(AutoencoderSpec spec)
    {
        var layers = spec.Layers;
        long latent = spec.LatentSize;
        long inputs = spec.InputShape.Aggregate(1L, (a, b) => a * b);
        switch (spec.Kind)
        {
            case AutoencoderKind.Convolutional:
            case AutoencoderKind.ConvolutionalVariational:
            {
                var geometry = ConvolutionalGeometry.Of(spec);
                long channels = geometry.Channels;
                long latentChannels = geometry.LatentChannels;
                var code = Conv(layers[^1], latentChannels);
                var layout = Conv(channels, layers[0]) + code + Conv(latentChannels, layers[^1]) + Conv(layers[0], channels);
                if (spec.Kind == AutoencoderKind.ConvolutionalVariational)
                {
                    layout += code;
                }

                for (var i = 1; i < layers.Length; i++)
                {
                    layout += Conv(layers[i - 1], layers[i]) + Conv(layers[i], layers[i - 1]);
                }

                return layout;
            }

            case AutoencoderKind.Variational:
                return Mlp([inputs, .. layers]) + Linear(layers[^1], latent) + Linear(layers[^1], latent)
                    + Mlp([latent, .. Enumerable.Reverse(layers).Select(w => (long)w), inputs]);
            default:
                return Mlp([inputs, .. layers, latent])
                    + Mlp([latent, .. Enumerable.Reverse(layers).Select(w => (long)w), inputs]);
        }
    }

    /// <summary>The tensors of a classifier head of <paramref name="spec"/> on codes of <paramref name="latentSize"/> values (batch norm adds its running statistics and an int64 step count per hidden layer).</summary>
    public static WeightsLayout ClassifierLayout(ClassifierSpec spec, int latentSize)
    {
        var layout = Mlp([latentSize, .. spec.HiddenLayers.Select(w => (long)w), spec.ClassCount]);
        if (spec.BatchNorm)
        {
            foreach (var width in spec.HiddenLayers)
            {
                // weight, bias, running_mean, running_var (float32) and num_batches_tracked (an int64 scalar: two float32s' worth).
                layout += new WeightsLayout(5, (4L * width) + 2);
            }
        }

        return layout;
    }

    private static WeightsLayout Linear(long inputs, long outputs) => new(2, (inputs * outputs) + outputs);

    private static WeightsLayout Conv(long inputs, long outputs) => new(2, (inputs * outputs * 9) + outputs);

    private static WeightsLayout Mlp(long[] widths)
    {
        var layout = default(WeightsLayout);
        for (var i = 0; i + 1 < widths.Length; i++)
        {
            layout += Linear(widths[i], widths[i + 1]);
        }

        return layout;
    }

    private static void Rethrow(Action validate, Func<string?, string?> parameter)
    {
        try
        {
            validate();
        }
        catch (ArgumentException e)
        {
            var name = parameter(e.ParamName);
            if (name == e.ParamName)
            {
                throw;
            }

            throw new ArgumentException(RuleMessage(e), name, e);
        }
    }

    /// <summary>Creates the concrete model on the CPU; <paramref name="applySeed"/> seeds TorchSharp's generator with the spec's seed first.</summary>
    public static AutoencoderBase Create(AutoencoderSpec spec, TrainingOptions training, bool applySeed)
    {
        return NetworkParts.SeededConstruction<AutoencoderBase>(applySeed ? spec.Seed : null, () => spec.Kind switch
        {
            AutoencoderKind.Dense => new DenseAutoencoder(spec, training),
            AutoencoderKind.Convolutional => new ConvolutionalAutoencoder(spec, training),
            AutoencoderKind.Variational => new VariationalAutoencoder(spec, training),
            AutoencoderKind.ConvolutionalVariational => new ConvolutionalVariationalAutoencoder(spec, training),
            _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.Kind, "Unknown autoencoder kind."),
        });
    }

    private static void CheckEnum<T>(T value, string parameter)
        where T : struct, Enum
    {
        if (!Enum.IsDefined(value))
        {
            throw new ArgumentException($"Unknown {typeof(T).Name} value {value}.", parameter);
        }
    }
}

/// <summary>How many tensors a network holds and how many float32 values (or their equivalent in bytes / 4) they hold in all.</summary>
internal readonly record struct WeightsLayout(int Tensors, long Values)
{
    /// <summary>Most bytes TorchSharp's <c>Module.save</c> writes per tensor besides its data: name, type and shape.</summary>
    public const int MaxBytesPerTensorHeader = 256;

    /// <summary>The fewest bytes a saved state of this layout can take: the tensors' data.</summary>
    public long MinBytes => Values * sizeof(float);

    /// <summary>The most bytes a saved state of this layout can take: data, a header per tensor and the count.</summary>
    public long MaxBytes => MinBytes + 16 + ((long)Tensors * MaxBytesPerTensorHeader);

    public static WeightsLayout operator +(WeightsLayout a, WeightsLayout b) => new(a.Tensors + b.Tensors, a.Values + b.Values);
}
