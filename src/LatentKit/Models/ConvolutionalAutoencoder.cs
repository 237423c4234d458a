using TorchSharp;
using static TorchSharp.torch;

namespace LatentKit;

/// <summary>
/// A convolutional autoencoder with strided convolutions (no pooling), for images of any <c>C x H x W</c>. With
/// encoder channels <c>c1, c2</c> (the reference: 32, 64), a 1 x 28 x 28 input and a latent of 49: encoder
/// Conv(1→c1, 3x3, stride 2) act [14 x 14] → Conv(c1→c2, 3x3, stride 2) act [7 x 7] → Conv(c2→1, 3x3) [7 x 7 x 1 = 49
/// values, linear]; decoder Conv(1→c2, 3x3) act [7 x 7] → ConvTranspose(c2→c1, 3x3, stride 2) act [14 x 14] →
/// ConvTranspose(c1→1, 3x3, stride 2) [28 x 28] → output activation. No layer runs at the full resolution with many
/// channels, which keeps an epoch short on a CPU. Build one with <see cref="LatentKit.Autoencoders.Convolutional"/>.
/// <para>
/// Any size: with <c>k</c> channel entries (k stride-2 layers), an image whose height or width is not a multiple of
/// <c>2^k</c> is zero-padded at the bottom and the right up to the next multiple before the encoder, and the decoder's
/// output is cropped back to <c>H x W</c> (so reconstructions, losses and metrics cover exactly the input's pixels).
/// The code is a map of <see cref="MapHeight"/> x <see cref="MapWidth"/> (padded size / <c>2^k</c>) with
/// <see cref="LatentChannels"/> = <c>LatentSize / (MapHeight * MapWidth)</c> channels; a latent size that is not a
/// whole number of such maps, or an image smaller than <c>2^k</c> on a side, is refused at <c>Build</c>.
/// Example: 3 x 30 x 30 with two entries is padded to 32 x 32, the map is 8 x 8, and a latent of 128 makes 2 channels.
/// </para>
/// </summary>
public sealed class ConvolutionalAutoencoder : AutoencoderBase
{
    private readonly long[] imageShape;
    private readonly ConvolutionalGeometry geometry;
    private readonly nn.Module<Tensor, Tensor> encoder;
    private readonly nn.Module<Tensor, Tensor> decoder;
    private readonly Network network;

    internal ConvolutionalAutoencoder(AutoencoderSpec spec, TrainingOptions defaultTraining)
        : base(spec, defaultTraining)
    {
        var channels = spec.Layers;
        geometry = ConvolutionalGeometry.Of(spec);
        imageShape = [.. spec.InputShape.Select(d => (long)d)];

        // Encoder: every channel entry is a strided 3x3 convolution that halves the side; then a 3x3 convolution at
        // the code map's side makes the code. The decoder mirrors it.
        var enc = new List<(string, nn.Module<Tensor, Tensor>)>();
        ConvolutionalGeometry.AddEncoderBody(enc, geometry.Channels, channels, spec.Activation);
        enc.Add(($"conv{channels.Length + 1}", nn.Conv2d(channels[^1], LatentChannels, 3, stride: 1, padding: 1)));
        if (spec.LatentActivation != Activation.Identity)
        {
            enc.Add(($"{ConvolutionalGeometry.Name(spec.LatentActivation)}{channels.Length + 1}", NetworkParts.Create(spec.LatentActivation)));
        }

        encoder = nn.Sequential(enc.ToArray());
        decoder = ConvolutionalGeometry.Decoder(LatentChannels, geometry.Channels, channels, spec.Activation);
        network = new Network(nameof(ConvolutionalAutoencoder), ("encoder", encoder), ("decoder", decoder));
    }

    /// <summary>Side of the code map when it is square (7 for the reference); the map's height otherwise (see <see cref="MapWidth"/>).</summary>
    public int MapSide => geometry.MapHeight;

    /// <summary>Height of the code map: the padded input height / 2^k.</summary>
    public int MapHeight => geometry.MapHeight;

    /// <summary>Width of the code map: the padded input width / 2^k.</summary>
    public int MapWidth => geometry.MapWidth;

    /// <summary>Channels of the code map (<c>LatentSize / (MapHeight * MapWidth)</c>; 1 for the reference).</summary>
    public int LatentChannels => geometry.LatentChannels;

    /// <inheritdoc />
    public override IReadOnlyList<long> InputShape => imageShape;

    internal override nn.Module Network => network;

    internal override nn.Module<Tensor, Tensor> EncoderLayers => encoder;

    internal override nn.Module<Tensor, Tensor> DecoderLayers => decoder;

    internal override Tensor EncodeCore(Tensor input) => encoder.forward(geometry.Pad(input)).flatten(1);

    internal override Tensor DecodeLogitsCore(Tensor codes) => geometry.Crop(decoder.forward(codes.view(codes.shape[0], LatentChannels, geometry.MapHeight, geometry.MapWidth)));
}
