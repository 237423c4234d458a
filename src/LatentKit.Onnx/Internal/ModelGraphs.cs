using TorchSharp;
using static TorchSharp.torch;
using G = LatentKit.Onnx.Internal.GraphBuilder;

namespace LatentKit.Onnx.Internal;

/// <summary>
/// How each LatentKit model computes codes, outputs and probabilities from its modules, as graph fragments. This is the
/// one place that mirrors the models' <c>ToNetworkInput</c>/<c>EncodeCore</c>/<c>DecodeLogitsCore</c>/<c>ToPixels</c>/
/// <c>ToDataUnits</c>; every export checks its probe result against the model's own public method, so a model whose
/// computation changes fails the export loudly instead of writing a different function.
/// </summary>
internal static class ModelGraphs
{
    /// <summary>Codes from samples in the model's input shape (for a VAE the mean), standardising them first when the model has a standardizer.</summary>
    public static GraphValue Encode(G graph, ModuleWalker walker, AutoencoderBase model, GraphValue samples)
    {
        var input = NetworkInput(graph, model, samples);
        switch (model)
        {
            case DenseAutoencoder or CustomAutoencoder:
                return walker.Walk(model.Encoder, "encoder", input);
            case CustomVariationalAutoencoder:
                // The user's encoder gives the mean and the log-variance side by side; the code is the mean half.
                var both = walker.Walk(model.Encoder, "encoder", input);
                return walker.Slice("encoder.mean", both, [1], 0, [model.LatentSize]);
            case VariationalAutoencoder:
                return walker.Walk(Part(model, "mean"), "mean", walker.Walk(model.Encoder, "encoder", input));
            case ConvolutionalAutoencoder conv:
                return Flatten(walker, walker.Walk(model.Encoder, "encoder", PadToStrides(walker, model, input, conv.MapHeight, conv.MapWidth)), "encoder.flatten");
            case ConvolutionalVariationalAutoencoder cvae:
                var hidden = walker.Walk(model.Encoder, "encoder", PadToStrides(walker, model, input, cvae.MapHeight, cvae.MapWidth));
                return Flatten(walker, walker.Walk(Part(model, "mean"), "mean", hidden), "mean.flatten");
            default:
                throw new NotSupportedException($"Exporting a {model.GetType().Name} is not supported yet.");
        }
    }

    /// <summary>The mean and the log-variance of a variational model's latent distribution (as its <c>EncodeDistribution</c>).</summary>
    public static (GraphValue Mean, GraphValue LogVariance) EncodeDistribution(G graph, ModuleWalker walker, AutoencoderBase model, GraphValue samples)
    {
        var input = NetworkInput(graph, model, samples);
        switch (model)
        {
            case CustomVariationalAutoencoder:
                var both = walker.Walk(model.Encoder, "encoder", input);
                return (walker.Slice("encoder.mean", both, [1], 0, [model.LatentSize]), walker.Slice("encoder.log_variance", both, [1], model.LatentSize, [model.LatentSize]));
            case VariationalAutoencoder:
                var hidden = walker.Walk(model.Encoder, "encoder", input);
                return (walker.Walk(Part(model, "mean"), "mean", hidden), walker.Walk(Part(model, "log_variance"), "log_variance", hidden));
            case ConvolutionalVariationalAutoencoder cvae:
                var map = walker.Walk(model.Encoder, "encoder", PadToStrides(walker, model, input, cvae.MapHeight, cvae.MapWidth));
                return (Flatten(walker, walker.Walk(Part(model, "mean"), "mean", map), "mean.flatten"), Flatten(walker, walker.Walk(Part(model, "log_variance"), "log_variance", map), "log_variance.flatten"));
            default:
                throw new NotSupportedException($"A {model.GetType().Name} has no latent distribution to export.");
        }
    }

    /// <summary>The model's output (after the output activation, in the data's units) in its input shape, from codes.</summary>
    public static GraphValue Decode(G graph, ModuleWalker walker, AutoencoderBase model, GraphValue codes)
    {
        var (mapChannels, mapHeight, mapWidth) = model switch
        {
            ConvolutionalAutoencoder conv => (conv.LatentChannels, conv.MapHeight, conv.MapWidth),
            ConvolutionalVariationalAutoencoder cvae => (cvae.LatentChannels, cvae.MapHeight, cvae.MapWidth),
            _ => (0, 0, 0),
        };
        GraphValue logits;
        if (mapChannels > 0)
        {
            var map = walker.Reshape("decoder.unflatten", codes, codes.Probe.view(codes.Shape[0], mapChannels, mapHeight, mapWidth), "view");
            var output = walker.Walk(model.Decoder, "decoder", map);
            logits = walker.Slice("decoder.crop", output, [2, 3], 0, [model.InputShape[1], model.InputShape[2]]);
        }
        else
        {
            logits = walker.Walk(model.Decoder, "decoder", codes);
        }

        var values = model.OutputActivation == OutputActivation.Sigmoid
            ? new GraphValue(graph.Node("Sigmoid", [logits.Name], "output_activation", "output_activation"), logits.Probe.sigmoid())
            : logits;
        return model.Standardizer is { } standardizer ? Unstandardize(graph, values, standardizer, model.InputShape) : values;
    }

