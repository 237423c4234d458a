using TorchSharp;
using static TorchSharp.torch;

namespace LatentKit;

/// <summary>
/// A convolutional variational autoencoder for images of any <c>C x H x W</c>. Encoder body: one strided 3x3
/// convolution per channel entry (each followed by the activation), then two parallel 3x3 convolutions giving the mean
/// and the log-variance code maps (<see cref="LatentChannels"/> x <see cref="MapHeight"/> x <see cref="MapWidth"/>,
/// flattened to <see cref="IAutoencoder.LatentSize"/> values each). Decoder: the convolutional autoencoder's decoder
/// (a 3x3 convolution, then one transposed stride-2 convolution per channel entry). Padding and cropping follow the
/// rule of <see cref="ConvolutionalAutoencoder"/>: zero-pad bottom/right to a multiple of <c>2^k</c>, crop the output
/// back to <c>H x W</c>. The loss is that of <see cref="VariationalAutoencoder"/>: per sample, the summed
/// reconstruction loss plus <see cref="KlWeight"/> times the KL divergence. Encoding, reconstruction and evaluation use
/// the mean. Build one with <see cref="LatentKit.Autoencoders.ConvolutionalVariational"/>.
/// </summary>
public sealed class ConvolutionalVariationalAutoencoder : AutoencoderBase, IVariationalAutoencoder
{
    private readonly long[] imageShape;
    private readonly ConvolutionalGeometry geometry;
    private readonly nn.Module<Tensor, Tensor> encoderBody;
    private readonly nn.Module<Tensor, Tensor> meanLayer;
    private readonly nn.Module<Tensor, Tensor> logVarianceLayer;
    private readonly nn.Module<Tensor, Tensor> decoder;
    private readonly Network network;

    internal ConvolutionalVariationalAutoencoder(AutoencoderSpec spec, TrainingOptions defaultTraining)
        : base(spec, defaultTraining)
    {
        var channels = spec.Layers;
        geometry = ConvolutionalGeometry.Of(spec);
        imageShape = [.. spec.InputShape.Select(d => (long)d)];
        var body = new List<(string, nn.Module<Tensor, Tensor>)>();
        ConvolutionalGeometry.AddEncoderBody(body, geometry.Channels, channels, spec.Activation);
        encoderBody = nn.Sequential(body.ToArray());
        meanLayer = nn.Conv2d(channels[^1], LatentChannels, 3, stride: 1, padding: 1);
        logVarianceLayer = nn.Conv2d(channels[^1], LatentChannels, 3, stride: 1, padding: 1);
        decoder = ConvolutionalGeometry.Decoder(LatentChannels, geometry.Channels, channels, spec.Activation);
        network = new Network(
            nameof(ConvolutionalVariationalAutoencoder),
            ("encoder", encoderBody),
            ("mean", meanLayer),
            ("log_variance", logVarianceLayer),
            ("decoder", decoder));
    }

    /// <inheritdoc />
    public double KlWeight => Spec.KlWeight;

    /// <summary>Height of the code map: the padded input height / 2^k.</summary>
    public int MapHeight => geometry.MapHeight;

    /// <summary>Width of the code map: the padded input width / 2^k.</summary>
    public int MapWidth => geometry.MapWidth;

    /// <summary>Channels of the code map (<c>LatentSize / (MapHeight * MapWidth)</c>).</summary>
    public int LatentChannels => geometry.LatentChannels;

    /// <inheritdoc />
    public override IReadOnlyList<long> InputShape => imageShape;

    internal override nn.Module Network => network;

    internal override nn.Module<Tensor, Tensor> EncoderLayers => encoderBody;

    internal override nn.Module<Tensor, Tensor> DecoderLayers => decoder;

    /// <inheritdoc />
    public (Tensor Mean, Tensor LogVariance) EncodeDistribution(Tensor images)
    {
        ThrowIfDisposed();
        return VariationalParts.EncodeDistribution(this, Distribution, images);
    }

    /// <inheritdoc />
    public Tensor Sample(int count, int seed)
    {
        ThrowIfDisposed();
        return VariationalParts.Sample(this, count, seed);
    }

    internal override Tensor EncodeCore(Tensor input) => Distribution(input).Mean;

    internal override Tensor DecodeLogitsCore(Tensor codes) =>
        geometry.Crop(decoder.forward(codes.view(codes.shape[0], LatentChannels, geometry.MapHeight, geometry.MapWidth)));

    internal override (Tensor Logits, double KlSum) EvaluateBatch(Tensor input) => VariationalParts.EvaluateBatch(this, Distribution, input);

    internal override Tensor ComputeLoss(Tensor inputs, Generator? noise, Tensor? figureSums) => VariationalParts.Loss(this, Distribution, inputs, noise, figureSums);

    private (Tensor Mean, Tensor LogVariance) Distribution(Tensor input)
    {
        var hidden = encoderBody.forward(geometry.Pad(input));
        return (meanLayer.forward(hidden).flatten(1), logVarianceLayer.forward(hidden).flatten(1));
    }
}
