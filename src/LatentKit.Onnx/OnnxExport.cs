using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using LatentKit.Onnx.Internal;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentKit.Onnx;

/// <summary>
/// Writes LatentKit models, and TorchSharp networks made of supported layers, as ONNX files that ONNX Runtime (and
/// ML.NET's <c>ApplyOnnxModel</c>) run without TorchSharp or libtorch.
/// <para>
/// Every file uses ONNX opset <see cref="Opset"/> (17; the tests run the files with ONNX Runtime 1.31.1 and ML.NET 5.0.1) and
/// IR version <see cref="IrVersion"/>; the first dimension of every input and output is a dynamic batch dimension
/// named <c>batch</c>, the others are fixed. Inputs and outputs are named as in <see cref="OnnxNames"/>; the metadata
/// carries the keys of <see cref="OnnxMetadataKeys"/>. Models are exported in evaluation mode: dropout is the identity
/// and batch normalisation uses its running statistics. Files are written atomically (a temporary file in the same
/// folder, then a rename), and nothing is written when the export fails.
/// </para>
/// <para>
/// Each export runs the model on a small probe batch in TorchSharp, layer by layer as the graph is built, and checks
/// the result against the model's own method (<c>Encode</c>, <c>Decode</c>, <c>Reconstruct</c>,
/// <c>PredictProbabilities</c>, or the module's <c>forward</c>): a network that does something the graph would not
/// (a skip connection in a custom <c>forward</c>, for example) is refused with an <see cref="UnsupportedLayerException"/>.
/// </para>
/// </summary>
public static class OnnxExport
{
    /// <summary>The ONNX operator set version of every exported file.</summary>
    public const int Opset = 17;

    /// <summary>The ONNX IR version of every exported file (8 goes with opset 17).</summary>
    public const long IrVersion = 8;

    /// <summary>The input normalisation of LatentKit's models on values in [0, 1] (a sigmoid output, no standardizer), as stored in the metadata.</summary>
    public const string PixelNormalization = "float32 pixels in [0, 1]: each byte 0-255 divided by 255 (no mean or standard-deviation shift)";

    /// <summary>The input normalisation of a model with a <see cref="FeatureStandardizer"/>, as stored in the metadata.</summary>
    public const string StandardizedNormalization = "float32 feature values in the data's units: the graph standardises them with the training data's mean and standard deviation ((x - mean) / std) and returns reconstructions in the data's units";

    /// <summary>The input normalisation of decoders and classifier heads (their input is codes), as stored in the metadata.</summary>
    public const string CodesNormalization = "none: latent codes as the exported encoder (or the model's Encode) gives them";

    private const int ProbeBatch = 2;
    private const ulong ProbeSeed = 20_251_129;
    private const double CheckRelativeTolerance = 1e-4;
    private const double CheckAbsoluteTolerance = 1e-5;

    /// <summary>
    /// Exports the encoder: <c>images</c> (float32, the model's input shape) → <c>codes</c> (float32
    /// <c>[batch, latent]</c>; for a variational autoencoder the mean of the latent distribution).
    /// </summary>
    /// <param name="autoencoder">A LatentKit autoencoder (dense, convolutional, variational or convolutional variational, of any input shape).</param>
    /// <param name="path">The file to write (replaced if it exists).</param>
    /// <param name="options">Optional metadata settings.</param>
    /// <returns>What was written.</returns>
    /// <exception cref="NotSupportedException">The autoencoder is not one of LatentKit's own.</exception>
    /// <exception cref="ObjectDisposedException">The autoencoder was disposed (the exception names it).</exception>
    /// <exception cref="UnsupportedLayerException">A layer cannot be exported (named with its path).</exception>
    /// <exception cref="InvalidOperationException">The model is being trained, or holds non-finite weights.</exception>
    public static OnnxModelInfo Encoder(IAutoencoder autoencoder, string path, OnnxExportOptions? options = null)
    {
        var model = LatentKitModel(autoencoder);
        return Export(path, options, "encoder", [model.Guard], model.Modules, null, metadata => Describe(metadata, model), (graph, walker) =>
        {
            var probe = Probe([ProbeBatch, .. model.InputShape], model.Device, uniform: true);
            var codes = ModelGraphs.Encode(graph, walker, model, graph.AddInput(OnnxNames.Images, probe));
            Check(codes.Probe, model.Encode(probe), "Encode");
            graph.AddOutput(codes, OnnxNames.Codes);
            return $"LatentKit {model.Kind} encoder: {OnnxNames.Images} → {OnnxNames.Codes}";
        });
    }

