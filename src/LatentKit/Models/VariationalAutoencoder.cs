using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace LatentKit;

/// <summary>
/// A fully connected variational autoencoder. Encoder: 784 → hidden widths (each followed by the activation), then
/// two parallel linear layers giving the mean and the log-variance of a Gaussian over latent codes (the reference
/// scenario 4: 784 → 256 → 128 → (mean 49, log-variance 49), three learned layers). Decoder: latent → hidden widths
/// reversed → 784 → sigmoid. Training minimises, per image, the summed binary cross-entropy over the 784 pixels plus
/// <see cref="KlWeight"/> times the KL divergence from the standard normal prior, with the reparameterisation trick;
/// <see cref="AutoencoderBase.Evaluate"/> reports the per-pixel BCE and the KL per image separately.
/// <see cref="IAutoencoder.Encode"/>, <see cref="IAutoencoder.Reconstruct"/> and evaluation use the mean (no sampling).
/// Build one with <see cref="LatentKit.Autoencoders.Variational"/>.
/// </summary>
public sealed class VariationalAutoencoder : AutoencoderBase, IVariationalAutoencoder
{
    private static readonly long[] FlatShape = [MnistDataset.PixelsPerImage];
    private readonly nn.Module<Tensor, Tensor> encoderBody;
    private readonly nn.Module<Tensor, Tensor> meanLayer;
    private readonly nn.Module<Tensor, Tensor> logVarianceLayer;
    private readonly nn.Module<Tensor, Tensor> decoder;
    private readonly Network network;

    internal VariationalAutoencoder(AutoencoderSpec spec, TrainingOptions defaultTraining)
        : base(spec, defaultTraining)
    {
        int[] bodyWidths = [MnistDataset.PixelsPerImage, .. spec.Layers];
        int[] decoderWidths = [spec.LatentSize, .. Enumerable.Reverse(spec.Layers), MnistDataset.PixelsPerImage];
        encoderBody = NetworkParts.Mlp(bodyWidths, spec.Activation, spec.Activation);
        meanLayer = nn.Linear(spec.Layers[^1], spec.LatentSize);
        logVarianceLayer = nn.Linear(spec.Layers[^1], spec.LatentSize);
        decoder = NetworkParts.Mlp(decoderWidths, spec.Activation, Activation.Identity);
        network = new Network(
            nameof(VariationalAutoencoder),
            ("encoder", encoderBody),
            ("mean", meanLayer),
            ("log_variance", logVarianceLayer),
            ("decoder", decoder));
    }

    /// <inheritdoc />
    public double KlWeight => Spec.KlWeight;

    /// <inheritdoc />
    public override IReadOnlyList<long> InputShape => FlatShape;

    internal override nn.Module Network => network;

    internal override nn.Module<Tensor, Tensor> EncoderLayers => encoderBody;

    /// <summary>The layer giving the mean of the latent distribution.</summary>
    internal nn.Module<Tensor, Tensor> MeanLayer => meanLayer;

    /// <summary>The layer giving the log-variance of the latent distribution.</summary>
    internal nn.Module<Tensor, Tensor> LogVarianceLayer => logVarianceLayer;

    internal override nn.Module<Tensor, Tensor> DecoderLayers => decoder;

    /// <inheritdoc />
    public (Tensor Mean, Tensor LogVariance) EncodeDistribution(Tensor images)
    {
        ThrowIfDisposed();
        using var use = Guard.EnterUse();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Network.eval();
        var hidden = encoderBody.forward(ToNetworkInput(images, nameof(images)));
        return (meanLayer.forward(hidden).MoveToOuterDisposeScope(), logVarianceLayer.forward(hidden).MoveToOuterDisposeScope());
    }

    /// <inheritdoc />
    public Tensor Sample(int count, int seed)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        var codes = randn([count, LatentSize], generator: generator);
        return Decode(codes).MoveToOuterDisposeScope();
    }

    internal override Tensor EncodeCore(Tensor input) => meanLayer.forward(encoderBody.forward(input));

    internal override Tensor DecodeLogitsCore(Tensor codes) => decoder.forward(codes);

    internal override (Tensor Logits, double KlSum) EvaluateBatch(Tensor input)
    {
        var hidden = encoderBody.forward(input);
        var mean = meanLayer.forward(hidden);
        var logVariance = logVarianceLayer.forward(hidden);
        return (decoder.forward(mean), KlPerImage(mean, logVariance).sum().item<float>());
    }

    internal override Tensor ComputeLoss(Tensor inputs, Generator? noise)
    {
        var hidden = encoderBody.forward(Corrupt(inputs, noise));
        var mean = meanLayer.forward(hidden);
        var logVariance = logVarianceLayer.forward(hidden);
        var z = noise is null ? mean : mean.add(logVariance.mul(Scalars.Half).exp() * randn(mean.shape, device: mean.device, generator: noise), Scalars.One);
        var logits = decoder.forward(z);
        using var count = Scalars.Of((double)inputs.shape[0]);
        var reconstruction = (Spec.Loss == ReconstructionLoss.BinaryCrossEntropy
            ? PixelBce(logits, inputs, Reduction.Sum)
            : F.mse_loss(ToPixels(logits), inputs, Reduction.Sum)).div_(count);
        using var klWeight = Scalars.Of(Spec.KlWeight);
        return reconstruction.add(KlPerImage(mean, logVariance).mean().mul_(klWeight), Scalars.One);
    }

    /// <summary>KL(N(mean, exp(logVariance)) || N(0, I)) per image, summed over the latent dimensions.</summary>
    private static Tensor KlPerImage(Tensor mean, Tensor logVariance) =>
        logVariance.add(Scalars.One, Scalars.One).sub_(mean.pow(Scalars.Two)).sub_(logVariance.exp()).sum(1).mul_(Scalars.MinusHalf);
}
