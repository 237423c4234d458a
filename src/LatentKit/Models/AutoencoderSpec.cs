using System.Text.Json.Serialization;

namespace LatentKit;

/// <summary>The kinds of autoencoder LatentKit builds.</summary>
public enum AutoencoderKind
{
    /// <summary>Fully connected encoder and decoder (<see cref="DenseAutoencoder"/>).</summary>
    Dense,

    /// <summary>Convolutional encoder and transposed-convolutional decoder (<see cref="ConvolutionalAutoencoder"/>).</summary>
    Convolutional,

    /// <summary>Fully connected variational autoencoder (<see cref="VariationalAutoencoder"/>).</summary>
    Variational,

    /// <summary>Convolutional variational autoencoder (<see cref="ConvolutionalVariationalAutoencoder"/>).</summary>
    ConvolutionalVariational,

    /// <summary>An autoencoder on encoder and decoder modules written by the user (<see cref="CustomAutoencoder"/>).</summary>
    Custom,

    /// <summary>A variational autoencoder on encoder and decoder modules written by the user (<see cref="CustomVariationalAutoencoder"/>).</summary>
    CustomVariational,
}

/// <summary>Everything needed to rebuild an autoencoder's network; stored in the manifest of a saved model.</summary>
internal sealed record AutoencoderSpec
{
    public AutoencoderKind Kind { get; init; }

    /// <summary>The shape of one sample: <c>[C, H, W]</c> for images, <c>[F]</c> for feature vectors (files of format 1 lack it: 1 x 28 x 28).</summary>
    public int[] InputShape { get; init; } = [1, MnistDataset.ImageHeight, MnistDataset.ImageWidth];

    /// <summary>The standardizer's per-feature means (<see langword="null"/>: no standardisation).</summary>
    public float[]? StandardizerMean { get; init; }

    /// <summary>The standardizer's per-feature standard deviations (<see langword="null"/>: no standardisation).</summary>
    public float[]? StandardizerStd { get; init; }

    /// <summary>True for the kinds built from convolutions (which need an image shape <c>[C, H, W]</c>).</summary>
    [JsonIgnore]
    public bool IsConvolutional => Kind is AutoencoderKind.Convolutional or AutoencoderKind.ConvolutionalVariational;

    /// <summary>Values per sample (the product of <see cref="InputShape"/>).</summary>
    [JsonIgnore]
    public int InputSize => InputShape.Aggregate(1, (a, b) => a * b);

    public int LatentSize { get; init; }

    /// <summary>Hidden widths (dense, variational) or encoder channels (convolutional), from the input side.</summary>
    public int[] Layers { get; init; } = [];

    public Activation Activation { get; init; } = Activation.ReLU;

    public Activation LatentActivation { get; init; } = Activation.Identity;

    public OutputActivation OutputActivation { get; init; } = OutputActivation.Sigmoid;

    public ReconstructionLoss Loss { get; init; } = ReconstructionLoss.BinaryCrossEntropy;

    public double KlWeight { get; init; } = 1.0;

    public int? Seed { get; init; }

    /// <summary>Denoising: standard deviation of the Gaussian noise added to training inputs (0: none).</summary>
    public double DenoisingNoiseStd { get; init; }

    /// <summary>Denoising: fraction of training input pixels set to 0 (0: none).</summary>
    public double DenoisingMaskFraction { get; init; }
}