    /// <summary>
    /// Exports a variational autoencoder's encoder with its whole latent distribution: <c>images</c> →
    /// <see cref="OnnxNames.Mean"/> and <see cref="OnnxNames.LogVariance"/> (float32 <c>[batch, latent]</c> each, as
    /// <see cref="IVariationalAutoencoder.EncodeDistribution"/> gives them), for deployments that draw codes
    /// (<c>mean + exp(log_variance / 2) * noise</c>) or use the model's uncertainty. <see cref="Encoder"/> exports the
    /// mean alone.
    /// </summary>
    /// <param name="autoencoder">A LatentKit variational autoencoder (dense, convolutional or custom, of any input shape).</param>
    /// <param name="path">The file to write (replaced if it exists).</param>
    /// <param name="options">Optional metadata settings.</param>
    /// <returns>What was written.</returns>
    /// <exception cref="NotSupportedException">The autoencoder is not one of LatentKit's own variational autoencoders.</exception>
    /// <exception cref="ObjectDisposedException">The autoencoder was disposed (the exception names it).</exception>
    /// <exception cref="UnsupportedLayerException">A layer cannot be exported (named with its path).</exception>
    /// <exception cref="InvalidOperationException">The model is being trained, or holds non-finite weights.</exception>
    public static OnnxModelInfo EncoderDistribution(IVariationalAutoencoder autoencoder, string path, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(autoencoder);
        var model = LatentKitModel(autoencoder);
        return Export(path, options, "encoder_distribution", [model.Guard], model.Modules, null, metadata => Describe(metadata, model), (graph, walker) =>
        {
            var probe = Probe([ProbeBatch, .. model.InputShape], model.Device, uniform: true);
            var (mean, logVariance) = ModelGraphs.EncodeDistribution(graph, walker, model, graph.AddInput(OnnxNames.Images, probe));
            var (expectedMean, expectedLogVariance) = autoencoder.EncodeDistribution(probe);
            using (expectedMean)
            using (expectedLogVariance)
            {
                Check(mean.Probe, expectedMean, "EncodeDistribution (mean)");
                Check(logVariance.Probe, expectedLogVariance, "EncodeDistribution (log-variance)");
            }

            graph.AddOutput(mean, OnnxNames.Mean);
            graph.AddOutput(logVariance, OnnxNames.LogVariance);
            return $"LatentKit {model.Kind} encoder distribution: {OnnxNames.Images} → {OnnxNames.Mean}, {OnnxNames.LogVariance}";
        });
    }

    /// <summary>Exports the decoder: <c>codes</c> (float32 <c>[batch, latent]</c>) → <c>reconstruction</c> (float32, the model's input shape, as <see cref="IAutoencoder.Decode(TorchSharp.torch.Tensor)"/> gives it).</summary>
    /// <param name="autoencoder">A LatentKit autoencoder.</param>
    /// <param name="path">The file to write (replaced if it exists).</param>
    /// <param name="options">Optional metadata settings.</param>
    /// <returns>What was written.</returns>
    /// <exception cref="NotSupportedException">The autoencoder is not one of LatentKit's own.</exception>
    /// <exception cref="ObjectDisposedException">The autoencoder was disposed (the exception names it).</exception>
    /// <exception cref="UnsupportedLayerException">A layer cannot be exported (named with its path).</exception>
    /// <exception cref="InvalidOperationException">The model is being trained, or holds non-finite weights.</exception>
    public static OnnxModelInfo Decoder(IAutoencoder autoencoder, string path, OnnxExportOptions? options = null)
    {
        var model = LatentKitModel(autoencoder);
        return Export(path, options, "decoder", [model.Guard], model.Modules, null, metadata => Describe(metadata, model, inputIsCodes: true), (graph, walker) =>
        {
            var probe = Probe([ProbeBatch, model.LatentSize], model.Device, uniform: false);
            var pixels = ModelGraphs.Decode(graph, walker, model, graph.AddInput(OnnxNames.Codes, probe));
            Check(pixels.Probe, model.Decode(probe), "Decode");
            graph.AddOutput(pixels, OnnxNames.Reconstruction);
            return $"LatentKit {model.Kind} decoder: {OnnxNames.Codes} → {OnnxNames.Reconstruction}";
        });
    }

