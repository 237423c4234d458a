using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace LatentKit.Benchmarks;

/// <summary>
/// A minimal hand-written TorchSharp training loop on the modules of a LatentKit model (built by the same builder, so
/// the same layers and initial weights): the whole training set preloaded as one float tensor in the network's shape,
/// then per batch only index, forward, loss, zero_grad, backward, step (and reading the loss, as any loop that logs
/// does). The loss is the model's: mean per-pixel BCE from logits; for the VAE, summed BCE per image plus the KL
/// term with the reparameterisation trick.
/// </summary>
internal sealed class HandWrittenLoop : IDisposable
{
    private readonly AutoencoderBase model;
    private readonly Tensor images;
    private readonly optim.Optimizer optimizer;
    private readonly Generator generator;
    private readonly int batchSize;

    public HandWrittenLoop(AutoencoderBase model, MnistDataset training, int batchSize, double learningRate, int seed)
    {
        this.model = model;
        this.batchSize = batchSize;
        var layout = model.InputShape.Count == 1 ? ImageLayout.Flat : ImageLayout.Image;
        images = training.ImagesToTensor(layout);
        optimizer = optim.Adam(model.Modules.parameters(), learningRate);
        generator = new Generator((ulong)seed);
    }

    /// <summary>Trains one epoch and returns its throughput in images per second.</summary>
    public double TrainEpoch()
    {
        model.Modules.train();
        var n = images.shape[0];
        var watch = Stopwatch.StartNew();
        using var permutation = randperm(n, generator: generator);
        for (long start = 0; start < n; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var x = images.index_select(0, permutation.narrow(0, start, Math.Min(batchSize, n - start)));
            optimizer.zero_grad();
            var loss = Loss(x);
            _ = loss.item<float>();
            loss.backward();
            optimizer.step();
        }

        return n / watch.Elapsed.TotalSeconds;
    }

    public void Dispose()
    {
        optimizer.Dispose();
        generator.Dispose();
        images.Dispose();
    }

    private Tensor Loss(Tensor x)
    {
        if (model is VariationalAutoencoder vae)
        {
            var hidden = vae.Encoder.forward(x);
            var mean = vae.MeanModule.forward(hidden);
            var logVariance = vae.LogVarianceModule.forward(hidden);
            var z = mean + ((logVariance * 0.5).exp() * randn(mean.shape, generator: generator));
            var logits = vae.Decoder.forward(z);
            var bce = F.binary_cross_entropy_with_logits(logits, x, reduction: Reduction.Sum) / x.shape[0];
            var kl = ((1 + logVariance - mean.pow(2) - logVariance.exp()).sum(1) * -0.5).mean();
            return bce + (kl * vae.KlWeight);
        }

        // Dense: N x 784 → code N x 49 → N x 784. Convolutional: N x 1 x 28 x 28 → code map N x 1 x 7 x 7 → N x 1 x 28 x 28.
        return F.binary_cross_entropy_with_logits(model.Decoder.forward(model.Encoder.forward(x)), x);
    }
}
