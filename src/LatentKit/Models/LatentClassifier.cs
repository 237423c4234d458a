using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace LatentKit;

/// <summary>The architecture of a classifier head; stored in the manifest of a saved classifier.</summary>
internal sealed record ClassifierSpec
{
    public ClassifierHead Head { get; init; } = ClassifierHead.Logits;

    public int[] HiddenLayers { get; init; } = [128];

    public Activation Activation { get; init; } = Activation.ReLU;

    public int? Seed { get; init; }

    /// <summary>Dropout probability after each hidden layer's activation (0: none).</summary>
    public double Dropout { get; init; }

    /// <summary>Batch normalisation between each hidden linear layer and its activation.</summary>
    public bool BatchNorm { get; init; }

    /// <summary>Fine-tuning: the encoder's learning rate; <see langword="null"/> for a frozen encoder.</summary>
    public double? EncoderLearningRate { get; init; }

    /// <summary>Number of classes (outputs of the head); files of format 1 lack it: 10.</summary>
    public int ClassCount { get; init; } = MnistDataset.ClassCount;

    /// <summary>One name per class; <see langword="null"/> for "0", "1", ...</summary>
    public string[]? ClassNames { get; init; }
}

/// <summary>
/// A classifier on the latent codes of an <see cref="IAutoencoder"/> (for a variational autoencoder, on the mean
/// of the latent distribution). The head is dense: latent → hidden widths (default one layer of 128, ReLU; optionally
/// with batch normalisation and dropout) → <see cref="ClassCount"/> (default 10, the digits; set it with
/// <see cref="LatentClassifierBuilder.ForData"/> or <see cref="LatentClassifierBuilder.WithClasses(string[])"/>, which
/// also name the classes). Build one with <see cref="For"/>.
/// <para>
/// Frozen (the default): the encoder's weights never change; codes are computed in evaluation mode without gradients,
/// and only the head is trained. Fine-tuned (<see cref="LatentClassifierBuilder.WithFineTuning"/>): the classifier
/// owns a <em>copy</em> of the autoencoder made at <see cref="LatentClassifierBuilder.Build"/> and trains that copy's
/// encoder together with the head, end to end on images; <see cref="Autoencoder"/> is then the copy, and the
/// autoencoder given to <see cref="For"/> is never changed.
/// </para>
/// <para>
/// Threads: <see cref="Predict(Tensor)"/>, <see cref="PredictProbabilities"/>, <see cref="Evaluate"/> and <see cref="Save"/>
/// may be called on one classifier from several threads at once; they take the classifier's lock (and the
/// autoencoder's, for encoding) and run one after another. <see cref="Train"/> holds the lock for the whole run, and a
/// call on the classifier meanwhile throws an <see cref="InvalidOperationException"/>; so does a prediction while its
/// autoencoder is being trained. <see cref="Dispose"/> must not run concurrently with any other call.
/// </para>
/// </summary>
public sealed partial class LatentClassifier : IDisposable, ITrainable
{
    private readonly nn.Module<Tensor, Tensor> head;
    private readonly bool ownsAutoencoder;
    private readonly Network? fineTuned;
    private bool disposed;