    /// <summary>Exports the whole autoencoder: <c>images</c> → <c>reconstruction</c> (both float32 in the model's input shape), through the codes (the mean, for a VAE).</summary>
    /// <param name="autoencoder">A LatentKit autoencoder.</param>
    /// <param name="path">The file to write (replaced if it exists).</param>
    /// <param name="options">Optional metadata settings.</param>
    /// <returns>What was written.</returns>
    /// <exception cref="NotSupportedException">The autoencoder is not one of LatentKit's own.</exception>
    /// <exception cref="ObjectDisposedException">The autoencoder was disposed (the exception names it).</exception>
    /// <exception cref="UnsupportedLayerException">A layer cannot be exported (named with its path).</exception>
    /// <exception cref="InvalidOperationException">The model is being trained, or holds non-finite weights.</exception>
    public static OnnxModelInfo Autoencoder(IAutoencoder autoencoder, string path, OnnxExportOptions? options = null)
    {
        var model = LatentKitModel(autoencoder);
        return Export(path, options, "autoencoder", [model.Guard], model.Modules, null, metadata => Describe(metadata, model), (graph, walker) =>
        {
            var probe = Probe([ProbeBatch, .. model.InputShape], model.Device, uniform: true);
            var codes = ModelGraphs.Encode(graph, walker, model, graph.AddInput(OnnxNames.Images, probe));
            var pixels = ModelGraphs.Decode(graph, walker, model, codes);
            Check(pixels.Probe, model.Reconstruct(probe), "Reconstruct");
            graph.AddOutput(pixels, OnnxNames.Reconstruction);
            return $"LatentKit {model.Kind} autoencoder: {OnnxNames.Images} → {OnnxNames.Reconstruction}";
        });
    }

    /// <summary>
    /// Exports a classifier with its encoder: <c>images</c> (float32, the autoencoder's input shape) →
    /// <c>probabilities</c> (float32 <c>[batch, classes]</c>, as <see cref="LatentClassifier.PredictProbabilities(TorchSharp.torch.Tensor)"/>)
    /// and <c>label</c> (int64 <c>[batch]</c>, as <see cref="LatentClassifier.Predict(TorchSharp.torch.Tensor)"/>). The class names go into
    /// the metadata.
    /// </summary>
    /// <param name="classifier">A latent classifier on a LatentKit autoencoder (frozen or fine-tuned) or on raw pixels.</param>
    /// <param name="path">The file to write (replaced if it exists).</param>
    /// <param name="options">Optional metadata settings (class names among them).</param>
    /// <returns>What was written.</returns>
    /// <exception cref="NotSupportedException">The classifier runs on an autoencoder that is not LatentKit's own.</exception>
    /// <exception cref="UnsupportedLayerException">A layer cannot be exported (named with its path).</exception>
    /// <exception cref="InvalidOperationException">The classifier or its autoencoder is being trained, or holds non-finite weights.</exception>
    public static OnnxModelInfo Classifier(LatentClassifier classifier, string path, OnnxExportOptions? options = null) =>
        ExportClassifier(classifier, path, options, fromImages: true);

