using TorchSharp;
using static TorchSharp.torch;

namespace LatentKit;

/// <summary>
/// A fully connected autoencoder. Encoder: 784 → hidden widths (each followed by the activation) → latent (linear
/// unless a latent activation is set). Decoder: the mirror, latent → hidden widths reversed (each followed by the
/// activation) → 784 → output activation. The reference scenarios 1 and 3 use hidden widths 256, 128 and a latent
/// of 49: three learned layers in the encoder and three in the decoder. Build one with
/// <see cref="LatentKit.Autoencoders.Dense"/>.
/// </summary>
public sealed class DenseAutoencoder : AutoencoderBase
{
    private static readonly long[] FlatShape = [MnistDataset.PixelsPerImage];
    private readonly nn.Module<Tensor, Tensor> encoder;
    private readonly nn.Module<Tensor, Tensor> decoder;
    private readonly Network network;

    internal DenseAutoencoder(AutoencoderSpec spec, TrainingOptions defaultTraining)
        : base(spec, defaultTraining)
    {
        int[] encoderWidths = [MnistDataset.PixelsPerImage, .. spec.Layers, spec.LatentSize];
        int[] decoderWidths = [spec.LatentSize, .. Enumerable.Reverse(spec.Layers), MnistDataset.PixelsPerImage];
        encoder = NetworkParts.Mlp(encoderWidths, spec.Activation, spec.LatentActivation);
        decoder = NetworkParts.Mlp(decoderWidths, spec.Activation, Activation.Identity);
        network = new Network(nameof(DenseAutoencoder), ("encoder", encoder), ("decoder", decoder));
    }

    /// <inheritdoc />
    public override IReadOnlyList<long> InputShape => FlatShape;

    internal override nn.Module Network => network;

    internal override nn.Module<Tensor, Tensor> EncoderLayers => encoder;

    internal override nn.Module<Tensor, Tensor> DecoderLayers => decoder;

    internal override Tensor EncodeCore(Tensor input) => encoder.forward(input);

    internal override Tensor DecodeLogitsCore(Tensor codes) => decoder.forward(codes);
}
