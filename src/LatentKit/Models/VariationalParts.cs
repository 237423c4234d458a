using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace LatentKit;

/// <summary>What the dense and the convolutional variational autoencoders share: the loss, evaluation, distribution and sampling.</summary>
internal static class VariationalParts
{
    /// <summary>The mean and log-variance of a batch already in the network's input shape.</summary>
    public delegate (Tensor Mean, Tensor LogVariance) Distribution(Tensor input);

    /// <summary>
    /// Per sample: the summed reconstruction loss over the sample's values plus the KL weight times the KL divergence
    /// from the standard normal prior, with the reparameterisation trick (<paramref name="noise"/> null: the mean).
    /// When <paramref name="figureSums"/> is given, the batch's figures are added to it: every figure when evaluating
    /// (<see cref="AutoencoderBase.AddFigures"/>), the loss's two terms when training (<see cref="AutoencoderBase.AddTrainingFigures"/>).
    /// </summary>
    public static Tensor Loss(AutoencoderBase model, Distribution distribution, Tensor inputs, Generator? noise, Tensor? figureSums = null)
    {
        var (mean, logVariance) = distribution(model.Corrupt(inputs, noise));
        // Scalars held explicitly (never implicit conversions): see Scalars in Training/Optimizers.cs.
        var z = noise is null ? mean : mean.add(logVariance.mul(Scalars.Half).exp() * randn(mean.shape, device: mean.device, generator: noise), Scalars.One);
        var logits = model.DecodeLogitsCore(z);
        using var count = Scalars.Of((double)inputs.shape[0]);
        var reconstruction = (model.Spec.Loss == ReconstructionLoss.BinaryCrossEntropy
            ? model.PixelBce(logits, inputs, Reduction.Sum)
            : F.mse_loss(model.ToPixels(logits), inputs, Reduction.Sum)).div_(count);
        using var klWeight = Scalars.Of(model.Spec.KlWeight);
        var kl = KlPerSample(mean, logVariance);
        var klMean = kl.mean();
        if (figureSums is not null)
        {
            if (noise is null)
            {
                model.AddFigures(figureSums, logits, inputs, kl);
            }
            else
            {
                // Training: the loss's own two terms, the reconstruction per value and the KL divergence per sample.
                using var valuesPerSample = Scalars.Of((double)(inputs.numel() / inputs.shape[0]));
                AutoencoderBase.AddTrainingFigures(figureSums, [reconstruction.div(valuesPerSample), klMean], inputs.shape[0]);
            }
        }

        return reconstruction.add(klMean.mul(klWeight), Scalars.One);
    }

    /// <summary>Decoder output at the mean and the batch's summed KL term.</summary>
    public static (Tensor Logits, double KlSum) EvaluateBatch(AutoencoderBase model, Distribution distribution, Tensor input)
    {
        var (mean, logVariance) = distribution(input);
        return (model.DecodeLogitsCore(mean), KlPerSample(mean, logVariance).sum().item<float>());
    }

    /// <summary>The distribution of images given by the user (checked and standardised like every input).</summary>
    public static (Tensor Mean, Tensor LogVariance) EncodeDistribution(AutoencoderBase model, Distribution distribution, Tensor images)
    {
        using var use = model.Guard.EnterUse();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.Network.eval();
        var (mean, logVariance) = distribution(model.ToNetworkInput(images, nameof(images)));
        return (mean.MoveToOuterDisposeScope(), logVariance.MoveToOuterDisposeScope());
    }

    /// <summary>Decodes <paramref name="count"/> codes drawn from the prior with a generator seeded by <paramref name="seed"/>.</summary>
    public static Tensor Sample(AutoencoderBase model, int count, int seed)
    {
        ModelLimits.CheckGeneratedCount(count, model, nameof(count), minimum: 1);
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        var codes = randn([count, model.LatentSize], generator: generator);
        return ModelLimits.DecodeInBatches(model, codes).MoveToOuterDisposeScope();
    }

    /// <summary>KL(N(mean, exp(logVariance)) || N(0, I)) per sample, summed over the latent dimensions.</summary>
    internal static Tensor KlPerSample(Tensor mean, Tensor logVariance) =>
        logVariance.add(Scalars.One, Scalars.One).sub_(mean.pow(Scalars.Two)).sub_(logVariance.exp()).sum(1).mul_(Scalars.MinusHalf);
}
