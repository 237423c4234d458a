using TorchSharp;
using static TorchSharp.torch;

namespace LatentKit;

/// <summary>
/// A convolutional autoencoder with strided convolutions (no pooling). With encoder channels <c>c1, c2</c> (the
/// reference: 32, 64) and a latent of 49: encoder Conv(1→c1, 3x3, stride 2) act [14 x 14] → Conv(c1→c2, 3x3,
/// stride 2) act [7 x 7] → Conv(c2→1, 3x3) [7 x 7 x 1 = 49 values, linear]; decoder Conv(1→c2, 3x3) act [7 x 7] →
/// ConvTranspose(c2→c1, 3x3, stride 2) act [14 x 14] → ConvTranspose(c1→1, 3x3, stride 2) [28 x 28] → output
/// activation. Each strided layer halves the side, so the code is a map of side 28 / 2^k (k = number of channel
/// entries, 1 or 2) with <c>LatentSize / side²</c> channels. No layer runs at the full 28 x 28 resolution with many
/// channels, which keeps an epoch short on a CPU. Build one with
/// <see cref="LatentKit.Autoencoders.Convolutional"/>.
/// </summary>
public sealed class ConvolutionalAutoencoder : AutoencoderBase
{
    private static readonly long[] ImageShape = [1, MnistDataset.ImageHeight, MnistDataset.ImageWidth];
    private readonly nn.Module<Tensor, Tensor> encoder;
    private readonly nn.Module<Tensor, Tensor> decoder;
    private readonly Network network;

    internal ConvolutionalAutoencoder(AutoencoderSpec spec, TrainingOptions defaultTraining)
        : base(spec, defaultTraining)
    {
        var channels = spec.Layers;
        MapSide = MnistDataset.ImageHeight >> channels.Length;
        LatentChannels = spec.LatentSize / (MapSide * MapSide);

        // Encoder: every channel entry is a strided 3x3 convolution that halves the side; then a 3x3 convolution at
        // the code map's side makes the code. The decoder mirrors it: a 3x3 convolution from the code, then one
        // strided transposed convolution per channel entry that doubles the side, the last one giving the image.
        var enc = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (var i = 0; i < channels.Length; i++)
        {
            enc.Add(($"conv{i + 1}", nn.Conv2d(i == 0 ? 1 : channels[i - 1], channels[i], 3, stride: 2, padding: 1)));
            enc.Add(($"{Name(spec.Activation)}{i + 1}", NetworkParts.Create(spec.Activation)));
        }

        enc.Add(($"conv{channels.Length + 1}", nn.Conv2d(channels[^1], LatentChannels, 3, stride: 1, padding: 1)));
        if (spec.LatentActivation != Activation.Identity)
        {
            enc.Add(($"{Name(spec.LatentActivation)}{channels.Length + 1}", NetworkParts.Create(spec.LatentActivation)));
        }

        var dec = new List<(string, nn.Module<Tensor, Tensor>)>
        {
            ("conv_in", nn.Conv2d(LatentChannels, channels[^1], 3, stride: 1, padding: 1)),
            ($"{Name(spec.Activation)}1", NetworkParts.Create(spec.Activation)),
        };
        for (var i = channels.Length - 1; i >= 0; i--)
        {
            var n = channels.Length - i;
            dec.Add(($"deconv{n}", nn.ConvTranspose2d(channels[i], i == 0 ? 1 : channels[i - 1], 3, stride: 2, padding: 1, output_padding: 1)));
            if (i > 0)
            {
                dec.Add(($"{Name(spec.Activation)}{n + 1}", NetworkParts.Create(spec.Activation)));
            }
        }

        encoder = nn.Sequential(enc.ToArray());
        decoder = nn.Sequential(dec.ToArray());
        network = new Network(nameof(ConvolutionalAutoencoder), ("encoder", encoder), ("decoder", decoder));
    }

    /// <summary>Side of the square code map (7 for the reference).</summary>
    public int MapSide { get; }

    /// <summary>Channels of the code map (<c>LatentSize / MapSide²</c>; 1 for the reference).</summary>
    public int LatentChannels { get; }

    /// <inheritdoc />
    public override IReadOnlyList<long> InputShape => ImageShape;

    internal override nn.Module Network => network;

    internal override nn.Module<Tensor, Tensor> EncoderLayers => encoder;

    internal override nn.Module<Tensor, Tensor> DecoderLayers => decoder;

    internal override Tensor EncodeCore(Tensor input) => encoder.forward(input).flatten(1);

    internal override Tensor DecodeLogitsCore(Tensor codes) => decoder.forward(codes.view(codes.shape[0], LatentChannels, MapSide, MapSide));

    private static string Name(Activation activation) => activation.ToString().ToLowerInvariant();
}
