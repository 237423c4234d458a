using TorchSharp;
using static TorchSharp.torch;

namespace LatentKit;

/// <summary>
/// Turns a trained autoencoder into an anomaly detector. <see cref="Fit"/> scores normal data, fits the statistics the
/// scores need (a Gaussian on the latent codes, the standardisation of the combined score) and calibrates a threshold;
/// <see cref="Score(Dataset)"/> and <see cref="Predict(Dataset)"/> then rate new samples, higher meaning more
/// anomalous. Works with any <see cref="IAutoencoder"/>: it uses only its public encode and decode calls (and
/// <see cref="IVariationalAutoencoder.EncodeDistribution"/> for the negative ELBO), in evaluation mode.
/// <para>
/// Threads: scoring calls may run from several threads at once (the model's lock serialises them).
/// </para>
/// </summary>
public sealed class AnomalyDetector : IDisposable
{
    // Scalars held explicitly, never converted implicitly (see Scalars in Training/Optimizers.cs).
    private static readonly Scalar ClampLow = 1e-7f.ToScalar();
    private static readonly Scalar ClampHigh = (1 - 1e-7f).ToScalar();
    private readonly bool ownsModel;
    private AnomalyThreshold threshold;
    private bool disposed;

    internal AnomalyDetector(IAutoencoder model, bool ownsModel, AnomalyDetectorOptions options, GaussianLatentModel latent, ScoreStandardizer standardizer, AnomalyThreshold threshold, int fittedCount)
    {
        Model = model;
        this.ownsModel = ownsModel;
        Options = options;
        LatentModel = latent;
        Standardizer = standardizer;
        this.threshold = threshold;
        FittedCount = fittedCount;
    }

    /// <summary>The autoencoder behind the scores. A detector made by <see cref="Fit"/> does not own it; one made by <see cref="Load"/> does and disposes it.</summary>
    public IAutoencoder Model { get; }

    /// <summary>The settings the detector was fitted with.</summary>
    public AnomalyDetectorOptions Options { get; }

    /// <summary>The score that <see cref="Score(Dataset)"/> and <see cref="Predict(Dataset)"/> use.</summary>
    public AnomalyScoreKind ScoreKind => Options.Score;

    /// <summary>The Gaussian fitted on the latent codes of the normal data.</summary>
    public GaussianLatentModel LatentModel { get; }

    /// <summary>The standardisation of the scores in <see cref="AnomalyDetectorOptions.CombinedScores"/>, fitted on the normal data.</summary>
    public ScoreStandardizer Standardizer { get; }

    /// <summary>How many normal samples the statistics were fitted on.</summary>
    public int FittedCount { get; }

    /// <summary>
    /// Every score kind of the normal samples given to <see cref="Fit"/>, in their order (for example to choose a
    /// threshold by another rule without scoring them again); null for a detector read by <see cref="Load"/>, whose
    /// file keeps the fitted statistics but not the data.
    /// </summary>
    public AnomalyScoreSet? FittedScores { get; private init; }

