using System.Globalization;
using LatentKit.Data;
using LatentKit.Models;
using LatentKit.Training;
using TorchSharp;

namespace LatentKit.Building;

/// <summary>Validates architectures and creates the concrete autoencoders (used by the builders and by loading).</summary>
internal static class AutoencoderFactory
{
    /// <summary>Throws an <see cref="ArgumentException"/> naming the builder parameter and the bad value.</summary>
    public static void Validate(AutoencoderSpec spec)
    {
        if (!Enum.IsDefined(spec.Kind))
        {
            throw new ArgumentException($"Unknown autoencoder kind {spec.Kind}.", "kind");
        }

        if (spec.LatentSize <= 0)
        {
            throw new ArgumentException($"The latent size must be at least 1; got {spec.LatentSize}.", "latentSize");
        }

        var layersParameter = spec.Kind == AutoencoderKind.Convolutional ? "channels" : "widths";
        var what = spec.Kind == AutoencoderKind.Convolutional ? "channel count" : "hidden layer width";
        if (spec.Layers is null || spec.Layers.Length == 0)
        {
            throw new ArgumentException(
                spec.Kind == AutoencoderKind.Convolutional
                    ? "A convolutional autoencoder needs at least one encoder channel count (no layers given)."
                    : "An autoencoder needs at least one hidden layer (no layers given).",
                layersParameter);
        }

        for (var i = 0; i < spec.Layers.Length; i++)
        {
            if (spec.Layers[i] <= 0)
            {
                throw new ArgumentException($"Every {what} must be at least 1; entry {i} is {spec.Layers[i]}.", layersParameter);
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

        if (spec.Kind == AutoencoderKind.Convolutional)
        {
            var strided = spec.Layers.Length;
            if (MnistDataset.ImageHeight % (1 << Math.Min(strided, 30)) != 0)
            {
                throw new ArgumentException(
                    $"{strided} encoder channel counts mean {strided} stride-2 convolutions, which take 28 x 28 to a {28.0 / (1 << Math.Min(strided, 30)):0.###}-wide map that the decoder cannot grow back to 28 x 28 by doubling; give 1 or 2 channel counts (maps of 14 x 14 or 7 x 7).",
                    "channels");
            }

            var side = MnistDataset.ImageHeight >> strided;
            if (spec.LatentSize % (side * side) != 0)
            {
                throw new ArgumentException(
                    $"A convolutional latent size of {spec.LatentSize} is not a whole number of {side} x {side} maps ({side * side} values each), so it cannot be a square code map that the decoder grows back to 28 x 28; use a multiple of {side * side}.",
                    "latentSize");
            }
        }
    }

    /// <summary>Validates the learning rate, then the rest of the training defaults.</summary>
    public static void ValidateTraining(TrainingOptions options)
    {
        if (!(options.LearningRate > 0) || double.IsInfinity(options.LearningRate))
        {
            throw new ArgumentException($"The learning rate must be a finite number above 0; got {options.LearningRate.ToString(CultureInfo.InvariantCulture)}.", "learningRate");
        }

        if (!(options.WeightDecay >= 0) || double.IsInfinity(options.WeightDecay))
        {
            throw new ArgumentException($"The weight decay must be a finite number of at least 0; got {options.WeightDecay.ToString(CultureInfo.InvariantCulture)}.", "weightDecay");
        }

        if (!Enum.IsDefined(options.Optimizer))
        {
            throw new ArgumentException($"Unknown optimizer {options.Optimizer}.", "optimizer");
        }

        options.Validate();
    }

    /// <summary>Creates the concrete model on the CPU; <paramref name="applySeed"/> seeds TorchSharp's generator with the spec's seed first.</summary>
    public static AutoencoderBase Create(AutoencoderSpec spec, TrainingOptions training, bool applySeed)
    {
        return NetworkParts.SeededConstruction<AutoencoderBase>(applySeed ? spec.Seed : null, () => spec.Kind switch
        {
            AutoencoderKind.Dense => new DenseAutoencoder(spec, training),
            AutoencoderKind.Convolutional => new ConvolutionalAutoencoder(spec, training),
            AutoencoderKind.Variational => new VariationalAutoencoder(spec, training),
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
