using TorchSharp;
using static TorchSharp.torch;

namespace LatentKit;

public abstract partial class AutoencoderBase
{
    /// <summary>
    /// Advanced: every weight of the model as one TorchSharp module, with the children <c>encoder</c> and
    /// <c>decoder</c> (a built-in VAE adds <c>mean</c> and <c>log_variance</c>). Use it for your own training loop or
    /// inspection; it is the model's own module, not a copy: do not dispose it, and do not use it while the model trains.
    /// The model's lock does not cover calls you make on it.
    /// </summary>
    public nn.Module Modules => Network;

    /// <summary>
    /// Advanced: the encoder module. It takes a batch shaped <c>N x InputShape</c> and returns the code (dense and
    /// custom models: <c>N x LatentSize</c>; convolutional: the code map; built-in VAE: the last hidden layer, before
    /// <see cref="VariationalAutoencoder.MeanModule"/> and <see cref="VariationalAutoencoder.LogVarianceModule"/>;
    /// custom VAE: the mean and log-variance side by side). The model's own module, as for <see cref="Modules"/>.
    /// </summary>
    public nn.Module<Tensor, Tensor> Encoder => EncoderLayers;

    /// <summary>
    /// Advanced: the decoder module, from a code (as the encoder gives it) to the output <em>before</em> the output
    /// activation (logits for a sigmoid output), in the network's input shape. The model's own module, as for <see cref="Modules"/>.
    /// </summary>
    public nn.Module<Tensor, Tensor> Decoder => DecoderLayers;
}

public abstract partial class AutoencoderBase
{
    /// <inheritdoc />
    public float[] Encode(float[] sample) => AutoencoderArrays.Encode(this, (sample ?? throw new ArgumentNullException(nameof(sample))).AsSpan());

    /// <inheritdoc />
    public float[] Reconstruct(float[] sample) => AutoencoderArrays.Reconstruct(this, (sample ?? throw new ArgumentNullException(nameof(sample))).AsSpan());

    /// <inheritdoc />
    public float[] Decode(float[] code) => AutoencoderArrays.Decode(this, (code ?? throw new ArgumentNullException(nameof(code))).AsSpan());
}
