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

    /// <summary>An autoencoder on encoder and decoder modules written by the user (<see cref="CustomAutoencoder"/>).</summary>
    Custom,

    /// <summary>A variational autoencoder on encoder and decoder modules written by the user (<see cref="CustomVariationalAutoencoder"/>).</summary>
    CustomVariational,
}

/// <summary>Everything needed to rebuild an autoencoder's network; stored in the manifest of a saved model.</summary>
internal sealed record AutoencoderSpec
{
    public AutoencoderKind Kind { get; init; }

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