    /// <summary>
    /// Exports a classifier's head alone: <c>codes</c> (float32 <c>[batch, latent]</c>, from an exported encoder) →
    /// <c>probabilities</c> and <c>label</c>, as <see cref="Classifier"/>.
    /// </summary>
    /// <param name="classifier">A latent classifier.</param>
    /// <param name="path">The file to write (replaced if it exists).</param>
    /// <param name="options">Optional metadata settings (class names among them).</param>
    /// <returns>What was written.</returns>
    /// <exception cref="UnsupportedLayerException">A layer cannot be exported (named with its path).</exception>
    /// <exception cref="InvalidOperationException">The classifier is being trained, or holds non-finite weights.</exception>
    public static OnnxModelInfo ClassifierHead(LatentClassifier classifier, string path, OnnxExportOptions? options = null) =>
        ExportClassifier(classifier, path, options, fromImages: false);

    /// <summary>
    /// Exports any TorchSharp network made of supported layers (see <see cref="UnsupportedLayerException"/>):
    /// <c>input</c> (float32 <c>[batch, ..inputShape]</c>) → <c>output</c>. Containers are walked child by child;
    /// a container of your own must run its children in registration order (checked on a probe batch).
    /// </summary>
    /// <param name="module">The network; it is put in evaluation mode for the export and its training flag restored after.</param>
    /// <param name="inputShape">The shape of one sample (without the batch dimension), for example <c>[3, 32, 32]</c> or <c>[30]</c>.</param>
    /// <param name="path">The file to write (replaced if it exists).</param>
    /// <param name="options">Optional metadata settings.</param>
    /// <returns>What was written.</returns>
    /// <exception cref="ArgumentException"><paramref name="inputShape"/> is empty, has a dimension below 1, or does not fit the network's first layer.</exception>
    /// <exception cref="UnsupportedLayerException">A layer cannot be exported (named with its path).</exception>
    /// <exception cref="InvalidOperationException">The network holds non-finite weights.</exception>
    public static OnnxModelInfo Module(nn.Module<Tensor, Tensor> module, IReadOnlyList<long> inputShape, string path, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(inputShape);
        if (inputShape.Count == 0 || inputShape.Any(d => d < 1) || inputShape.Aggregate(1.0, (p, d) => p * d) > ModelLimits.MaxParameters)
        {
            throw new ArgumentException($"The input shape must have at least one dimension, each at least 1, and at most {ModelLimits.MaxParameters:N0} values per sample; got [{string.Join(", ", inputShape)}].", nameof(inputShape));
        }

        var device = module.parameters().FirstOrDefault()?.device ?? CPU;
        var wasTraining = module.training;
        try
        {
            return Export(path, options, "module", [], module, null, metadata =>
            {
                metadata[OnnxMetadataKeys.InputNormalization] = "none stated";
            }, (graph, walker) =>
            {
                var probe = Probe([ProbeBatch, .. inputShape], device, uniform: false);
                var output = walker.Walk(module, string.Empty, graph.AddInput(OnnxNames.Input, probe));
                Check(output.Probe, module.forward(probe), "forward");
                graph.AddOutput(output, OnnxNames.Output);
                return $"TorchSharp {module.GetType().Name}: {OnnxNames.Input} → {OnnxNames.Output}";
            });
        }
        finally
        {
            module.train(wasTraining);
        }
    }

