
namespace LatentKit.Tests.Support;

/// <summary>Small models for fast tests.</summary>
internal static class SmallModels
{
    public static IAutoencoder Build(AutoencoderKind kind, int seed = 1) => kind switch
    {
        AutoencoderKind.Dense => Autoencoders.Dense().WithHiddenLayers(64, 32).WithLatentSize(16).WithSeed(seed).Build(),
        AutoencoderKind.Convolutional => Autoencoders.Convolutional().WithChannels(4, 8).WithLatentSize(49).WithSeed(seed).Build(),
        AutoencoderKind.Variational => Autoencoders.Variational().WithHiddenLayers(64, 32).WithLatentSize(8).WithSeed(seed).Build(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static float[] Values(TorchSharp.torch.Tensor tensor) => tensor.cpu().contiguous().data<float>().ToArray();
}