    internal LatentClassifier(IAutoencoder autoencoder, ClassifierSpec spec, TrainingOptions defaultTraining, bool ownsAutoencoder, bool applySeed)
    {
        // A classifier on a disposed autoencoder could be built but never used: refused, naming the autoencoder.
        (autoencoder as AutoencoderBase)?.ThrowIfDisposed();
        Autoencoder = autoencoder;
        Spec = spec;
        Guard = new ModelGuard(() => $"This latent classifier ({spec.Head})");
        DefaultTraining = defaultTraining;
        this.ownsAutoencoder = ownsAutoencoder;
        head = NetworkParts.SeededConstruction(
            applySeed ? spec.Seed : null,
            () => NetworkParts.ClassifierHead([autoencoder.LatentSize, .. spec.HiddenLayers, spec.ClassCount], spec.Activation, spec.BatchNorm, spec.Dropout));
        ClassNames = spec.ClassNames ?? [.. Enumerable.Range(0, spec.ClassCount).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))];
        if (autoencoder.Device.type != DeviceType.CPU)
        {
            head.to(autoencoder.Device);
        }

        if (spec.EncoderLearningRate is not null)
        {
            if (autoencoder is not AutoencoderBase encoder || !ownsAutoencoder)
            {
                throw new ArgumentException("Fine-tuning needs a LatentKit autoencoder that the classifier owns (the builder makes the copy).", nameof(autoencoder));
            }

            fineTuned = new Network("FineTunedClassifier", ("encoder", encoder.Network), ("head", head));
        }
    }

    /// <summary>Number of classes (outputs of the head): 10 by default, or as set by <see cref="LatentClassifierBuilder.WithClasses(int)"/> or <see cref="LatentClassifierBuilder.ForData"/>.</summary>
    public int ClassCount => Spec.ClassCount;

    /// <summary>The class names, in class order ("0", "1", ... unless given); saved with the classifier and used by <see cref="PredictClassNames"/> and <see cref="ClassificationMetrics"/>.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>True when training also trains the encoder (the classifier's own copy of it), end to end.</summary>
    public bool IsFineTuned => Spec.EncoderLearningRate is not null;

    /// <summary>The encoder's learning rate when fine-tuning; <see langword="null"/> for a frozen encoder.</summary>
    public double? EncoderLearningRate => Spec.EncoderLearningRate;

    /// <summary>Dropout probability after each hidden layer (0: none).</summary>
    public double Dropout => Spec.Dropout;

    /// <summary>True when each hidden layer is batch-normalised before its activation.</summary>
    public bool BatchNorm => Spec.BatchNorm;

    /// <summary>The frozen autoencoder whose codes are classified.</summary>
    public IAutoencoder Autoencoder { get; }

    /// <summary>What the last layer outputs and how it is trained.</summary>
    public ClassifierHead HeadKind => Spec.Head;

    /// <summary>Widths of the head's hidden layers (default one layer of 128).</summary>
    public IReadOnlyList<int> HiddenLayers => Spec.HiddenLayers;

    /// <summary>Activation after each hidden layer of the head.</summary>
    public Activation Activation => Spec.Activation;

    /// <summary>The settings <see cref="Train"/> uses when it is given no options.</summary>
    public TrainingOptions DefaultTraining { get; }

    internal ClassifierSpec Spec { get; }

    /// <summary>The classifier's lock: inference calls serialise on it, training holds it and refuses other calls.</summary>
    internal ModelGuard Guard { get; }

    /// <summary>The head's layers (tests count them).</summary>
    internal nn.Module<Tensor, Tensor> Head => head;

    string ITrainable.DisplayName => $"Latent classifier ({Spec.Head})";

    nn.Module ITrainable.Network => fineTuned ?? (nn.Module)head;

    /// <summary>Whether training leaves the encoder as it is (only the head is trained).</summary>
    internal bool EncoderFrozen => fineTuned is null;

    IEnumerable<TorchSharp.Modules.Parameter> ITrainable.TrainableParameters => fineTuned?.parameters() ?? head.parameters();

    IReadOnlyList<(IEnumerable<TorchSharp.Modules.Parameter> Parameters, double? LearningRate)> ITrainable.OptimizerGroups => fineTuned is null
        ? [(head.parameters(), null)]
        : [(head.parameters(), null), (((AutoencoderBase)Autoencoder).Network.parameters(), Spec.EncoderLearningRate)];

    Device ITrainable.Device => Autoencoder.Device;

    int ITrainable.MinimumBatchSize => Spec.BatchNorm ? 2 : 1;

    /// <summary>Starts building a classifier on the codes of <paramref name="autoencoder"/>.</summary>
    public static LatentClassifierBuilder For(IAutoencoder autoencoder) => new(autoencoder);

    /// <summary>
    /// Starts building the raw-pixel baseline for MNIST: the same head, options and training engine on the 784 pixels
    /// of each image instead of a latent code (an identity "encoder" with nothing to train; it cannot be fine-tuned or
    /// saved). For other data use <see cref="ForPixels(Dataset)"/>.
    /// </summary>
    public static LatentClassifierBuilder ForPixels() => new(new PixelEncoder());

    /// <summary>
    /// Starts building the raw-values baseline for <paramref name="data"/>'s samples: the same head, options and
    /// training engine on each sample's values as they are (pixels in [0, 1] for images, feature values unchanged),
    /// flattened, instead of a latent code. The input shape is <paramref name="data"/>'s
    /// <see cref="Dataset.SampleShape"/>, and the class count and names are taken from it as
    /// <see cref="LatentClassifierBuilder.ForData"/> does. Like <see cref="ForPixels()"/> it cannot be fine-tuned or saved.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="data"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="data"/> has no labels.</exception>
    public static LatentClassifierBuilder ForPixels(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return new LatentClassifierBuilder(new PixelEncoder(data.SampleShape)).ForData(data);
    }

    /// <summary>Loads a classifier, with the autoencoder it runs on, from a file written by <see cref="Save"/>.</summary>
    /// <exception cref="ModelFileException">The file is missing, not a LatentKit model file, truncated or damaged (including a manifest field the builders would refuse, named in the message), of a newer format, holds an autoencoder only, or its weights do not match its architecture. Nothing stays allocated.</exception>
    public static LatentClassifier Load(string path) => ModelFile.LoadClassifier(path);

    /// <summary>
    /// Trains the head on the codes of <paramref name="training"/>'s images (computed once, without gradients) and
    /// their labels; the autoencoder is not changed. When fine-tuning, trains the classifier's own copy of the encoder
    /// and the head together on the images (the encoder with <see cref="EncoderLearningRate"/>, the head with the
    /// options' learning rate; both follow the options' schedule).
    /// </summary>
    /// <param name="training">Labelled images.</param>
    /// <param name="options">Training settings; <see langword="null"/> uses <see cref="DefaultTraining"/>.</param>
    /// <param name="run">Where and how to train (device, threads, progress, logger, validation set, callbacks); <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops training at the next batch with a <see cref="TrainingCanceledException"/> carrying the epochs run so far; the model stays usable.</param>
    /// <exception cref="ArgumentException">Settings of the options or the run are out of range (a <see cref="LatentKitValidationException"/> listing every one); the head has batch norm and the batch size or the training set is a single image; or the dataset has no labels, more classes than the head's, or samples of another shape than the autoencoder's input.</exception>
    /// <exception cref="TrainingDivergedException">A loss, the weights or the outputs became NaN or infinite; the trained weights were restored to those at the start of the epoch, which are finite.</exception>
    /// <exception cref="TrainingCanceledException"><paramref name="cancellationToken"/> was cancelled; the exception's history holds the epochs run so far.</exception>
    public TrainingHistory Train(Dataset training, TrainingOptions? options = null, TrainingRun? run = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(training);
        options ??= DefaultTraining;
        run ??= new TrainingRun();
        Trainer.ValidateSettings(options, run);
        CheckData(training, nameof(training));
        if (run.ValidationSet is { } validationSet)
        {
            CheckData(validationSet, nameof(TrainingRun.ValidationSet));
        }

        using var trainingScope = Guard.EnterTraining();
        using var encoderRun = fineTuned is null ? (ModelGuard.Scope?)null : ((AutoencoderBase)Autoencoder).Guard.EnterTraining();
        if (fineTuned is not null)
        {
            using var images = TrainingSplit.Open(training, options, run, data => data.OpenReader(withLabels: true));
            return Trainer.Train(this, images.Training, images.Validation, options, run, cancellationToken);
        }

        // Frozen: the codes of every image are computed once, without gradients; a validation split is rows of them.
        using var codes = TrainingSplit.Open(training, options, run, data => new TrainingData(Autoencoder.EncodeDataset(data), data.Store.LabelsTensor()));
        return Trainer.Train(this, codes.Training, codes.Validation, options, run, cancellationToken);
    }

    /// <summary>Class probabilities (<c>N x ClassCount</c>, rows sum to 1) for samples shaped like the autoencoder's input (or flattened, <c>N x size</c>).</summary>
    public Tensor PredictProbabilities(Tensor images)
    {
        ThrowIfDisposed();
        using var use = Guard.EnterUse();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        head.eval();
        var logits = head.forward(Autoencoder.Encode(images));
        var probabilities = Spec.Head == ClassifierHead.Logits
            ? F.softmax(logits, 1)
            : NormalisedSigmoid(logits);
        return probabilities.MoveToOuterDisposeScope();
    }

    /// <summary>The name (<see cref="ClassNames"/>) of the predicted class of each sample.</summary>
    public string[] PredictClassNames(Tensor images) => Array.ConvertAll(Predict(images), c => ClassNames[c]);

    /// <summary>The predicted class of each sample (the most probable class, an index into <see cref="ClassNames"/>).</summary>
    public int[] Predict(Tensor images)
    {
        ThrowIfDisposed();
        using var use = Guard.EnterUse();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        head.eval();
        var predicted = head.forward(Autoencoder.Encode(images)).argmax(1).cpu();
        return predicted.data<long>().Select(v => (int)v).ToArray();
    }

    /// <summary>Accuracy, confusion matrix and per-class recall on <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentException">The dataset has no labels, more classes than the head's, samples of another shape than the autoencoder's input, or no sample (its accuracy would be NaN).</exception>
    public ClassificationMetrics Evaluate(Dataset data, int batchSize = Trainer.EvaluationBatchSize)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        CheckData(data, nameof(data));
        Trainer.ThrowIfEmpty(data.Count, "evaluate", ((ITrainable)this).DisplayName, nameof(data));
        using var use = Guard.EnterUse();
        var confusion = new int[Spec.ClassCount, Spec.ClassCount];
        using var codes = Autoencoder.EncodeDataset(data, batchSize);
        using var noGrad = no_grad();
        head.eval();
        for (var start = 0; start < data.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var count = Math.Min(batchSize, data.Count - start);
            var predicted = head.forward(codes.narrow(0, start, count).to(Autoencoder.Device)).argmax(1).cpu().data<long>().ToArray();
            for (var i = 0; i < count; i++)
            {
                confusion[data.GetLabel(start + i), predicted[i]]++;
            }
        }

        return new ClassificationMetrics(confusion, ClassNames);
    }

    /// <summary>
    /// Checks that <paramref name="data"/> has labels of the head's <see cref="ClassCount"/> classes (a head of ten
    /// outputs trained on three classes would predict classes the data does not have) and samples the autoencoder takes.
    /// </summary>
    private void CheckData(Dataset data, string parameterName)
    {
        data.RequireLabels(parameterName);
        switch (Autoencoder)
        {
            case AutoencoderBase model:
                model.CheckShape(data, parameterName);
                break;
            case PixelEncoder pixels:
                pixels.CheckShape(data, parameterName);
                break;
        }

        if (data.ClassCount != Spec.ClassCount)
        {
            throw new ArgumentException(
                $"Dataset '{data.Name}' has {data.ClassCount} classes, but the classifier's head has {Spec.ClassCount} outputs; build it with ForData(dataset) or WithClasses({data.ClassCount}).",
                parameterName);
        }

        // Named classes on both sides must be the same classes in the same order: a head of ["cat", "dog"] trained on
        // data of ["dog", "cat"] would report every prediction under the other name. Default names ("0", "1", ...) on
        // either side carry no meaning to compare.
        if (!IsDefault(ClassNames) && !IsDefault(data.ClassNames) && !ClassNames.SequenceEqual(data.ClassNames, StringComparer.Ordinal))
        {
            throw new ArgumentException(
                $"Dataset '{data.Name}' has the classes {Listed(data.ClassNames)}, but the classifier's are {Listed(ClassNames)}: labels would be read as other classes; build it with ForData(dataset), or give the data the classifier's class names in its order.",
                parameterName);
        }

        static bool IsDefault(IReadOnlyList<string> names) =>
            names.Select((name, i) => name == i.ToString(System.Globalization.CultureInfo.InvariantCulture)).All(same => same);

        static string Listed(IReadOnlyList<string> names) =>
            $"[{string.Join(", ", names.Take(10).Select(n => $"'{n}'"))}{(names.Count > 10 ? ", ..." : string.Empty)}]";
    }

    /// <summary>Writes the classifier and its autoencoder to one file, atomically. Load it with <see cref="Load(string)"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="path"/> is an existing folder or ends in a separator (nothing is written or created).</exception>
    /// <exception cref="IOException">The file cannot be written (the message names <paramref name="path"/> and why); an existing file there is left as it was.</exception>
    public void Save(string path)
    {
        ThrowIfDisposed();
        if (Autoencoder is not AutoencoderBase)
        {
            throw new NotSupportedException("Only classifiers on LatentKit's own autoencoders can be saved.");
        }

        using var use = Guard.EnterUse();
        using var encoderUse = ((AutoencoderBase)Autoencoder).Guard.EnterUse();
        ModelFile.SaveClassifier(this, path);
    }

    /// <summary>Frees the head's weights, and the autoencoder's when the classifier was loaded from a file (and so owns it).</summary>
    public void Dispose()
    {
        if (!disposed)
        {
            disposed = true;
            Guard.Release(head.Dispose);
            if (ownsAutoencoder)
            {
                Autoencoder.Dispose();
            }
        }
    }

    private static readonly Scalar MinimumSum = Scalars.Of(1e-12);

    private static Tensor NormalisedSigmoid(Tensor logits)
    {
        var s = logits.sigmoid();
        return s / s.sum(1, keepdim: true).clamp_min(MinimumSum);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(disposed, this);

    Tensor ITrainable.PrepareInputs(Tensor raw) => fineTuned is null ? raw.to(Autoencoder.Device) : ((AutoencoderBase)Autoencoder).PrepareInputs(raw);

    Tensor ITrainable.ComputeLoss(Tensor inputs, Tensor? targets, Generator? noise) => ((ITrainable)this).ComputeLoss(inputs, targets, noise, figureSums: null);

    IReadOnlyList<string> ITrainable.FigureNames => [Metric.Accuracy];

    IReadOnlyList<string> ITrainable.TrainingFigureNames => [Metric.Accuracy];

    Tensor ITrainable.ComputeLoss(Tensor inputs, Tensor? targets, Generator? noise, Tensor? figureSums)
    {
        var logits = NetworkParts.Forward(head, fineTuned is null ? inputs : ((AutoencoderBase)Autoencoder).EncodeCore(inputs), noise);
        if (figureSums is not null)
        {
            // The batch's correctly classified samples (the predicted class is the largest logit, as in Evaluate), added
            // on the device: training and evaluation alike.
            using var noGrad = no_grad();
            figureSums.add_(logits.detach().argmax(1).eq(targets!).sum(), Scalars.One);
        }

        return Spec.Head == ClassifierHead.Logits
            ? F.cross_entropy(logits, targets!)
            : F.binary_cross_entropy_with_logits(logits, F.one_hot(targets!, Spec.ClassCount).to(ScalarType.Float32));
    }

    void ITrainable.MoveTo(Device device)
    {
        if (device.type != Autoencoder.Device.type || device.index != Autoencoder.Device.index)
        {
            throw new ArgumentException($"A latent classifier trains on its autoencoder's device ({Autoencoder.Device}); TrainingRun.Device was {device}.", nameof(device));
        }
    }

    void ITrainable.SetTrainingMode(bool training)
    {
        head.train(training);
        if (fineTuned is not null)
        {
            ((AutoencoderBase)Autoencoder).Network.train(training);
        }
    }
}
