namespace LatentKit;

public partial interface IAutoencoder
{
    /// <summary>
    /// The latent code (<c>LatentSize</c> values) of one sample given as an array of <c>SampleSize</c> values; the
    /// same as <see cref="AutoencoderArrays.Encode(IAutoencoder, ReadOnlySpan{float})"/>. (This overload exists because
    /// TorchSharp converts a <c>float[]</c> to a one-dimensional tensor, which <see cref="Encode(TorchSharp.torch.Tensor)"/> would refuse.)
    /// </summary>
    /// <exception cref="ArgumentException">The sample has another length than the model's sample size, or holds a value that is not finite.</exception>
    float[] Encode(float[] sample) => AutoencoderArrays.Encode(this, (sample ?? throw new ArgumentNullException(nameof(sample))).AsSpan());

    /// <summary>The reconstruction of one sample given as an array; the same as <see cref="AutoencoderArrays.Reconstruct(IAutoencoder, ReadOnlySpan{float})"/>.</summary>
    /// <exception cref="ArgumentException">The sample has another length than the model's sample size, or holds a value that is not finite.</exception>
    float[] Reconstruct(float[] sample) => AutoencoderArrays.Reconstruct(this, (sample ?? throw new ArgumentNullException(nameof(sample))).AsSpan());

    /// <summary>The sample decoded from one code given as an array; the same as <see cref="AutoencoderArrays.Decode(IAutoencoder, ReadOnlySpan{float})"/>.</summary>
    /// <exception cref="ArgumentException">The code has another length than the latent size, or holds a value that is not finite.</exception>
    float[] Decode(float[] code) => AutoencoderArrays.Decode(this, (code ?? throw new ArgumentNullException(nameof(code))).AsSpan());
}