    /// <summary>
    /// Exports an anomaly detector with its autoencoder: <c>images</c> (float32, the model's input shape) →
    /// <c>score</c> (float64 <c>[batch]</c>, the detector's <see cref="AnomalyDetector.ScoreKind"/> as
    /// <see cref="AnomalyDetector.Score(TorchSharp.torch.Tensor)"/> gives it) and <c>is_anomaly</c> (bool <c>[batch]</c>,
    /// score strictly above the threshold, as <see cref="AnomalyDetector.Predict(TorchSharp.torch.Tensor)"/>). The score kind,
    /// the threshold, the reconstruction error and the combined scores go into the metadata. Every score kind is
    /// exported exactly: the reconstruction error (binary cross-entropy or squared error summed per sample), the
    /// negative ELBO (variational models), the Mahalanobis distance of the code (the fitted mean and the inverse of the
    /// covariance's Cholesky factor are constants of the graph) and the standardised combination (the fitted means and
    /// standard deviations are constants). The threshold is the one the detector has when exported; export again after
    /// <see cref="AnomalyDetector.Calibrate"/> or setting <see cref="AnomalyDetector.Threshold"/>.
    /// </summary>
    /// <param name="detector">A fitted (or loaded) detector on a LatentKit autoencoder.</param>
    /// <param name="path">The file to write (replaced if it exists).</param>
    /// <param name="options">Optional metadata settings.</param>
    /// <returns>What was written.</returns>
    /// <exception cref="NotSupportedException">The detector's autoencoder is not one of LatentKit's own.</exception>
    /// <exception cref="UnsupportedLayerException">A layer of the autoencoder cannot be exported (named with its path).</exception>
    /// <exception cref="InvalidOperationException">The model is being trained, or holds non-finite weights.</exception>
    public static OnnxModelInfo Detector(AnomalyDetector detector, string path, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(detector);
        if (detector.Model is not AutoencoderBase)
        {
            throw new NotSupportedException($"Only detectors on LatentKit's own autoencoders are exported; this one runs on a {detector.Model.GetType().Name}.");
        }

        var model = (AutoencoderBase)detector.Model;
        model.ThrowIfDisposed();
        var threshold = detector.Threshold.Value;
        var kind = detector.ScoreKind;
        return Export(path, options, "detector", [model.Guard], model.Modules, null, metadata =>
        {
            Describe(metadata, model);
            metadata[OnnxMetadataKeys.ScoreKind] = kind.ToString();
            metadata[OnnxMetadataKeys.Threshold] = threshold.ToString("R", CultureInfo.InvariantCulture);
            metadata[OnnxMetadataKeys.ThresholdRule] = detector.Threshold.Rule.ToString();
            metadata[OnnxMetadataKeys.ReconstructionError] = detector.Options.ReconstructionError.ToString();
            metadata[OnnxMetadataKeys.CombinedScores] = string.Join(",", detector.Options.CombinedScores);
        }, (graph, walker) =>
        {
            var probe = Probe([ProbeBatch, .. model.InputShape], model.Device, uniform: true);
            var images = graph.AddInput(OnnxNames.Images, probe);
            var needsElbo = kind == AnomalyScoreKind.NegativeElbo || (kind == AnomalyScoreKind.Combined && detector.Options.CombinedScores.Contains(AnomalyScoreKind.NegativeElbo));
            GraphValue codes;
            GraphValue? logVariance = null;
            if (needsElbo)
            {
                (codes, logVariance) = ModelGraphs.EncodeDistribution(graph, walker, model, images);
            }
            else
            {
                codes = ModelGraphs.Encode(graph, walker, model, images);
            }

            Check(codes.Probe, model.Encode(probe), "Encode");
            var pixels = ModelGraphs.Decode(graph, walker, model, codes);
            Check(pixels.Probe, model.Decode(model.Encode(probe)), "Decode");
            var score = DetectorGraph.Score(graph, detector, images, codes, pixels, logVariance);
            var flag = DetectorGraph.Flag(graph, score, threshold);
            using var batch = zeros(ProbeBatch);
            graph.AddOutput(new GraphValue(score, batch), OnnxNames.Score, TensorProto.Types.DataType.Double);
            graph.AddOutput(new GraphValue(flag, batch), OnnxNames.IsAnomaly, TensorProto.Types.DataType.Bool);
            return $"LatentKit {model.Kind} anomaly detector ({kind} score, threshold {threshold.ToString("R", CultureInfo.InvariantCulture)}): {OnnxNames.Images} → {OnnxNames.Score}, {OnnxNames.IsAnomaly}";
        });
    }

    private static OnnxModelInfo ExportClassifier(LatentClassifier classifier, string path, OnnxExportOptions? options, bool fromImages)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        var encoder = classifier.Autoencoder as AutoencoderBase;
        encoder?.ThrowIfDisposed();
        if (fromImages && encoder is null && classifier.Autoencoder is not PixelEncoder)
        {
            throw new NotSupportedException($"A classifier on a {classifier.Autoencoder.GetType().Name} cannot be exported with its encoder: only LatentKit's own autoencoders (and the raw-pixel baseline) are exported. Export the head alone with ClassifierHead.");
        }

