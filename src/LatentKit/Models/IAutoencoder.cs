using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentKit;

/// <summary>
/// An autoencoder: an encoder that maps samples (images <c>C x H x W</c> or feature vectors; 1 x 28 x 28 MNIST images
/// by default) to latent codes and a decoder that maps codes back. Every method that takes samples accepts both flat
/// (<c>N x size</c>, e.g. <c>N x 784</c>) and shaped (<c>N x C x H x W</c>, e.g. <c>N x 1 x 28 x 28</c>) float
/// tensors; any other shape is rejected with an <see cref="ArgumentException"/> that names it. Returned tensors belong to the caller (dispose them, or create them
/// inside a <see cref="torch.NewDisposeScope"/>). Build one with <see cref="LatentKit.Autoencoders"/>.
/// <para>
/// Threads (LatentKit's autoencoders): the inference methods and <see cref="Save"/> may be called on one model from
/// several threads at once and run one after another under the model's lock; while <see cref="Train"/> runs, every other
/// call on the model throws an <see cref="InvalidOperationException"/>. <see cref="IDisposable.Dispose"/> must not overlap any call.
/// </para>
/// </summary>
public partial interface IAutoencoder : IDisposable
{
    /// <summary>Number of values in a latent code.</summary>
    int LatentSize { get; }

    /// <summary>The shape of one sample as the network sees it: flattened (<c>[784]</c> for MNIST) for dense models, <c>[C, H, W]</c> (<c>[1, 28, 28]</c>) for convolutional ones.</summary>
    IReadOnlyList<long> InputShape { get; }

    /// <summary>The device the weights live on (the CPU unless built or trained elsewhere).</summary>
    Device Device { get; }

    /// <summary>The settings <see cref="Train"/> uses when it is given no options.</summary>
    TrainingOptions DefaultTraining { get; }

    /// <summary>Encodes samples (<c>N x size</c> or <c>N x C x H x W</c>) to latent codes <c>N x LatentSize</c>, in evaluation mode, without gradients.</summary>
    /// <exception cref="ArgumentException">The tensor does not hold samples of the model's input shape in one of the accepted shapes.</exception>
    Tensor Encode(Tensor images);

    /// <summary>Decodes latent codes (<c>N x LatentSize</c>) to samples shaped like <see cref="InputShape"/> (in (0, 1) for a sigmoid output; in the data's units for a standardised model).</summary>
    /// <exception cref="ArgumentException">The codes are not <c>N x LatentSize</c>.</exception>
    Tensor Decode(Tensor codes);

    /// <summary>Encodes and decodes samples; the result has the input's shape (values as for <see cref="Decode(Tensor)"/>).</summary>
    /// <exception cref="ArgumentException">The tensor does not hold samples of the model's input shape in one of the accepted shapes.</exception>
    Tensor Reconstruct(Tensor images);

    /// <summary>The latent codes of every sample of <paramref name="dataset"/> (labelled or not), as one <c>N x LatentSize</c> tensor on the CPU.</summary>
    /// <exception cref="ArgumentException">The dataset's <see cref="Dataset.SampleShape"/> does not fit <see cref="InputShape"/> (the message names both shapes).</exception>
    Tensor EncodeDataset(Dataset dataset, int batchSize = Trainer.EvaluationBatchSize);

    /// <summary>
    /// Trains the autoencoder on <paramref name="training"/>.
    /// </summary>
    /// <param name="training">
    /// The samples to train on, labelled or not (labels are not used). Its <see cref="Dataset.SampleShape"/> must be
    /// <see cref="InputShape"/>, or for a dense model (input <c>[n]</c>) any shape of <c>n</c> values.
    /// </param>
    /// <param name="options">Training settings; <see langword="null"/> uses <see cref="DefaultTraining"/>.</param>
    /// <param name="run">Where and how to train (device, threads, progress, logger, validation set, callbacks); <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops training at the next batch with a <see cref="TrainingCanceledException"/> carrying the epochs run so far; the model stays usable.</param>
    /// <returns>Per-epoch losses, times and throughput.</returns>
    /// <remarks>
    /// <see cref="TrainingRun.Threads"/> sets TorchSharp's thread count, which is process-wide: it applies to the
    /// whole process while the run lasts, and concurrent runs with different values overwrite each other's setting.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The model is already being trained (on another thread, or from this run's progress callback).</exception>
    /// <exception cref="ArgumentException">Settings of the options or the run are out of range (a <see cref="LatentKitValidationException"/> listing every one), or the dataset's sample shape does not fit <see cref="InputShape"/> (the message names both shapes).</exception>
    /// <exception cref="TrainingDivergedException">A loss, the weights or the outputs became NaN or infinite; the weights were restored to those at the start of the epoch, which are finite.</exception>
    /// <exception cref="TrainingCanceledException"><paramref name="cancellationToken"/> was cancelled; the exception's history holds the epochs run so far.</exception>
    TrainingHistory Train(Dataset training, TrainingOptions? options = null, TrainingRun? run = null, CancellationToken cancellationToken = default);

    /// <summary>Mean per-value binary cross-entropy and squared error of the reconstructions of <paramref name="data"/>, labelled or not (and the KL term for a VAE).</summary>
    /// <exception cref="ArgumentException">The dataset's sample shape does not fit <see cref="InputShape"/> (the message names both shapes), or the dataset is empty (its means would be NaN).</exception>
    ReconstructionMetrics Evaluate(Dataset data, int batchSize = Trainer.EvaluationBatchSize);

    /// <summary>
    /// Writes the model to one file (weights, architecture, options and LatentKit version), atomically: a temporary
    /// file in the same folder, then a rename. Load it with <see cref="LatentKit.AutoencoderFile.Load(string)"/>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="path"/> is an existing folder or ends in a separator (nothing is written or created).</exception>
    /// <exception cref="IOException">The file cannot be written (the message names <paramref name="path"/> and why); an existing file there is left as it was.</exception>
    void Save(string path);
}

/// <summary>A variational autoencoder: the encoder gives a Gaussian distribution over latent codes rather than one code.</summary>
public interface IVariationalAutoencoder : IAutoencoder
{
    /// <summary>
    /// Weight of the KL term in the training loss (per sample: the reconstruction loss summed over its values +
    /// <c>KlWeight</c> x KL divergence from the standard normal prior). Default 1.
    /// </summary>
    double KlWeight { get; }

    /// <summary>The mean and log-variance (each <c>N x LatentSize</c>) of the latent distribution of each image.</summary>
    (Tensor Mean, Tensor LogVariance) EncodeDistribution(Tensor images);

    /// <summary>New images decoded from <paramref name="count"/> codes drawn from the standard normal prior; the same seed gives the same images.</summary>
    /// <param name="count">How many images: 1 to <see cref="ModelLimits.MaxGeneratedSamples"/>, and at most <see cref="ModelLimits.MaxGeneratedValues"/> values in all.</param>
    /// <param name="seed">Seed of the generator the codes are drawn with.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not positive or above the bounds (checked before anything is allocated); the message says how many one call makes.</exception>
    Tensor Sample(int count, int seed);
}
