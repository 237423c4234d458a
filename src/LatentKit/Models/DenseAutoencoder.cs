using TorchSharp;
using static TorchSharp.torch;

namespace LatentKit;

/// <summary>
/// A fully connected autoencoder for samples of any shape, flattened to their <c>n</c> values (784 for MNIST, 3072 for
/// 3 x 32 x 32 colour images, the width of a feature vector). Encoder: n → hidden widths (each followed by the activation) → latent (linear
/// unless a latent activation is set). Decoder: the mirror, latent → hidden widths reversed (each followed by the
/// activation) → n → output activation. The reference scenarios 1 and 3 use hidden widths 256, 128 and a latent
/// of 49: three learned layers in the encoder and three in the decoder. Build one with
/// <see cref="LatentKit.Autoencoders.Dense"/>.
/// </summary>
public sealed class DenseAutoencoder : AutoencoderBase
{
    private readonly long[] flatShape;
    private readonly nn.Module<Tensor, Tensor> encoder;
    private readonly nn.Module<Tensor, Tensor> decoder;
    private readonly Network network;

    internal DenseAutoencoder(AutoencoderSpec spec, TrainingOptions defaultTraining)
        : base(spec, defaultTraining)
    {
        flatShape = [spec.InputSize];
        int[] encoderWidths = [spec.InputSize, .. spec.Layers, spec.LatentSize];
        int[] decoderWidths = [spec.LatentSize, .. Enumerable.Reverse(spec.Layers), spec.InputSize];
        encoder = NetworkParts.Mlp(encoderWidths, spec.Activation, spec.LatentActivation);
        decoder = NetworkParts.Mlp(decoderWidths, spec.Activation, Activation.Identity);
        network = new Network(nameof(DenseAutoencoder), ("encoder", encoder), ("decoder", decoder));
    }

    /// <inheritdoc />
    public override IReadOnlyList<long> InputShape => flatShape;

    internal override nn.Module Network => network;

    internal override nn.Module<Tensor, Tensor> EncoderLayers => encoder;

    internal override nn.Module<Tensor, Tensor> DecoderLayers => decoder;

    internal override Tensor EncodeCore(Tensor input) => encoder.forward(input);

    internal override Tensor DecodeLogitsCore(Tensor codes) => decoder.forward(codes);
}
