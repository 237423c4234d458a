using LatentKit.Data;
using LatentKit.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentKit.Models;

/// <summary>
/// A convolutional autoencoder with strided convolutions (no pooling). With encoder channels <c>c1, c2</c> (the
/// reference: 16, 32) and a latent of 49: encoder Conv(1→c1, 3x3, stride 1) act [28 x 28] → Conv(c1→c2, 3x3,
/// stride 2) act [14 x 14] → Conv(c2→1, 3x3, stride 2) [7 x 7 x 1 = 49 values, linear]; decoder
/// ConvTranspose(1→c2, 3x3, stride 2) act [14 x 14] → ConvTranspose(c2→c1, 3x3, stride 2) act [28 x 28] →
/// Conv(c1→1, 3x3) → output activation. Each strided layer halves the side, so the code is a map of side 28 / 2^k
/// (k = number of channel entries, 1 or 2) with <c>LatentSize / side²</c> channels. Build one with
/// <see cref="Building.Autoencoders.Convolutional"/>.
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

        var enc = new List<(string, nn.Module<Tensor, Tensor>)>
        {
            ("conv1", nn.Conv2d(1, channels[0], 3, stride: 1, padding: 1)),
            ($"{Name(spec.Activation)}1", NetworkParts.Create(spec.Activation)),
        };
        for (var i = 1; i < channels.Length; i++)
        {
            enc.Add(($"conv{i + 1}", nn.Conv2d(channels[i - 1], channels[i], 3, stride: 2, padding: 1)));
            enc.Add(($"{Name(spec.Activation)}{i + 1}", NetworkParts.Create(spec.Activation)));
        }

        enc.Add(($"conv{channels.Length + 1}", nn.Conv2d(channels[^1], LatentChannels, 3, stride: 2, padding: 1)));
        if (spec.LatentActivation != Activation.Identity)
        {
            enc.Add(($"{Name(spec.LatentActivation)}{channels.Length + 1}", NetworkParts.Create(spec.LatentActivation)));
        }

        var dec = new List<(string, nn.Module<Tensor, Tensor>)>
        {
            ("deconv1", nn.ConvTranspose2d(LatentChannels, channels[^1], 3, stride: 2, padding: 1, output_padding: 1)),
            ($"{Name(spec.Activation)}1", NetworkParts.Create(spec.Activation)),
        };
        for (var i = channels.Length - 1; i >= 1; i--)
        {
            var n = channels.Length - i + 1;
            dec.Add(($"deconv{n}", nn.ConvTranspose2d(channels[i], channels[i - 1], 3, stride: 2, padding: 1, output_padding: 1)));
            dec.Add(($"{Name(spec.Activation)}{n}", NetworkParts.Create(spec.Activation)));
        }

        dec.Add(("conv_out", nn.Conv2d(channels[0], 1, 3, stride: 1, padding: 1)));

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