    /// <summary>The current threshold: a score strictly above it is flagged.</summary>
    public AnomalyThreshold Threshold
    {
        get => threshold;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            AnomalyDataException.ThrowIfNonFinite([value.Value], nameof(value), "The threshold");
            threshold = value;
        }
    }

    /// <summary>
    /// Fits a detector on normal data with a trained model: scores <paramref name="normal"/>, fits the latent Gaussian and the
    /// standardisation on it, and calibrates the threshold on the chosen score (<see cref="AnomalyDetectorOptions.FalsePositiveRate"/>
    /// or <see cref="AnomalyDetectorOptions.Contamination"/>). Data the model was trained on gives lower errors than new data,
    /// so for a threshold with the stated false-positive rate, recalibrate on held-out normal data with <see cref="Calibrate"/>.
    /// </summary>
    /// <param name="model">A trained autoencoder (not owned: dispose it yourself after the detector).</param>
    /// <param name="normal">Normal samples (labels are not used).</param>
    /// <param name="options">Scoring and threshold settings; null uses the defaults.</param>
    /// <exception cref="AnomalyDataException">The normal set is empty or constant, or the model gives non-finite scores for it.</exception>
    /// <exception cref="ArgumentException">An option is invalid, the negative ELBO is asked of a model that is not variational, the normal samples do not fit the model's input shape, or the model's latent size is above <see cref="GaussianLatentModel.MaxDimensions"/> (checked before any scoring).</exception>
    public static AnomalyDetector Fit(IAutoencoder model, Dataset normal, AnomalyDetectorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(normal);
        options ??= new AnomalyDetectorOptions();
        options.Validate();
        if (options.Uses(AnomalyScoreKind.NegativeElbo) && model is not IVariationalAutoencoder)
        {
            throw new ArgumentException($"The negative ELBO needs a variational autoencoder; this model is a {model.GetType().Name}. Choose Reconstruction, Latent or Combined (without NegativeElbo).", nameof(options));
        }

        if (GaussianLatentModel.DimensionProblem(model.LatentSize) is { } tooWide)
        {
            throw new ArgumentException($"The model's latent size is {model.LatentSize:N0}. {tooWide}", nameof(model));
        }

        if (normal.Count == 0)
        {
            throw new AnomalyDataException(AnomalyDataError.Empty, $"The normal set '{normal.Name}' is empty: give at least two normal samples.", nameof(normal));
        }

        if (normal.ValueRange == SampleRange.Unbounded && options.Uses(AnomalyScoreKind.Reconstruction) && options.ReconstructionError == ReconstructionLoss.BinaryCrossEntropy)
        {
            throw new ArgumentException($"The normal set '{normal.Name}' holds unbounded values, for which binary cross-entropy is undefined: set ReconstructionError to MeanSquaredError.", nameof(options));
        }

        InputShapeRules.CheckDataset(normal, model.InputShape, model.GetType().Name, nameof(normal));
        var raw = RawScores(model, options, Batches(normal, options.BatchSize), normal.Count, nameof(normal));
        var latent = GaussianLatentModel.Fit(raw.Codes, normal.Count, model.LatentSize, options.LatentShrinkage);
        var latentScores = latent.Distances(raw.Codes, normal.Count);
        var parts = options.CombinedScores.Select(k => (IReadOnlyList<double>)Part(k, raw.Reconstruction, raw.Elbo, latentScores)).ToArray();
        var standardizer = ScoreStandardizer.Fit(parts);
        var set = new AnomalyScoreSet(raw.Reconstruction, raw.Elbo, latentScores, standardizer.Combine(parts));
        var chosen = set.Get(options.Score);
        var threshold = options.Contamination is { } c
            ? AnomalyThreshold.FromContamination(chosen, c)
            : AnomalyThreshold.FromFalsePositiveRate(chosen, options.FalsePositiveRate);
        return new AnomalyDetector(model, ownsModel: false, options, latent, standardizer, threshold, normal.Count) { FittedScores = set };
    }

    /// <summary>Loads a detector saved with <see cref="Save"/>: the model, the scoring settings, the fitted statistics and the threshold. The detector owns the model.</summary>
    /// <exception cref="ModelFileException">The file is missing, not a LatentKit file, damaged (including detector statistics that are not finite or do not fit the model), of a newer format, or holds another kind of model (or a custom model: use <see cref="LoadCustom"/>).</exception>
    public static AnomalyDetector Load(string path) => AnomalyDetectorFile.Load(path, null);

    /// <summary>
    /// Loads a detector whose model is a custom autoencoder into freshly built modules of the same architecture, as
    /// <see cref="AutoencoderFile.LoadCustom"/> does for a model file.
    /// </summary>
    /// <exception cref="ModelFileException">As for <see cref="Load"/>; <see cref="ModelFileError.WeightsMismatch"/> when the modules differ from the saved ones.</exception>
    public static AnomalyDetector LoadCustom(string path, nn.Module<Tensor, Tensor> encoder, nn.Module<Tensor, Tensor> decoder)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(decoder);
        return AnomalyDetectorFile.Load(path, new CustomModules(encoder, decoder));
    }

    /// <summary>
    /// Writes the detector (model, scoring settings, fitted statistics, threshold) to one file, atomically, in the
    /// LatentKit model format; load it with <see cref="Load"/>.
    /// </summary>
    /// <exception cref="NotSupportedException">The model is not one of LatentKit's autoencoders, which are the ones a file can rebuild.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is an existing folder or ends in a separator (nothing is written or created).</exception>
    /// <exception cref="IOException">The file cannot be written (the message names <paramref name="path"/> and why); an existing file there is left as it was.</exception>
    public void Save(string path)
    {
        ThrowIfDisposed();
        AnomalyDetectorFile.Save(this, path);
    }

    /// <summary>The anomaly score (<see cref="ScoreKind"/>) of every sample of <paramref name="data"/>, in order.</summary>
    /// <exception cref="AnomalyDataException">The model gives a non-finite score for a sample (named by index).</exception>
    public double[] Score(Dataset data) => ScoreAll(data).Get(ScoreKind);

    /// <summary>The anomaly score (<see cref="ScoreKind"/>) of every sample in <paramref name="samples"/> (a batch in a shape the model accepts).</summary>
    /// <exception cref="ArgumentException">The tensor's shape does not fit the model.</exception>
    /// <exception cref="AnomalyDataException">The model gives a non-finite score for a sample (named by index).</exception>
    public double[] Score(Tensor samples) => ScoreAll(samples).Get(ScoreKind);

    /// <summary>Every score kind for every sample of <paramref name="data"/> (the negative ELBO only for variational models).</summary>
    /// <exception cref="ArgumentException">The samples of <paramref name="data"/> do not fit the model's input shape.</exception>
    /// <exception cref="AnomalyDataException">The model gives a non-finite score for a sample (named by index).</exception>
    public AnomalyScoreSet ScoreAll(Dataset data)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(data);
        InputShapeRules.CheckDataset(data, Model.InputShape, Model.GetType().Name, nameof(data));
        return Complete(RawScores(Model, Options, Batches(data, Options.BatchSize), data.Count, nameof(data)), data.Count, nameof(data));
    }

    /// <summary>Every score kind for every sample in <paramref name="samples"/>.</summary>
    /// <exception cref="ArgumentException">The tensor's shape does not fit the model.</exception>
    /// <exception cref="AnomalyDataException">The model gives a non-finite score for a sample (named by index).</exception>
    public AnomalyScoreSet ScoreAll(Tensor samples)
    {
        ThrowIfDisposed();
        InputShapeRules.Check(samples, Model.InputShape, nameof(samples));
        var count = samples.dim() == 0 ? 0 : (int)samples.shape[0];
        return Complete(RawScores(Model, Options, [() => samples.alias()], count, nameof(samples)), count, nameof(samples));
    }

    /// <summary>The score, the flag and the threshold of every sample of <paramref name="data"/>.</summary>
    /// <exception cref="AnomalyDataException">The model gives a non-finite score for a sample.</exception>
    public AnomalyPrediction[] Predict(Dataset data) => Flag(Score(data));

    /// <summary>The score, the flag and the threshold of every sample in <paramref name="samples"/>.</summary>
    /// <exception cref="ArgumentException">The tensor's shape does not fit the model.</exception>
    /// <exception cref="AnomalyDataException">The model gives a non-finite score for a sample.</exception>
    public AnomalyPrediction[] Predict(Tensor samples) => Flag(Score(samples));

    /// <summary>
    /// Recalibrates <see cref="Threshold"/> on normal data (best data the model was not trained on) so that at most
    /// <paramref name="falsePositiveRate"/> of it is flagged; returns the new threshold.
    /// </summary>
    /// <exception cref="AnomalyDataException">The data is empty or gives non-finite scores.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The rate is not in [0, 1).</exception>
    public AnomalyThreshold Calibrate(Dataset normal, double falsePositiveRate)
    {
        ArgumentNullException.ThrowIfNull(normal);
        AnomalyThreshold.CheckFraction(falsePositiveRate, nameof(falsePositiveRate));
        if (normal.Count == 0)
        {
            throw new AnomalyDataException(AnomalyDataError.Empty, $"The normal set '{normal.Name}' is empty: give at least one normal sample.", nameof(normal));
        }

        InputShapeRules.CheckDataset(normal, Model.InputShape, Model.GetType().Name, nameof(normal));

        Threshold = AnomalyThreshold.FromFalsePositiveRate(Score(normal), falsePositiveRate);
        return Threshold;
    }

    /// <summary>
    /// The per-value reconstruction error of each sample (binary cross-entropy or squared error, as
    /// <see cref="AnomalyDetectorOptions.ReconstructionError"/>), shaped like the input: a picture of where an image
    /// differs from what the model expects. Summed over a sample it is the <see cref="AnomalyScoreKind.Reconstruction"/> score.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor's shape does not fit the model.</exception>
    public Tensor ErrorMaps(Tensor samples)
    {
        ThrowIfDisposed();
        InputShapeRules.Check(samples, Model.InputShape, nameof(samples));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var codes = Model is IVariationalAutoencoder vae ? vae.EncodeDistribution(samples).Mean : Model.Encode(samples);
        var pixels = Model.Decode(codes).reshape(samples.shape).cpu();
        return PixelErrors(samples.to(ScalarType.Float32).cpu(), pixels, Options.ReconstructionError).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The error map of sample <paramref name="index"/> of <paramref name="data"/>: one value per sample value, in the
    /// order of <see cref="Dataset.SampleShape"/> (for an image C x H x W, row by row per channel).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is not in the data.</exception>
    public float[] ErrorMap(Dataset data, int index)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, data.Count);
        using var scope = NewDisposeScope();
        using var batch = data.Subset([index]).GetBatches(1).Single();
        return ErrorMaps(batch.Samples).data<float>().ToArray();
    }

    /// <summary>Disposes the model when the detector owns it (a loaded detector).</summary>
    public void Dispose()
    {
        if (!disposed)
        {
            disposed = true;
            if (ownsModel)
            {
                Model.Dispose();
            }
        }
    }

    /// <summary>The per-value error of reconstructions <paramref name="reconstructed"/> of <paramref name="input"/>.</summary>
    internal static Tensor PixelErrors(Tensor input, Tensor reconstructed, ReconstructionLoss error)
    {
        if (error == ReconstructionLoss.MeanSquaredError)
        {
            return input.sub(reconstructed).square();
        }

        // -(x log p + (1 - x) log(1 - p)), p clamped away from 0 and 1.
        var p = reconstructed.clamp(ClampLow, ClampHigh);
        var missed = input.neg().add_(Scalars.One).mul_(p.neg().add_(Scalars.One).log_());
        return input.mul(p.log()).add_(missed).neg_();
    }

    private AnomalyPrediction[] Flag(double[] scores)
    {
        var t = Threshold.Value;
        return Array.ConvertAll(scores, s => new AnomalyPrediction(s, s > t, t));
    }

    private AnomalyScoreSet Complete(Raw raw, int count, string paramName)
    {
        var latentScores = LatentModel.Distances(raw.Codes, count);
        var parts = Options.CombinedScores.Select(k => (IReadOnlyList<double>)Part(k, raw.Reconstruction, raw.Elbo, latentScores)).ToArray();
        var set = new AnomalyScoreSet(raw.Reconstruction, raw.Elbo, latentScores, Standardizer.Combine(parts));
        AnomalyDataException.ThrowIfNonFinite(set.Get(ScoreKind), paramName, "The anomaly scores");
        return set;
    }

    private static double[] Part(AnomalyScoreKind kind, double[] reconstruction, double[]? elbo, double[] latent) => kind switch
    {
        AnomalyScoreKind.Reconstruction => reconstruction,
        AnomalyScoreKind.NegativeElbo => elbo ?? throw new ArgumentException("The negative ELBO needs a variational autoencoder.", nameof(kind)),
        _ => latent,
    };

    private static IEnumerable<Func<Tensor>> Batches(Dataset data, int batchSize)
    {
        foreach (var batch in data.GetBatches(batchSize))
        {
            // The caller takes an alias inside its dispose scope; the batch itself is disposed when the next one is read.
            using (batch)
            {
                yield return () => batch.Samples.alias();
            }
        }
    }

    /// <summary>Reconstruction errors, negative ELBOs (variational models) and codes of the samples, batch by batch.</summary>
    private static Raw RawScores(IAutoencoder model, AnomalyDetectorOptions options, IEnumerable<Func<Tensor>> batches, int count, string paramName)
    {
        var reconstruction = new double[count];
        var vae = model as IVariationalAutoencoder;
        var elbo = vae is null ? null : new double[count];
        var codes = new float[(long)count * model.LatentSize];
        var done = 0;
        foreach (var batch in batches)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var x = batch();
            var n = (int)x.shape[0];
            Tensor code;
            Tensor? kl = null;
            if (vae is not null)
            {
                var (mean, logVariance) = vae.EncodeDistribution(x);
                code = mean;
                kl = logVariance.add(Scalars.One).sub_(mean.square()).sub_(logVariance.exp()).sum(1).mul_(Scalars.MinusHalf).cpu();
            }
            else
            {
                code = model.Encode(x);
            }

            var input = x.to(ScalarType.Float32).cpu().reshape(n, -1);
            var pixels = model.Decode(code).cpu().reshape(n, -1);
            var errors = PixelErrors(input, pixels, options.ReconstructionError).sum(1).to(ScalarType.Float64);
            errors.data<double>().CopyTo(reconstruction.AsSpan(done, n));
            if (kl is not null)
            {
                var bce = options.ReconstructionError == ReconstructionLoss.BinaryCrossEntropy ? errors : PixelErrors(input, pixels, ReconstructionLoss.BinaryCrossEntropy).sum(1).to(ScalarType.Float64);
                bce.add(kl.to(ScalarType.Float64)).data<double>().CopyTo(elbo.AsSpan(done, n));
            }

            code.to(ScalarType.Float32).cpu().contiguous().data<float>().CopyTo(codes.AsSpan(done * model.LatentSize, n * model.LatentSize));
            done += n;
        }

        AnomalyDataException.ThrowIfNonFinite(reconstruction, paramName, "The reconstruction errors");
        if (elbo is not null)
        {
            AnomalyDataException.ThrowIfNonFinite(elbo, paramName, "The negative ELBOs");
        }

        return new Raw(reconstruction, elbo, codes);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(disposed, this);

    private sealed record Raw(double[] Reconstruction, double[]? Elbo, float[] Codes);
}
