using TorchSharp;
using static TorchSharp.torch;

namespace LatentKit;

public static partial class Autoencoders
{
    /// <summary>
    /// An autoencoder on your own TorchSharp modules. The encoder maps a batch shaped <c>N x inputShape</c> to codes
    /// <c>N x latentSize</c>; the decoder maps codes back to <c>N x inputShape</c> values before the output activation
    /// (logits when <paramref name="outputActivation"/> is the sigmoid). Both are checked now by a forward pass on a
    /// batch of two samples (zeros and ones): float32 outputs of the right shapes, one per sample, all finite, and at
    /// least one trainable parameter. The model owns the modules from now on (it disposes them). Train, evaluate, save and use it like a
    /// built-in model; load it with <see cref="AutoencoderFile.LoadCustom"/> and freshly built modules.
    /// </summary>
    /// <param name="encoder">Input batch <c>N x inputShape</c> → codes <c>N x latentSize</c>; built on the CPU.</param>
    /// <param name="decoder">Codes <c>N x latentSize</c> → <c>N x inputShape</c>, before the output activation; built on the CPU.</param>
    /// <param name="inputShape">One sample's shape: <c>[features]</c> or <c>[channels, height, width]</c>.</param>
    /// <param name="latentSize">Values in a code.</param>
    /// <param name="outputActivation">Applied to the decoder's output: sigmoid (values in [0, 1]) by default.</param>
    /// <param name="loss">Reconstruction loss: binary cross-entropy (needs the sigmoid) by default, or squared error.</param>
    /// <param name="trainingDefaults">What <see cref="IAutoencoder.Train"/> uses without options; <see cref="TrainingOptions"/>' defaults when null.</param>
    /// <exception cref="ArgumentException">A setting is invalid, the modules have no trainable parameter, or a module fails, returns another shape, another type than float32, another batch size or non-finite values on a batch of two samples (zeros and ones); the message names the module and what is wrong.</exception>
    public static CustomAutoencoder Custom(
        nn.Module<Tensor, Tensor> encoder,
        nn.Module<Tensor, Tensor> decoder,
        IReadOnlyList<int> inputShape,
        int latentSize,
        OutputActivation outputActivation = OutputActivation.Sigmoid,
        ReconstructionLoss loss = ReconstructionLoss.BinaryCrossEntropy,
        TrainingOptions? trainingDefaults = null)
    {
        var spec = new AutoencoderSpec { Kind = AutoencoderKind.Custom, LatentSize = latentSize, OutputActivation = outputActivation, Loss = loss };
        var (parts, training) = CheckCustom(spec, encoder, decoder, inputShape, trainingDefaults);
        return new CustomAutoencoder(spec, training, parts);
    }

    /// <summary>
    /// A variational autoencoder on your own TorchSharp modules. The encoder maps <c>N x inputShape</c> to
    /// <c>N x (2 · latentSize)</c>: the first <paramref name="latentSize"/> columns are the mean, the last the
    /// log-variance of the latent Gaussian (end it with a linear layer of <c>2 · latentSize</c> outputs). The decoder is
    /// as for <see cref="Custom"/>. Both are checked now by a forward pass on a batch of two samples (zeros and ones); the model owns them.
    /// </summary>
    /// <param name="encoder">Input batch <c>N x inputShape</c> → <c>N x (2 · latentSize)</c> (mean, then log-variance); built on the CPU.</param>
    /// <param name="decoder">Codes <c>N x latentSize</c> → <c>N x inputShape</c>, before the output activation; built on the CPU.</param>
    /// <param name="inputShape">One sample's shape: <c>[features]</c> or <c>[channels, height, width]</c>.</param>
    /// <param name="latentSize">Values in a code (half the encoder's output width).</param>
    /// <param name="klWeight">Weight of the KL term in the loss (default 1).</param>
    /// <param name="outputActivation">Applied to the decoder's output: sigmoid (values in [0, 1]) by default.</param>
    /// <param name="loss">Reconstruction loss: binary cross-entropy (needs the sigmoid) by default, or squared error.</param>
    /// <param name="trainingDefaults">What <see cref="IAutoencoder.Train"/> uses without options; <see cref="TrainingOptions"/>' defaults when null.</param>
    /// <exception cref="ArgumentException">A setting is invalid, the modules have no trainable parameter, or a module fails, returns another shape, another type than float32, another batch size or non-finite values on a batch of two samples (zeros and ones); the message names the module and what is wrong.</exception>
    public static CustomVariationalAutoencoder CustomVariational(
        nn.Module<Tensor, Tensor> encoder,
        nn.Module<Tensor, Tensor> decoder,
        IReadOnlyList<int> inputShape,
        int latentSize,
        double klWeight = 1.0,
        OutputActivation outputActivation = OutputActivation.Sigmoid,
        ReconstructionLoss loss = ReconstructionLoss.BinaryCrossEntropy,
        TrainingOptions? trainingDefaults = null)
    {
        var spec = new AutoencoderSpec { Kind = AutoencoderKind.CustomVariational, LatentSize = latentSize, KlWeight = klWeight, OutputActivation = outputActivation, Loss = loss };
        var (parts, training) = CheckCustom(spec, encoder, decoder, inputShape, trainingDefaults);
        return new CustomVariationalAutoencoder(spec, training, parts);
    }

    /// <summary>Validates the settings (the builders' rules) and the modules (<see cref="CustomNetwork.Check"/>), in that order.</summary>
    private static (CustomNetwork Parts, TrainingOptions Training) CheckCustom(AutoencoderSpec spec, nn.Module<Tensor, Tensor> encoder, nn.Module<Tensor, Tensor> decoder, IReadOnlyList<int> inputShape, TrainingOptions? trainingDefaults)
    {
        AutoencoderFactory.Validate(spec);
        var training = trainingDefaults ?? new TrainingOptions();
        AutoencoderFactory.ValidateTraining(training);
        return (CustomNetwork.Check(encoder, decoder, inputShape, spec.LatentSize, spec.Kind == AutoencoderKind.CustomVariational), training);
    }

    /// <summary>Rebuilds a custom model of <paramref name="spec"/> (already validated) on checked modules.</summary>
    internal static AutoencoderBase CreateCustom(AutoencoderSpec spec, TrainingOptions training, CustomNetwork parts) => spec.Kind == AutoencoderKind.CustomVariational
        ? new CustomVariationalAutoencoder(spec, training, parts)
        : new CustomAutoencoder(spec, training, parts);
}
