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
    /// <summary>
    /// Throws a <see cref="LatentKitValidationException"/> listing every invalid builder parameter with its value;
    /// allocates nothing. Checks that need valid fields (the convolutional shape rules, the parameter count) run only
    /// when those fields passed.
    /// </summary>
    public static void Validate(AutoencoderSpec spec)
    {
        var errors = new ValidationErrors();
        Collect(errors, spec);
        errors.ThrowIfAny();
    }

    /// <summary>The input shape: <c>[F]</c> or <c>[C, H, W]</c>, every dimension at least 1, at most <see cref="ModelLimits.MaxInputSize"/> values and <see cref="ModelLimits.MaxChannels"/> channels. True when it passed.</summary>
    private static bool CollectInputShape(ValidationErrors errors, AutoencoderSpec spec)
    {
        var shape = spec.InputShape;
        var text = $"[{string.Join(", ", shape ?? [])}]";
        if (shape is null || (shape.Length != 1 && shape.Length != 3))
        {
            var values = shape?.Aggregate(1L, (a, b) => Math.Min(a * b, long.MaxValue / 1_000_000)) ?? 0;
            var hint = shape is not { Length: > 0 } ? string.Empty
                : spec.IsConvolutional && shape.Length == 2 ? $" For one-channel images of {shape[0]} x {shape[1]} give [1, {shape[0]}, {shape[1]}] (the dataset's sample shape too)."
                : spec.IsConvolutional ? string.Empty
                : $" A dense or variational autoencoder takes such samples as [{values}] (ForData(dataset) does this).";
            errors.Add("shape", text, $"The input shape must be [features] or [channels, height, width]; got {text}.{hint}");
            return false;
        }

        if (Array.Exists(shape, d => d <= 0))
        {
            errors.Add("shape", text, $"Every dimension of the input shape must be at least 1; got {text}.");
            return false;
        }

        var size = shape.Aggregate(1L, (a, b) => Math.Min(a * b, long.MaxValue / 1_000_000));
        if (size > ModelLimits.MaxInputSize)
        {
            errors.Add("shape", text, $"An input of shape {text} has {size:N0} values per sample, more than the {ModelLimits.MaxInputSize:N0} allowed (ModelLimits.MaxInputSize).");
            return false;
        }

        if (shape.Length == 3 && shape[0] > ModelLimits.MaxChannels)
        {
            errors.Add("shape", text, $"An input of shape {text} has {shape[0]} channels, more than the {ModelLimits.MaxChannels} allowed (ModelLimits.MaxChannels).");
            return false;
        }

        return true;
    }

    /// <summary>The standardizer (both arrays or neither) follows <see cref="FeatureStandardizer"/>'s rule, fits the input size, and is not paired with BCE. Needs a valid input shape.</summary>
    private static void CollectStandardizer(ValidationErrors errors, AutoencoderSpec spec)
    {
        if (spec.StandardizerMean is null && spec.StandardizerStd is null)
        {
            return;
        }

        var count = spec.StandardizerMean?.Length ?? 0;
        if (spec.StandardizerMean is null || spec.StandardizerStd is null)
        {
            errors.Add("standardizer", "incomplete", "A standardizer needs both its means and its standard deviations; one of them is missing.");
            return;
        }

        if (count > ModelLimits.MaxStandardizedFeatures)
        {
            errors.Add("standardizer", $"{count} features", $"A standardizer of {count} features is more than the {ModelLimits.MaxStandardizedFeatures} a model carries (ModelLimits.MaxStandardizedFeatures).");
            return;
        }

        try
        {
            FeatureStandardizer.Validate(spec.StandardizerMean, spec.StandardizerStd, "standardizer", "standardizer");
        }
        catch (ArgumentException e)
        {
            errors.Add("standardizer", $"{count} features", RuleMessage(e));
            return;
        }

        if (count != spec.InputSize)
        {
            errors.Add("standardizer", $"{count} features", $"The standardizer was fitted on {count} features, but the input shape [{string.Join(", ", spec.InputShape)}] has {spec.InputSize} values per sample.");
        }

        if (spec.Loss == ReconstructionLoss.BinaryCrossEntropy)
        {
            errors.Add("loss", spec.Loss, "Standardised inputs are not in [0, 1], so binary cross-entropy does not apply; use WithOutputActivation(OutputActivation.Identity) and WithLoss(ReconstructionLoss.MeanSquaredError).");
        }
    }

    /// <summary>
    /// Throws a <see cref="LatentKitValidationException"/> listing every invalid architecture parameter and training
    /// default at once (<see cref="Validate"/> and <see cref="ValidateTraining"/> together): what a builder's <c>Build</c> checks.
    /// </summary>
    public static void ValidateWithTraining(AutoencoderSpec spec, TrainingOptions training)
    {
        var errors = new ValidationErrors();
        Collect(errors, spec);
        CollectTraining(errors, training);
        errors.ThrowIfAny();
    }

    /// <summary>
    /// Throws a <see cref="LatentKitValidationException"/> listing every invalid classifier builder parameter with
    /// its value, for a head on codes of <paramref name="latentSize"/> values; allocates nothing.
    /// </summary>
    public static void ValidateClassifier(ClassifierSpec spec, int latentSize)
    {
        var errors = new ValidationErrors();
        CollectClassifier(errors, spec, latentSize);
        errors.ThrowIfAny();
    }

    /// <summary>Every invalid classifier parameter and training default at once: what the classifier builder's <c>Build</c> checks.</summary>
    public static void ValidateClassifierWithTraining(ClassifierSpec spec, int latentSize, TrainingOptions training)
    {
        var errors = new ValidationErrors();
        CollectClassifier(errors, spec, latentSize);
        CollectTraining(errors, training);
        errors.ThrowIfAny();
    }

    /// <summary>
    /// Validates training defaults given to a builder with <see cref="TrainingOptions.Validate"/> (the one place of
    /// the training rules); the learning rate, weight decay and optimizer are reported under the builder methods'
    /// parameter names (<c>learningRate</c>, <c>weightDecay</c>, <c>optimizer</c>), the rest under the property names.
    /// </summary>
    public static void ValidateTraining(TrainingOptions options)
    {
        var errors = new ValidationErrors();
        CollectTraining(errors, options);
        errors.ThrowIfAny();
    }

    private static void CollectTraining(ValidationErrors errors, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        errors.AddFrom(options.Validate, p => p switch
        {
            nameof(TrainingOptions.LearningRate) => "learningRate",
            nameof(TrainingOptions.WeightDecay) => "weightDecay",
            nameof(TrainingOptions.Optimizer) => "optimizer",
            _ => p,
        });
    }

    private static void Collect(ValidationErrors errors, AutoencoderSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Kind is AutoencoderKind.Custom or AutoencoderKind.CustomVariational)
        {
            // The user's modules are the architecture (checked by CustomNetwork.Check); every other field follows the
            // same rules as a built-in model's, checked here on a stand-in dense spec with one tiny hidden layer.
            Collect(errors, spec with { Kind = AutoencoderKind.Dense, Layers = [1] });
            return;
        }

        if (!Enum.IsDefined(spec.Kind))
        {
            errors.Add("kind", spec.Kind, $"Unknown autoencoder kind {spec.Kind}.");
        }

        var latentOk = false;
        if (spec.LatentSize <= 0)
        {
            errors.Add("latentSize", spec.LatentSize, $"The latent size must be at least 1; got {spec.LatentSize}.");
        }
        else if (spec.LatentSize > ModelLimits.MaxLatentSize)
        {
            errors.Add("latentSize", spec.LatentSize, $"The latent size must be at most {ModelLimits.MaxLatentSize} (ModelLimits.MaxLatentSize); got {spec.LatentSize}.");
        }
        else
        {
            latentOk = true;
        }

        var shapeOk = CollectInputShape(errors, spec);
        var convolutional = spec.IsConvolutional;
        var layersParameter = convolutional ? "channels" : "widths";
        var what = convolutional ? "channel count" : "hidden layer width";
        var maxWidth = convolutional ? ModelLimits.MaxChannels : ModelLimits.MaxLayerWidth;
        var maxWidthName = convolutional ? nameof(ModelLimits.MaxChannels) : nameof(ModelLimits.MaxLayerWidth);
        var layersOk = CollectWidths(errors, spec.Layers, layersParameter, what, maxWidth, maxWidthName, convolutional
            ? "A convolutional autoencoder needs at least one encoder channel count (no layers given)."
            : "An autoencoder needs at least one hidden layer (no layers given).");

        CheckEnum(errors, spec.Activation, "activation");
        CheckEnum(errors, spec.LatentActivation, "latentActivation");
        CheckEnum(errors, spec.OutputActivation, "outputActivation");
        CheckEnum(errors, spec.Loss, "loss");
        if (spec.Loss == ReconstructionLoss.BinaryCrossEntropy && spec.OutputActivation != OutputActivation.Sigmoid && Enum.IsDefined(spec.OutputActivation))
        {
            errors.Add("outputActivation", spec.OutputActivation, $"Binary cross-entropy needs a sigmoid output activation (pixels in (0, 1)); got {spec.OutputActivation}. Use OutputActivation.Sigmoid or ReconstructionLoss.MeanSquaredError.");
        }

        if (!(spec.KlWeight >= 0) || double.IsInfinity(spec.KlWeight))
        {
            errors.Add("klWeight", spec.KlWeight, $"The KL weight must be a finite number of at least 0; got {spec.KlWeight.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (!(spec.DenoisingNoiseStd >= 0 && spec.DenoisingNoiseStd <= 1))
        {
            errors.Add("noiseStd", spec.DenoisingNoiseStd, $"The denoising noise standard deviation must be in [0, 1]; got {spec.DenoisingNoiseStd.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (!(spec.DenoisingMaskFraction >= 0 && spec.DenoisingMaskFraction < 1))
        {
            errors.Add("maskFraction", spec.DenoisingMaskFraction, $"The denoising mask fraction must be in [0, 1); got {spec.DenoisingMaskFraction.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (!layersOk || !latentOk || !shapeOk || !Enum.IsDefined(spec.Kind))
        {
            return;
        }

        CollectStandardizer(errors, spec);

        if (convolutional && ConvolutionalGeometry.Problem(spec.InputShape, spec.Layers.Length, spec.LatentSize) is { } problem)
        {
            errors.Add(problem.Parameter, problem.Parameter == "shape" ? $"[{string.Join(", ", spec.InputShape)}]" : spec.LatentSize, problem.Message);
            return;
        }

        var parameters = Layout(spec).Values;
        if (parameters > ModelLimits.MaxParameters)
        {
            errors.Add(
                layersParameter,
                $"[{string.Join(", ", spec.Layers)}]",
                $"Latent size {spec.LatentSize} with {(convolutional ? "channels" : "hidden widths")} [{string.Join(", ", spec.Layers)}] makes {parameters:N0} parameters, more than the {ModelLimits.MaxParameters:N0} allowed (ModelLimits.MaxParameters); use smaller layers.");
        }
    }

    /// <summary>Checks a list of layer widths (present, not too many, each in range; the first bad entry is reported). True when all passed.</summary>
    private static bool CollectWidths(ValidationErrors errors, int[]? layers, string parameter, string what, int maxWidth, string maxWidthName, string noLayers)
    {
        if (layers is null || layers.Length == 0)
        {
            errors.Add(parameter, "[]", noLayers);
            return false;
        }

        if (layers.Length > ModelLimits.MaxHiddenLayers)
        {
            errors.Add(parameter, $"{layers.Length} layers", $"At most {ModelLimits.MaxHiddenLayers} layers are allowed (ModelLimits.MaxHiddenLayers); got {layers.Length}.");
            return false;
        }

        for (var i = 0; i < layers.Length; i++)
        {
            if (layers[i] <= 0)
            {
                errors.Add(parameter, layers[i], $"Every {what} must be at least 1; entry {i} is {layers[i]}.");
                return false;
            }

            if (layers[i] > maxWidth)
            {
                errors.Add(parameter, layers[i], $"Every {what} must be at most {maxWidth} (ModelLimits.{maxWidthName}); entry {i} is {layers[i]}.");
                return false;
            }
        }

        return true;
    }

    private static void CollectClassifier(ValidationErrors errors, ClassifierSpec spec, int latentSize)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!Enum.IsDefined(spec.Head))
        {
            errors.Add("head", spec.Head, $"Unknown classifier head {spec.Head}.");
        }

        var layersOk = CollectWidths(errors, spec.HiddenLayers, "widths", "hidden layer width", ModelLimits.MaxLayerWidth, nameof(ModelLimits.MaxLayerWidth), "A latent classifier needs at least one hidden layer (no layers given).");
        CheckEnum(errors, spec.Activation, "activation");
        if (spec.ClassCount < 2 || spec.ClassCount > Dataset.MaxClassCount)
        {
            errors.Add("classCount", spec.ClassCount, $"A classifier needs 2 to {Dataset.MaxClassCount} classes; got {spec.ClassCount}.");
        }
        else if (spec.ClassNames is { } names)
        {
            if (names.Length != spec.ClassCount)
            {
                errors.Add("classNames", $"{names.Length} names", $"A classifier of {spec.ClassCount} classes needs {spec.ClassCount} class names; got {names.Length}.");
            }
            else
            {
                var seen = new HashSet<string>(StringComparer.Ordinal);
                for (var i = 0; i < names.Length; i++)
                {
                    if (string.IsNullOrWhiteSpace(names[i]) || !seen.Add(names[i]))
                    {
                        errors.Add("classNames", names[i], $"Every class name must be non-empty and distinct; name {i} is {(names[i] is null ? "missing" : $"'{names[i]}'")}.");
                        break;
                    }
                }
            }
        }

        if (!(spec.Dropout >= 0 && spec.Dropout < 1))
        {
            errors.Add("probability", spec.Dropout, $"The dropout probability must be in [0, 1); got {spec.Dropout.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (spec.EncoderLearningRate is { } encoderRate)
        {
            // The encoder's learning rate follows the one learning-rate rule of TrainingOptions.
            errors.AddFrom(() => new TrainingOptions { LearningRate = encoderRate }.Validate(), p => p == nameof(TrainingOptions.LearningRate) ? "encoderLearningRate" : p);
        }

        if (!layersOk || spec.ClassCount < 2 || spec.ClassCount > Dataset.MaxClassCount)
        {
            return;
        }

        var parameters = ClassifierLayout(spec, latentSize).Values;
        if (parameters > ModelLimits.MaxParameters)
        {
            errors.Add(
                "widths",
                $"[{string.Join(", ", spec.HiddenLayers)}]",
                $"Hidden widths [{string.Join(", ", spec.HiddenLayers)}] on a latent of {latentSize} make {parameters:N0} parameters, more than the {ModelLimits.MaxParameters:N0} allowed (ModelLimits.MaxParameters); use smaller layers.");
        }
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

    /// <summary>Creates the concrete model on the CPU; <paramref name="applySeed"/> seeds TorchSharp's generator with the spec's seed first.</summary>
    public static AutoencoderBase Create(AutoencoderSpec spec, TrainingOptions training, bool applySeed)
    {
        return NetworkParts.SeededConstruction<AutoencoderBase>(applySeed ? spec.Seed : null, () => spec.Kind switch
        {
            AutoencoderKind.Dense => new DenseAutoencoder(spec, training),
            AutoencoderKind.Convolutional => new ConvolutionalAutoencoder(spec, training),
            AutoencoderKind.Variational => new VariationalAutoencoder(spec, training),
            AutoencoderKind.ConvolutionalVariational => new ConvolutionalVariationalAutoencoder(spec, training),
            AutoencoderKind.Custom or AutoencoderKind.CustomVariational => throw new NotSupportedException("A custom autoencoder cannot be rebuilt or copied by LatentKit (its modules are the user's): fine-tuning needs a built-in autoencoder, and loading needs AutoencoderFile.LoadCustom with freshly built modules."),
            _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.Kind, "Unknown autoencoder kind."),
        });
    }

    private static void CheckEnum<T>(ValidationErrors errors, T value, string parameter)
        where T : struct, Enum
    {
        if (!Enum.IsDefined(value))
        {
            errors.Add(parameter, value, $"Unknown {typeof(T).Name} value {value}.");
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
