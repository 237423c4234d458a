using static TorchSharp.torch;

namespace LatentKit.Tests.Models;

/// <summary>The sizes the model-file loader expects from a manifest (before allocating anything) are those of the real networks.</summary>
public class WeightsLayoutTests
{
    public static TheoryData<string, Func<IAutoencoder>> Autoencoders_ => new()
    {
        { "dense 64, 32, latent 16", () => Autoencoders.Dense().WithHiddenLayers(64, 32).WithLatentSize(16).Build() },
        { "dense 5 layers", () => Autoencoders.Dense().WithHiddenLayers(7, 9, 11, 13, 3).WithLatentSize(2).WithLatentActivation(Activation.Tanh).Build() },
        { "conv 4, 8, latent 49", () => Autoencoders.Convolutional().WithChannels(4, 8).WithLatentSize(49).Build() },
        { "conv 6, 10, latent 98", () => Autoencoders.Convolutional().WithChannels(6, 10).WithLatentSize(98).Build() },
        { "conv 5, latent 392", () => Autoencoders.Convolutional().WithChannels(5).WithLatentSize(392).Build() },
        { "vae 64, 32, latent 8", () => Autoencoders.Variational().WithHiddenLayers(64, 32).WithLatentSize(8).Build() },
        { "vae 20, latent 3", () => Autoencoders.Variational().WithHiddenLayers(20).WithLatentSize(3).Build() },
    };

    [Theory]
    [MemberData(nameof(Autoencoders_))]
    public void The_autoencoder_layout_counts_every_tensor_and_value_and_bounds_the_saved_size(string name, Func<IAutoencoder> build)
    {
        using var model = (AutoencoderBase)build();
        var layout = AutoencoderFactory.Layout(model.Spec);
        Check(name, model.Network, layout);
    }

    [Theory]
    [InlineData(false, 0.0)]
    [InlineData(true, 0.0)]
    [InlineData(true, 0.3)]
    [InlineData(false, 0.3)]
    public void The_classifier_layout_counts_batch_norm_buffers_too(bool batchNorm, double dropout)
    {
        using var autoencoder = Autoencoders.Dense().WithHiddenLayers(16).WithLatentSize(5).Build();
        using var classifier = LatentClassifier.For(autoencoder).WithHiddenLayers(12, 7).WithBatchNorm(batchNorm).WithDropout(dropout).Build();
        var layout = AutoencoderFactory.ClassifierLayout(classifier.Spec, autoencoder.LatentSize);
        Check($"classifier batch norm {batchNorm}, dropout {dropout}", classifier.Head, layout);
    }

    private static void Check(string name, nn.Module module, WeightsLayout layout)
    {
        var state = module.state_dict();
        long values = 0;
        foreach (var (_, tensor) in state)
        {
            values += tensor.numel() * tensor.element_size() / sizeof(float);
        }

        layout.Tensors.Should().Be(state.Count, name);
        layout.Values.Should().Be(values, name);
        using var memory = new MemoryStream();
        module.save(memory);
        memory.ToArray().LongLength.Should().BeInRange(layout.MinBytes, layout.MaxBytes, name);
    }
}
