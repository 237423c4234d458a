using TorchSharp;
using static TorchSharp.torch;

namespace LatentKit;

/// <summary>
/// A fully connected variational autoencoder for samples of any shape (flattened to their <c>n</c> values; 784 for
/// MNIST). Encoder: n → hidden widths (each followed by the activation), then
/// two parallel linear layers giving the mean and the log-variance of a Gaussian over latent codes (the reference
/// scenario 4: 784 → 256 → 128 → (mean 49, log-variance 49), three learned layers). Decoder: latent → hidden widths
/// reversed → n → output activation. Training minimises, per sample, the summed reconstruction loss over its n values plus
/// <see cref="KlWeight"/> times the KL divergence from the standard normal prior, with the reparameterisation trick;
/// <see cref="AutoencoderBase.Evaluate"/> reports the per-pixel BCE and the KL per image separately.
/// <see cref="IAutoencoder.Encode(Tensor)"/>, <see cref="IAutoencoder.Reconstruct(Tensor)"/> and evaluation use the mean (no sampling).
/// Build one with <see cref="LatentKit.Autoencoders.Variational"/>.
/// </summary>
public sealed partial class VariationalAutoencoder : AutoencoderBase, IVariationalAutoencoder
{
    private readonly long[] flatShape;
    private readonly nn.Module<Tensor, Tensor> encoderBody;
    private readonly nn.Module<Tensor, Tensor> meanLayer;
    private readonly nn.Module<Tensor, Tensor> logVarianceLayer;
    private readonly nn.Module<Tensor, Tensor> decoder;
    private readonly Network network;

    internal VariationalAutoencoder(AutoencoderSpec spec, TrainingOptions defaultTraining)
        : base(spec, defaultTraining)
    {
        flatShape = [spec.InputSize];
        int[] bodyWidths = [spec.InputSize, .. spec.Layers];
        int[] decoderWidths = [spec.LatentSize, .. Enumerable.Reverse(spec.Layers), spec.InputSize];
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
    public override IReadOnlyList<long> InputShape => flatShape;

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
        return VariationalParts.EncodeDistribution(this, Distribution, images);
    }

    /// <inheritdoc />
    public Tensor Sample(int count, int seed)
    {
        ThrowIfDisposed();
        return VariationalParts.Sample(this, count, seed);
    }

    internal override Tensor EncodeCore(Tensor input) => meanLayer.forward(encoderBody.forward(input));

    internal override Tensor DecodeLogitsCore(Tensor codes) => decoder.forward(codes);

    internal override (Tensor Logits, double KlSum) EvaluateBatch(Tensor input) => VariationalParts.EvaluateBatch(this, Distribution, input);

    internal override Tensor ComputeLoss(Tensor inputs, Generator? noise, Tensor? figureSums) => VariationalParts.Loss(this, Distribution, inputs, noise, figureSums);

    private (Tensor Mean, Tensor LogVariance) Distribution(Tensor input)
    {
        var hidden = encoderBody.forward(input);
        return (meanLayer.forward(hidden), logVarianceLayer.forward(hidden));
    }
}
