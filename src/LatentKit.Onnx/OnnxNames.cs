namespace LatentKit.Onnx;

/// <summary>The names of the inputs and outputs of exported graphs.</summary>
public static class OnnxNames
{
    /// <summary>
    /// Input of encoders, autoencoders and classifiers: float32 samples in the model's input shape after the batch
    /// dimension (for MNIST <c>[batch, 784]</c> dense, <c>[batch, 1, 28, 28]</c> convolutional); values as the model takes
    /// them in <c>Encode</c> (pixels in [0, 1], or raw features when the model standardises them; see
    /// <see cref="OnnxMetadataKeys.InputNormalization"/>).
    /// </summary>
    public const string Images = "images";

    /// <summary>Output of encoders (for a variational autoencoder the mean) and input of decoders and classifier heads: float32 <c>[batch, latent]</c>.</summary>
    public const string Codes = "codes";

    /// <summary>Output of a variational encoder exported with <see cref="OnnxExport.EncoderDistribution"/>: float32 <c>[batch, latent]</c>, the mean of the latent distribution (equal to <see cref="Codes"/> of <see cref="OnnxExport.Encoder"/>).</summary>
    public const string Mean = "mean";

    /// <summary>Output of a variational encoder exported with <see cref="OnnxExport.EncoderDistribution"/>: float32 <c>[batch, latent]</c>, the log-variance of the latent distribution (the standard deviation is <c>exp(log_variance / 2)</c>).</summary>
    public const string LogVariance = "log_variance";

    /// <summary>Output of decoders and autoencoders: float32 values in the model's input shape, as <c>Decode</c> and <c>Reconstruct</c> give them (after the output activation, in the data's units).</summary>
    public const string Reconstruction = "reconstruction";

    /// <summary>Output of classifiers: float32 <c>[batch, classes]</c>, each row summing to 1.</summary>
    public const string Probabilities = "probabilities";

    /// <summary>Output of classifiers: int64 <c>[batch]</c>, the index of the most likely class (the class LatentKit's <c>Predict</c> gives).</summary>
    public const string Label = "label";

    /// <summary>Output of anomaly detectors: float64 <c>[batch]</c>, the detector's score (its <c>ScoreKind</c>), higher meaning more anomalous.</summary>
    public const string Score = "score";

    /// <summary>Output of anomaly detectors: bool <c>[batch]</c>, true when the score is strictly above the threshold stored in <see cref="OnnxMetadataKeys.Threshold"/>.</summary>
    public const string IsAnomaly = "is_anomaly";

    /// <summary>Input of a network exported with <see cref="OnnxExport.Module"/> (unless named otherwise).</summary>
    public const string Input = "input";

    /// <summary>Output of a network exported with <see cref="OnnxExport.Module"/> (unless named otherwise).</summary>
    public const string Output = "output";
}

/// <summary>The keys of the metadata properties every exported model carries.</summary>
public static class OnnxMetadataKeys
{
    /// <summary>The version of LatentKit that wrote the file.</summary>
    public const string Version = "latentkit.version";

    /// <summary>What the graph computes: <c>encoder</c>, <c>decoder</c>, <c>autoencoder</c>, <c>classifier</c>, <c>classifier_head</c>, <c>detector</c> or <c>module</c>.</summary>
    public const string Graph = "latentkit.graph";

    /// <summary>The autoencoder's <see cref="AutoencoderKind"/> (<c>Dense</c>, <c>Convolutional</c>, <c>Variational</c>, <c>ConvolutionalVariational</c>, <c>Custom</c>, <c>CustomVariational</c>), or <c>Pixels</c> for the raw-pixel classifier; absent for a module.</summary>
    public const string ModelKind = "latentkit.model_kind";

    /// <summary>How raw data becomes the graph's input (for images: bytes 0-255 divided by 255, float pixels in [0, 1]).</summary>
    public const string InputNormalization = "latentkit.input_normalization";

    /// <summary>The latent size of the autoencoder; absent for a module.</summary>
    public const string LatentSize = "latentkit.latent_size";

    /// <summary>Classifiers only: the class names in output order, as a JSON array of strings.</summary>
    public const string ClassNames = "latentkit.class_names";

    /// <summary>Detectors only: the <c>AnomalyScoreKind</c> the <see cref="OnnxNames.Score"/> output is (<c>Reconstruction</c>, <c>NegativeElbo</c>, <c>Latent</c> or <c>Combined</c>).</summary>
    public const string ScoreKind = "latentkit.score_kind";

    /// <summary>Detectors only: the threshold the <see cref="OnnxNames.IsAnomaly"/> output compares with, round-trip formatted (invariant culture).</summary>
    public const string Threshold = "latentkit.threshold";

    /// <summary>Detectors only: how the threshold was chosen (<c>FalsePositiveRate</c>, <c>Contamination</c> or <c>Fixed</c>).</summary>
    public const string ThresholdRule = "latentkit.threshold_rule";

    /// <summary>Detectors only: the reconstruction error of the scores (<c>BinaryCrossEntropy</c> or <c>MeanSquaredError</c>).</summary>
    public const string ReconstructionError = "latentkit.reconstruction_error";

    /// <summary>Detectors only: the score kinds the <c>Combined</c> score adds, comma-separated in order.</summary>
    public const string CombinedScores = "latentkit.combined_scores";

    /// <summary>The graph's input shape after the batch dimension, comma-separated (for example <c>1,28,28</c>).</summary>
    public const string InputShape = "latentkit.input_shape";
}
