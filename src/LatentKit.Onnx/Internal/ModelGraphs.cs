using TorchSharp;
using static TorchSharp.torch;
using G = LatentKit.Onnx.Internal.GraphBuilder;

namespace LatentKit.Onnx.Internal;

/// <summary>
/// How each LatentKit model computes codes, pixels and probabilities from its modules, as graph fragments. This is the
/// one place that mirrors the models' <c>EncodeCore</c>/<c>DecodeLogitsCore</c>/<c>ToPixels</c>; every export checks
/// its probe result against the model's own public method, so a model whose computation changes fails the export
/// loudly instead of writing a different function.
/// </summary>
internal static class ModelGraphs
{
    /// <summary>Codes from images already in the model's input shape (for a VAE the mean).</summary>
    public static GraphValue Encode(ModuleWalker walker, AutoencoderBase model, GraphValue images)
    {
        switch (model)
        {
            case VariationalAutoencoder vae:
                var hidden = walker.Walk(vae.EncoderLayers, "encoder", images);
                return walker.Walk(vae.MeanLayer, "mean", hidden);
            case ConvolutionalAutoencoder:
                var map = walker.Walk(model.EncoderLayers, "encoder", images);
                return walker.Reshape("encoder.flatten", map, map.Probe.flatten(1), "flatten");
            case DenseAutoencoder:
                return walker.Walk(model.EncoderLayers, "encoder", images);
            default:
                throw new NotSupportedException($"Exporting a {model.GetType().Name} is not supported yet.");
        }
    }

    /// <summary>Pixels (after the output activation) in the model's input shape, from codes.</summary>
    public static GraphValue Decode(G graph, ModuleWalker walker, AutoencoderBase model, GraphValue codes)
    {
        var input = model is ConvolutionalAutoencoder conv
            ? walker.Reshape("decoder.unflatten", codes, codes.Probe.view(codes.Shape[0], conv.LatentChannels, conv.MapSide, conv.MapSide), "view")
            : codes;
        var logits = walker.Walk(model.DecoderLayers, "decoder", input);
        if (model.OutputActivation == OutputActivation.Sigmoid)
        {
            return new GraphValue(graph.Node("Sigmoid", [logits.Name], "output_activation", "pixels"), logits.Probe.sigmoid());
        }

        var low = graph.AddFloatConstant("clip.min", [0f], []);
        var high = graph.AddFloatConstant("clip.max", [1f], []);
        return new GraphValue(graph.Node("Clip", [logits.Name, low, high], "output_clamp", "pixels"), logits.Probe.clamp(0, 1));
    }

    /// <summary>Codes of a classifier's encoder: the autoencoder's, or the pixels themselves for the raw-pixel baseline.</summary>
    public static GraphValue ClassifierCodes(ModuleWalker walker, IAutoencoder autoencoder, GraphValue images) => autoencoder switch
    {
        AutoencoderBase model => Encode(walker, model, images),
        PixelEncoder => images,
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
}
