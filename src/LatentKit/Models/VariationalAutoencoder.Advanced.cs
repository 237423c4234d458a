using TorchSharp;
using static TorchSharp.torch;

namespace LatentKit;

public sealed partial class VariationalAutoencoder
{
    /// <summary>Advanced: the linear layer from the encoder's last hidden layer to the mean of the latent Gaussian (see <see cref="AutoencoderBase.Modules"/>).</summary>
    public nn.Module<Tensor, Tensor> MeanModule => MeanLayer;

    /// <summary>Advanced: the linear layer from the encoder's last hidden layer to the log-variance of the latent Gaussian (see <see cref="AutoencoderBase.Modules"/>).</summary>
    public nn.Module<Tensor, Tensor> LogVarianceModule => LogVarianceLayer;
}
