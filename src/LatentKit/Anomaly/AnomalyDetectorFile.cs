using System.Text.Json;
using System.Text.Json.Serialization;

namespace LatentKit;

/// <summary>
/// An anomaly detector in the LatentKit model file (kind <c>AnomalyDetector</c>): the autoencoder's manifest section and
/// weights as in a model file, plus <c>detector.json</c> (scoring settings, fitted statistics and threshold), listed in the
/// manifest with its size and SHA-256 and read only up to the size its latent width allows.
/// </summary>
internal static class AnomalyDetectorFile
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static void Save(AnomalyDetector detector, string path)
    {
        if (detector.Model is not AutoencoderBase model)
        {
            throw new NotSupportedException($"Only LatentKit's own autoencoders can be saved in a detector file; this detector's model is a {detector.Model.GetType().Name}.");
        }

        var state = new State(
            detector.Options.Score,
            [.. detector.Options.CombinedScores],
            detector.Options.ReconstructionError,
            detector.Options.FalsePositiveRate,
            detector.Options.Contamination,
            detector.Options.LatentShrinkage,
            detector.Options.BatchSize,
            [.. detector.Standardizer.Means],
            [.. detector.Standardizer.StandardDeviations],
            [.. detector.LatentModel.Mean],
            [.. detector.LatentModel.Covariance],
            detector.Threshold.Value,
            detector.Threshold.Rule,
            detector.Threshold.Fraction,
            detector.FittedCount);
        ModelFile.SaveDetector(model, path, JsonSerializer.SerializeToUtf8Bytes(state, Json));
    }

    /// <summary>The largest detector state for a latent width: the covariance (at most ~32 bytes a value in JSON) and 64 KiB for the rest.</summary>
    internal static long MaxStateBytes(int latentSize) => (32L * latentSize * (latentSize + 1)) + (64 * 1024);

    public static AnomalyDetector Load(string path, CustomModules? modules)
    {
        var (model, bytes) = ModelFile.LoadDetector(path, spec => MaxStateBytes(spec.LatentSize), modules);
        try
        {
            State state;
            try
            {
                state = JsonSerializer.Deserialize<State>(bytes, Json) ?? throw new JsonException("the state is null");
            }
            catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
            {
                throw Damaged(path, "cannot be read", e);
            }

            return Restore(path, model, state);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static AnomalyDetector Restore(string path, AutoencoderBase model, State state)
    {
        try
        {
            // The same rules as fitting: options, standardiser and Gaussian check themselves.
            var options = new AnomalyDetectorOptions
            {
                Score = state.Score,
                CombinedScores = state.CombinedScores ?? throw new ArgumentException("missing", "combinedScores"),
                ReconstructionError = state.ReconstructionError,
                FalsePositiveRate = state.FalsePositiveRate,
                Contamination = state.Contamination,
                LatentShrinkage = state.LatentShrinkage,
                BatchSize = state.BatchSize,
            };
            options.Validate();
            if (options.Uses(AnomalyScoreKind.NegativeElbo) && model is not IVariationalAutoencoder)
            {
                throw new ArgumentException("the negative ELBO is used but the model is not variational", "score");
            }

            var standardizer = ScoreStandardizer.FromParameters(state.StandardizerMeans ?? [], state.StandardizerDeviations ?? []);
            if (standardizer.Count != options.CombinedScores.Count)
            {
                throw new ArgumentException($"{standardizer.Count} standardised scores for {options.CombinedScores.Count} combined kinds", "standardizerMeans");
            }

            var latent = GaussianLatentModel.FromParameters(state.LatentMean ?? [], state.LatentCovariance ?? [], state.LatentShrinkage);
            if (latent.Dimensions != model.LatentSize)
            {
                throw new ArgumentException($"a latent Gaussian of {latent.Dimensions} dimensions for a model with latent size {model.LatentSize}", "latentMean");
            }

            if (!Enum.IsDefined(state.ThresholdRule) || !double.IsFinite(state.ThresholdFraction))
            {
                throw new ArgumentException($"threshold rule {state.ThresholdRule} with fraction {state.ThresholdFraction}", "thresholdRule");
            }

            AnomalyDataException.ThrowIfNonFinite([state.Threshold], "threshold", "The threshold");
            if (state.FittedCount < 2)
            {
                throw new ArgumentOutOfRangeException("fittedCount", state.FittedCount, "at least 2 normal samples are fitted");
            }

            return new AnomalyDetector(model, ownsModel: true, options, latent, standardizer, new AnomalyThreshold(state.Threshold, state.ThresholdRule, state.ThresholdFraction), state.FittedCount);
        }
        catch (ArgumentException e)
        {
            throw Damaged(path, $"field '{e.ParamName}' is invalid ({e.Message})", e);
        }
    }

    private static ModelFileException Damaged(string path, string what, Exception inner) =>
        new(path, ModelFileError.Damaged, $"'{path}' is damaged: its {ModelFile.DetectorEntry} {what}.", inner);

    internal sealed record State(
        AnomalyScoreKind Score,
        AnomalyScoreKind[]? CombinedScores,
        ReconstructionLoss ReconstructionError,
        double FalsePositiveRate,
        double? Contamination,
        double LatentShrinkage,
        int BatchSize,
        double[]? StandardizerMeans,
        double[]? StandardizerDeviations,
        double[]? LatentMean,
        double[]? LatentCovariance,
        double Threshold,
        ThresholdRule ThresholdRule,
        double ThresholdFraction,
        int FittedCount);
}