        var classNames = options?.ClassNames ?? classifier.ClassNames;
        var graphKind = fromImages ? "classifier" : "classifier_head";
        var classCount = classifier.ClassCount;
        ModelGuard[] guards = fromImages && encoder is not null ? [classifier.Guard, encoder.Guard] : [classifier.Guard];
        return Export(path, options, graphKind, guards, classifier.Head, classCount, metadata =>
        {
            if (encoder is not null)
            {
                Describe(metadata, encoder, inputIsCodes: !fromImages);
            }
            else
            {
                metadata[OnnxMetadataKeys.ModelKind] = "Pixels";
                metadata[OnnxMetadataKeys.LatentSize] = classifier.Autoencoder.LatentSize.ToString(CultureInfo.InvariantCulture);
                metadata[OnnxMetadataKeys.InputNormalization] = PixelNormalization;
            }

            metadata[OnnxMetadataKeys.ClassNames] = JsonSerializer.Serialize(classNames);
        }, (graph, walker) =>
        {
            encoder?.Modules.eval();
            var device = classifier.Autoencoder.Device;
            GraphValue codes;
            Tensor? expected = null;
            if (fromImages)
            {
                var probe = Probe([ProbeBatch, .. classifier.Autoencoder.InputShape], device, uniform: true);
                codes = ModelGraphs.ClassifierCodes(graph, walker, classifier.Autoencoder, graph.AddInput(OnnxNames.Images, probe));
                expected = classifier.PredictProbabilities(probe);
            }
            else
            {
                var probe = Probe([ProbeBatch, classifier.Autoencoder.LatentSize], device, uniform: false);
                codes = graph.AddInput(OnnxNames.Codes, probe);
            }

            var (probabilities, label) = ModelGraphs.ClassifierOutputs(graph, walker, classifier, codes);
            if (expected is not null)
            {
                Check(probabilities.Probe, expected, "PredictProbabilities");
            }

            graph.AddOutput(probabilities, OnnxNames.Probabilities);
            graph.AddOutput(label, OnnxNames.Label, TensorProto.Types.DataType.Int64);
            return fromImages
                ? $"LatentKit latent classifier ({classifier.HeadKind}): {OnnxNames.Images} → {OnnxNames.Probabilities}, {OnnxNames.Label}"
                : $"LatentKit latent classifier head ({classifier.HeadKind}): {OnnxNames.Codes} → {OnnxNames.Probabilities}, {OnnxNames.Label}";
        });
    }

    private static AutoencoderBase LatentKitModel(IAutoencoder autoencoder)
    {
        ArgumentNullException.ThrowIfNull(autoencoder);
        var model = autoencoder as AutoencoderBase
            ?? throw new NotSupportedException($"Only LatentKit's own autoencoders are exported; got a {autoencoder.GetType().Name}. Export its TorchSharp modules with OnnxExport.Module.");
        model.ThrowIfDisposed();
        return model;
    }

    private static void Describe(Dictionary<string, string> metadata, AutoencoderBase model, bool inputIsCodes = false)
    {
        metadata[OnnxMetadataKeys.ModelKind] = model.Kind.ToString();
        metadata[OnnxMetadataKeys.LatentSize] = model.LatentSize.ToString(CultureInfo.InvariantCulture);
        metadata[OnnxMetadataKeys.InputNormalization] = inputIsCodes ? CodesNormalization : Normalization(model);
    }

    /// <summary>What the model's input must be, as stored in the metadata.</summary>
    private static string Normalization(AutoencoderBase model) => model switch
    {
        { Standardizer: not null } => StandardizedNormalization,
        { OutputActivation: OutputActivation.Sigmoid } => PixelNormalization,
        _ => "float32 values as the model was trained on; the graph scales nothing",
    };

    private static OnnxModelInfo Export(
        string path,
        OnnxExportOptions? options,
        string graphKind,
        IReadOnlyList<ModelGuard> guards,
        nn.Module network,
        int? classCount,
        Action<Dictionary<string, string>> describe,
        Func<GraphBuilder, ModuleWalker, string> build)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        options ??= OnnxExportOptions.Default;
        options.Validate(classCount);
        // The core's rule for write targets: an existing folder or a path ending in a separator is refused here,
        // before the export runs.
        var fullPath = FilePaths.CheckWriteTarget(path, nameof(path));

        // Locks in the order the models take them themselves (classifier, then its autoencoder), so no deadlock.
        var held = new List<ModelGuard.Scope>();
        try
        {
            foreach (var guard in guards)
            {
                held.Add(guard.EnterUse());
            }

            return ExportLocked(fullPath, options, graphKind, network, describe, build);
        }
        finally
        {
            for (var i = held.Count - 1; i >= 0; i--)
            {
                held[i].Dispose();
            }
        }
    }

    private static OnnxModelInfo ExportLocked(
        string fullPath,
        OnnxExportOptions options,
        string graphKind,
        nn.Module network,
        Action<Dictionary<string, string>> describe,
        Func<GraphBuilder, ModuleWalker, string> build)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        network.eval();
        var graph = new GraphBuilder("latentkit_" + graphKind);
        var doc = build(graph, new ModuleWalker(graph));

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [OnnxMetadataKeys.Version] = LatentKitInfo.Version,
            [OnnxMetadataKeys.Graph] = graphKind,
        };
        describe(metadata);
        if (options.InputNormalization is { } normalization)
        {
            metadata[OnnxMetadataKeys.InputNormalization] = normalization;
        }

        var graphProto = graph.Build(doc);
        metadata[OnnxMetadataKeys.InputShape] = string.Join(",", graphProto.Input[0].Type.TensorType.Shape.Dim.Skip(1).Select(d => d.DimValue));
        foreach (var (key, value) in options.Metadata ?? new Dictionary<string, string>())
        {
            metadata[key] = value;
        }

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "LatentKit",
            ProducerVersion = LatentKitInfo.Version,
            Domain = "org.latentkit",
            ModelVersion = 1,
            DocString = doc,
            Graph = graphProto,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = Opset });
        foreach (var (key, value) in metadata)
        {
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }

        ModelFile.WriteAtomically(fullPath, stream => model.WriteTo(stream));
        return new OnnxModelInfo(fullPath, Opset, graphProto.Input.Select(Info).ToList(), graphProto.Output.Select(Info).ToList(), metadata);
    }

    private static OnnxTensorInfo Info(ValueInfoProto value)
    {
        var type = value.Type.TensorType;
        var elementType = (TensorProto.Types.DataType)type.ElemType switch
        {
            TensorProto.Types.DataType.Int64 => "int64",
            TensorProto.Types.DataType.Double => "float64",
            TensorProto.Types.DataType.Bool => "bool",
            _ => "float32",
        };
        return new OnnxTensorInfo(value.Name, elementType, type.Shape.Dim.Select((d, i) => i == 0 ? -1 : d.DimValue).ToList());
    }

    private static Tensor Probe(long[] shape, Device device, bool uniform)
    {
        using var generator = new Generator(ProbeSeed);
        var probe = uniform ? rand(shape, generator: generator) : randn(shape, generator: generator);
        return probe.to(device);
    }

    private static void Check(Tensor exported, Tensor expected, string method)
    {
        var reshaped = exported.numel() == expected.numel() ? expected.reshape(exported.shape).to(exported.device) : null;
        if (reshaped is null || !allclose(exported, reshaped, CheckRelativeTolerance, CheckAbsoluteTolerance))
        {
            throw new InvalidOperationException(
                $"The exported graph does not reproduce the model's {method} on a probe batch (shape [{string.Join(", ", exported.shape)}] against [{string.Join(", ", expected.shape)}]); nothing was written. This is a LatentKit.Onnx defect for this model kind: please report it.");
        }
    }
}