    /// <summary>Codes of a classifier's encoder: the autoencoder's, or the pixels themselves for the raw-pixel baseline.</summary>
    public static GraphValue ClassifierCodes(G graph, ModuleWalker walker, IAutoencoder autoencoder, GraphValue images) => autoencoder switch
    {
        AutoencoderBase model => Encode(graph, walker, model, images),
        PixelEncoder => walker.Reshape("pixels.flatten", images, images.Probe.reshape(images.Shape[0], -1), "flatten"),
        _ => throw new NotSupportedException($"A classifier on a {autoencoder.GetType().Name} cannot be exported: only LatentKit's own autoencoders (and the raw-pixel baseline) are exported."),
    };

    /// <summary>Probabilities and the predicted class from a classifier head's logits.</summary>
    public static (GraphValue Probabilities, GraphValue Label) ClassifierOutputs(G graph, ModuleWalker walker, LatentClassifier classifier, GraphValue codes)
    {
        var logits = walker.Walk(classifier.Head, "head", codes);
        GraphValue probabilities;
        if (classifier.HeadKind == ClassifierHead.Logits)
        {
            probabilities = new GraphValue(graph.Node("Softmax", [logits.Name], "softmax", "softmax", G.Int("axis", 1)), nn.functional.softmax(logits.Probe, 1));
        }
        else
        {
            // Sigmoid outputs normalised to sum to 1, as LatentClassifier does: s / max(sum(s), 1e-12).
            var s = graph.Node("Sigmoid", [logits.Name], "sigmoid", "sigmoid");
            var sum = graph.Node("ReduceSum", [s, graph.AddInt64Constant("sum.axes", [1])], "sum", "sum", G.Int("keepdims", 1));
            var floor = graph.Node("Max", [sum, graph.AddFloatConstant("sum.floor", [1e-12f], [])], "sum_floor", "sum_floor");
            var probe = logits.Probe.sigmoid();
            probabilities = new GraphValue(graph.Node("Div", [s, floor], "normalise", "normalised"), probe / probe.sum(1, keepdim: true).clamp_min(1e-12));
        }

        var label = new GraphValue(graph.Node("ArgMax", [logits.Name], "argmax", "argmax", G.Int("axis", 1), G.Int("keepdims", 0)), logits.Probe.argmax(1));
        return (probabilities, label);
    }

    /// <summary>A named part of a model's network (for example a VAE's <c>mean</c> layer).</summary>
    private static nn.Module Part(AutoencoderBase model, string name) =>
        model.Modules.named_children().FirstOrDefault(c => c.name == name).module
        ?? throw new NotSupportedException($"The {model.GetType().Name} has no '{name}' part; this LatentKit.Onnx does not know its layout.");

    /// <summary>Zero padding at the bottom and the right up to the size the strided convolutions need (the models' rule).</summary>
    private static GraphValue PadToStrides(ModuleWalker walker, AutoencoderBase model, GraphValue input, int mapHeight, int mapWidth)
    {
        var stride = 1L << model.Layers.Count;
        return walker.PadBottomRight("encoder.pad", input, mapHeight * stride, mapWidth * stride);
    }

    private static GraphValue Flatten(ModuleWalker walker, GraphValue map, string path) =>
        walker.Reshape(path, map, map.Probe.flatten(1), "flatten");

    /// <summary>The samples as the network takes them: standardised first when the model has a standardizer.</summary>
    private static GraphValue NetworkInput(G graph, AutoencoderBase model, GraphValue samples) =>
        model.Standardizer is { } standardizer ? Standardize(graph, samples, standardizer, model.InputShape) : samples;

    /// <summary>(x - mean) / std, per value, with the constants in the sample's shape.</summary>
    private static GraphValue Standardize(G graph, GraphValue x, FeatureStandardizer standardizer, IReadOnlyList<long> shape)
    {
        var mean = graph.AddFloatConstant("standardizer.mean", [.. standardizer.Mean], [.. shape]);
        var std = graph.AddFloatConstant("standardizer.std", [.. standardizer.StandardDeviation], [.. shape]);
        var centred = graph.Node("Sub", [x.Name, mean], "standardize.sub", "standardize.sub");
        var probe = Reshaped(x.Probe, standardizer, (t, m, s) => t.sub(m).div(s));
        return new GraphValue(graph.Node("Div", [centred, std], "standardize", "standardized"), probe);
    }

    /// <summary>x * std + mean, back to the data's units.</summary>
    private static GraphValue Unstandardize(G graph, GraphValue x, FeatureStandardizer standardizer, IReadOnlyList<long> shape)
    {
        var mean = graph.AddFloatConstant("unstandardizer.mean", [.. standardizer.Mean], [.. shape]);
        var std = graph.AddFloatConstant("unstandardizer.std", [.. standardizer.StandardDeviation], [.. shape]);
        var scaled = graph.Node("Mul", [x.Name, std], "unstandardize.mul", "unstandardize.mul");
        var probe = Reshaped(x.Probe, standardizer, (t, m, s) => t.mul(s).add(m));
        return new GraphValue(graph.Node("Add", [scaled, mean], "unstandardize", "unstandardized"), probe);
    }

    private static Tensor Reshaped(Tensor x, FeatureStandardizer standardizer, Func<Tensor, Tensor, Tensor, Tensor> apply)
    {
        var m = tensor(standardizer.Mean.ToArray(), device: x.device);
        var s = tensor(standardizer.StandardDeviation.ToArray(), device: x.device);
        return apply(x.reshape(x.shape[0], standardizer.FeatureCount), m, s).reshape(x.shape);
    }
}
