using LatentKit.Tests.Support;
using TorchSharp;

namespace LatentKit.Tests.Models;

/// <summary><see cref="IAutoencoder.EncodeDataset"/> writes each batch's codes into one result tensor.</summary>
public sealed class EncodeDatasetTests
{
    [Theory]
    [InlineData(AutoencoderKind.Dense)]
    [InlineData(AutoencoderKind.Convolutional)]
    [InlineData(AutoencoderKind.Variational)]
    public void The_codes_are_those_of_Encode_whatever_the_batch_size(AutoencoderKind kind)
    {
        var data = Synthetic.Digits(70);
        using var model = SmallModels.Build(kind);
        using var images = data.ImagesToTensor(ImageLayout.Image);
        using var expected = model.Encode(images);

        foreach (var batchSize in new[] { 1, 7, 32, Trainer.EvaluationBatchSize, 1_000 })
        {
            using var codes = model.EncodeDataset(data, batchSize);
            codes.shape.Should().Equal(70, model.LatentSize);
            codes.device_type.Should().Be(DeviceType.CPU);
            torch.allclose(codes, expected, rtol: 1e-5, atol: 1e-6).Should().BeTrue($"batches of {batchSize} give the codes of one Encode call");
        }
    }

    [Fact]
    public void An_empty_dataset_has_no_codes()
    {
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        using var codes = model.EncodeDataset(Synthetic.Digits(10).Subset([]));
        codes.shape.Should().Equal(0, model.LatentSize);
    }
}
