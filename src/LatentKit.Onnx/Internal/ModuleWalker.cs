using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using G = LatentKit.Onnx.Internal.GraphBuilder;

namespace LatentKit.Onnx.Internal;

/// <summary>
/// Translates a TorchSharp module tree into ONNX nodes by walking it: each supported layer becomes its ONNX operator,
/// containers are walked child by child. Alongside, the walker runs every layer on a probe batch in TorchSharp, which
/// gives the static shapes, and checks that a user-defined container's own <c>forward</c> really is its children in
/// order (a residual connection or any other computation in <c>forward</c> is refused, never exported wrongly).
/// </summary>
internal sealed class ModuleWalker(G graph)
{
    /// <summary>The layers the walker translates, for error messages.</summary>
    public const string SupportedLayers =
        "Sequential, Linear, Conv1d/2d/3d, ConvTranspose1d/2d/3d (zero padding), ReLU, LeakyReLU, ELU, GELU (exact), SiLU, Tanh, Sigmoid, Softmax, "
        + "Identity, Flatten, Unflatten, BatchNorm1d/2d/3d (with running statistics), Dropout (an identity when exporting), "
        + "ZeroPad2d and Constant/Reflection/ReplicationPad1d/2d/3d, MaxPool2d, AvgPool2d, "
        + "and containers whose forward runs their children in registration order (flattening each sample between them where the next child needs it)";

    private const double ProbeRelativeTolerance = 1e-4;
    private const double ProbeAbsoluteTolerance = 1e-5;

    /// <summary>Adds the nodes computing <paramref name="module"/> on <paramref name="input"/> and returns its output.</summary>
    /// <exception cref="UnsupportedLayerException">A layer (named by its path) cannot be translated.</exception>
    public GraphValue Walk(nn.Module module, string path, GraphValue input)
    {
        switch (module)
        {
            case Sequential:
                return WalkChildren(module, path, input);
            case Linear linear:
                return LinearNode(linear, path, input);
            case ConvolutionTranspose transposed:
                return ConvolutionNode(transposed, path, input, "ConvTranspose");
            case Convolution convolution:
                return ConvolutionNode(convolution, path, input, convolution.transposed ? "ConvTranspose" : "Conv");
            case ReLU:
                return Unary(module, path, input, "Relu");
            case Tanh:
                return Unary(module, path, input, "Tanh");
            case Sigmoid:
                return Unary(module, path, input, "Sigmoid");
            case LeakyReLU leaky:
                return Unary(module, path, input, "LeakyRelu", G.Float("alpha", (float)leaky.negative_slope));
            case ELU elu:
                return Unary(module, path, input, "Elu", G.Float("alpha", (float)elu.alpha));
            case GELU gelu:
                return Gelu(gelu, path, input);
            case SiLU:
                return SiLu(module, path, input);
            case Softmax softmax:
                return Unary(module, path, input, "Softmax", G.Int("axis", softmax.dim));
            case Identity or Dropout or Dropout1d or Dropout2d or Dropout3d or AlphaDropout or FeatureAlphaDropout or SeededDropout:
                return input;
            case Flatten or Unflatten:
                return Reshape(path, input, Run(module, path, input), module.GetType().Name);
            case BatchNorm batchNorm:
                return BatchNormNode(batchNorm, path, input);
            case PadBase pad:
                return PadNode(pad, path, input);
            case MaxPool2d maxPool:
                return PoolNode(maxPool, path, input, "MaxPool", maxPool.kernel_size, maxPool.stride, maxPool.padding, maxPool.dilation, maxPool.ceil_mode);
            case AvgPool2d avgPool:
                if (avgPool.divisor_override is not null)
                {
                    throw Unsupported(avgPool, path, "a divisor override has no ONNX equivalent");
                }

                return PoolNode(avgPool, path, input, "AveragePool", avgPool.kernel_size, avgPool.stride, avgPool.padding, null, avgPool.ceil_mode, G.Int("count_include_pad", avgPool.count_include_pad ? 1 : 0));
            case NormBase:
                throw Unsupported(module, path, "only batch normalisation with running statistics is supported among normalisation layers");
            default:
                return WalkCustom(module, path, input);
        }
    }

    /// <summary>Runs <paramref name="module"/> on the probe in TorchSharp (evaluation mode, no gradients).</summary>
    public static Tensor Run(nn.Module module, string path, GraphValue input)
    {
        if (module is not nn.Module<Tensor, Tensor> layer)
        {
            throw Unsupported(module, path, "it does not map one tensor to one tensor");
        }

        try
        {
            return layer.forward(input.Probe);
        }
        catch (Exception e) when (e is ExternalException or ArgumentException or InvalidOperationException)
        {
            throw new ArgumentException(
                $"The layer '{path}' ({module.GetType().Name}) fails on an input shaped [{Dims(input.Shape)}] (batch first): {NativeErrors.FirstLine(e)} Check the input shape given to the export.",
                "inputShape",
                e);
        }
    }

    /// <summary>A Reshape of <paramref name="input"/> to the shape of <paramref name="target"/>, keeping the batch dimension dynamic.</summary>
    public GraphValue Reshape(string path, GraphValue input, Tensor target, string what)
    {
        var shape = target.shape;
        if (shape.Length == 0 || shape[0] != input.Shape[0] || target.numel() != input.Probe.numel())
        {
            throw new UnsupportedLayerException(path, what, $"it changes the batch dimension (from [{Dims(input.Shape)}] to [{Dims(shape)}]); only per-sample reshapes are exported");
        }

        if (shape.SequenceEqual(input.Shape))
        {
            return input with { Probe = target };
        }

        long[] perSample = [0, .. shape.Skip(1)];
        var shapeName = graph.AddInt64Constant(path + ".shape", perSample);
        return new GraphValue(graph.Node("Reshape", [input.Name, shapeName], path, path), target);
    }

    /// <summary>Zero-pads the last two dimensions of <paramref name="input"/> at the bottom and the right up to <paramref name="height"/> x <paramref name="width"/> (no node when nothing is needed).</summary>
    public GraphValue PadBottomRight(string path, GraphValue input, long height, long width)
    {
        var shape = input.Shape;
        var (addHeight, addWidth) = (height - shape[^2], width - shape[^1]);
        if (addHeight == 0 && addWidth == 0)
        {
            return input;
        }

        var pads = new long[2 * shape.Length];
        pads[shape.Length + shape.Length - 2] = addHeight;
        pads[shape.Length + shape.Length - 1] = addWidth;
        var probe = nn.functional.pad(input.Probe, [0, addWidth, 0, addHeight]);
        var name = graph.Node("Pad", [input.Name, graph.AddInt64Constant(path + ".pads", pads)], path, path, G.String("mode", "constant"));
        return new GraphValue(name, probe);
    }

    /// <summary><paramref name="lengths"/> entries of <paramref name="input"/> along each of <paramref name="axes"/>, from index <paramref name="start"/> (no node when nothing is cut).</summary>
    public GraphValue Slice(string path, GraphValue input, long[] axes, long start, long[] lengths)
    {
        if (axes.Select((axis, i) => start == 0 && input.Shape[axis] == lengths[i]).All(same => same))
        {
            return input;
        }

        var probe = input.Probe;
        for (var i = 0; i < axes.Length; i++)
        {
            probe = probe.narrow(axes[i], start, lengths[i]);
        }

        var name = graph.Node(
            "Slice",
            [input.Name, graph.AddInt64Constant(path + ".starts", axes.Select(_ => start).ToArray()), graph.AddInt64Constant(path + ".ends", lengths.Select(l => start + l).ToArray()), graph.AddInt64Constant(path + ".axes", axes)],
            path,
            path);
        return new GraphValue(name, probe);
    }

    private GraphValue WalkChildren(nn.Module module, string path, GraphValue input, bool flattenWhenNeeded = false)
    {
        var x = input;
        foreach (var (name, child) in module.named_children())
        {
            var childPath = Join(path, name);
            if (flattenWhenNeeded && x.Shape.Length > 2 && !Accepts(child, x.Probe) && Accepts(child, x.Probe.flatten(1)))
            {
                // A user's forward often flattens per sample before a dense layer (x.flatten(1)); the container's own
                // forward is compared with the result afterwards, so a wrong guess is refused, never exported.
                x = Reshape(childPath + ".flatten_input", x, x.Probe.flatten(1), "flatten");
            }

            x = Walk(child, childPath, x);
        }

        return x;
    }

    private static bool Accepts(nn.Module child, Tensor probe)
    {
        if (child is not nn.Module<Tensor, Tensor> layer)
        {
            return false;
        }

        try
        {
            using var scope = NewDisposeScope();
            layer.forward(probe);
            return true;
        }
        catch (Exception e) when (e is ExternalException or ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    private GraphValue WalkCustom(nn.Module module, string path, GraphValue input)
    {
        var children = module.named_children().ToList();
        if (children.Count == 0)
        {
            throw Unsupported(module, path, "it is not one of the supported layers");
        }

        if (module.named_parameters(recurse: false).Any() || module.named_buffers(recurse: false).Any())
        {
            throw Unsupported(module, path, "it holds weights of its own besides its children's, so its forward is more than running its children");
        }

        var chained = WalkChildren(module, path, input, flattenWhenNeeded: true);
        var expected = Run(module, path, input);
        if (expected.numel() == chained.Probe.numel()
            && torch.allclose(expected.reshape(chained.Shape), chained.Probe, ProbeRelativeTolerance, ProbeAbsoluteTolerance))
        {
            return Reshape(path, chained, expected, module.GetType().Name);
        }

        throw Unsupported(module, path, "its forward is not its children applied one after another in registration order (a skip connection, a custom operation or a different order cannot be exported)");
    }

    private GraphValue LinearNode(Linear linear, string path, GraphValue input)
    {
        var output = Run(linear, path, input);
        var weight = graph.AddWeight(path + ".weight", linear.weight!, path);
        var inputs = new List<string> { input.Name, weight };
        if (input.Shape.Length == 2)
        {
            if (linear.bias is { } bias)
            {
                inputs.Add(graph.AddWeight(path + ".bias", bias, path));
            }

            return new GraphValue(graph.Node("Gemm", inputs, path, path, G.Int("transB", 1)), output);
        }

        // Any other rank: x · Wᵀ (+ b), broadcasting over the leading dimensions.
        using var transposedWeight = linear.weight!.detach().t().contiguous();
        var transposed = graph.AddWeight(path + ".weight_t", transposedWeight, path);
        var product = graph.Node("MatMul", [input.Name, transposed], path, path + ".matmul");
        if (linear.bias is { } b)
        {
            product = graph.Node("Add", [product, graph.AddWeight(path + ".bias", b, path)], path + ".bias", path);
        }

        return new GraphValue(product, output);
    }

    private GraphValue ConvolutionNode(Convolution convolution, string path, GraphValue input, string opType)
    {
        if (convolution.padding_mode != PaddingModes.Zeros)
        {
            throw Unsupported(convolution, path, $"padding mode {convolution.padding_mode} is not exported (only zero padding)");
        }

        var output = Run(convolution, path, input);
        var spatial = convolution.kernel_size.Length;
        if (input.Shape.Length != spatial + 2)
        {
            throw Unsupported(convolution, path, $"it receives an input of rank {input.Shape.Length}; only batched input (N x C x {spatial} spatial dimensions) is exported");
        }

        var pads = new long[2 * spatial];
        for (var i = 0; i < spatial; i++)
        {
            long before, after;
            if (convolution.padding_type == Padding.Same)
            {
                var total = Expand(convolution.dilation, spatial)[i] * (convolution.kernel_size[i] - 1);
                before = total / 2;
                after = total - before;
            }
            else if (convolution.padding_type == Padding.Valid)
            {
                before = after = 0;
            }
            else
            {
                before = after = Expand(convolution.padding, spatial, absent: 0)[i];
            }

            pads[i] = before;
            pads[i + spatial] = after;
        }

        var inputs = new List<string> { input.Name, graph.AddWeight(path + ".weight", convolution.weight!, path) };
        if (convolution.bias is { } bias)
        {
            inputs.Add(graph.AddWeight(path + ".bias", bias, path));
        }

        var attributes = new List<global::Onnx.AttributeProto>
        {
            G.Ints("kernel_shape", convolution.kernel_size),
            G.Ints("strides", Expand(convolution.stride, spatial)),
            G.Ints("dilations", Expand(convolution.dilation, spatial)),
            G.Ints("pads", pads),
            G.Int("group", convolution.groups),
        };
        if (opType == "ConvTranspose")
        {
            attributes.Add(G.Ints("output_padding", Expand(convolution.output_padding, spatial, absent: 0)));
        }

        return new GraphValue(graph.Node(opType, inputs, path, path, attributes.ToArray()), output);
    }

    private GraphValue BatchNormNode(BatchNorm batchNorm, string path, GraphValue input)
    {
        if (!batchNorm.track_running_stats || batchNorm.running_mean is null || batchNorm.running_var is null)
        {
            throw Unsupported(batchNorm, path, "it has no running statistics, so it normalises with each batch's own statistics, which depends on the batch");
        }

        var output = Run(batchNorm, path, input);
        var channels = batchNorm.num_features;
        var scale = batchNorm.weight is { } w ? graph.AddWeight(path + ".weight", w, path) : graph.AddFloatConstant(path + ".weight", Enumerable.Repeat(1f, (int)channels).ToArray(), [channels]);
        var shift = batchNorm.bias is { } b ? graph.AddWeight(path + ".bias", b, path) : graph.AddFloatConstant(path + ".bias", new float[channels], [channels]);
        var mean = graph.AddWeight(path + ".running_mean", batchNorm.running_mean, path);
        var variance = graph.AddWeight(path + ".running_var", batchNorm.running_var, path);
        var name = graph.Node("BatchNormalization", [input.Name, scale, shift, mean, variance], path, path, G.Float("epsilon", (float)batchNorm.eps));
        return new GraphValue(name, output);
    }

    private GraphValue PadNode(PadBase pad, string path, GraphValue input)
    {
        var mode = pad switch
        {
            ZeroPad2d or ConstantPad1d or ConstantPad2d or ConstantPad3d => "constant",
            ReflectionPad1d or ReflectionPad2d or ReflectionPad3d => "reflect",
            ReplicationPad1d or ReplicationPad2d or ReplicationPad3d => "edge",
            _ => throw Unsupported(pad, path, "it is not one of the supported padding layers"),
        };
        var output = Run(pad, path, input);
        var rank = input.Shape.Length;
        if (pad.padding.Length % 2 != 0 || pad.padding.Length / 2 > rank - 1)
        {
            throw Unsupported(pad, path, $"its padding [{Dims(pad.padding)}] does not fit an input of rank {rank}");
        }

        // TorchSharp lists (before, after) pairs from the last dimension backwards; ONNX all befores, then all afters.
        var pads = new long[2 * rank];
        for (var i = 0; i < pad.padding.Length / 2; i++)
        {
            var dim = rank - 1 - i;
            pads[dim] = pad.padding[2 * i];
            pads[dim + rank] = pad.padding[(2 * i) + 1];
        }

        var inputs = new List<string> { input.Name, graph.AddInt64Constant(path + ".pads", pads) };
        if (mode == "constant")
        {
            inputs.Add(graph.AddFloatConstant(path + ".value", [pad is ZeroPad2d ? 0f : (float)pad.value], []));
        }

        return new GraphValue(graph.Node("Pad", inputs, path, path, G.String("mode", mode)), output);
    }

    private GraphValue PoolNode(nn.Module module, string path, GraphValue input, string opType, long[] kernel, long[]? stride, long[]? padding, long[]? dilation, bool ceilMode, params global::Onnx.AttributeProto[] extra)
    {
        var output = Run(module, path, input);
        if (input.Shape.Length != 4)
        {
            throw Unsupported(module, path, $"it receives an input of rank {input.Shape.Length}; only batched input (N x C x H x W) is exported");
        }

        var k = Expand(kernel, 2);
        var p = Expand(padding, 2, absent: 0);
        var attributes = new List<global::Onnx.AttributeProto>
        {
            G.Ints("kernel_shape", k),
            G.Ints("strides", stride is null || stride.Length == 0 ? k : Expand(stride, 2)),
            G.Ints("pads", [p[0], p[1], p[0], p[1]]),
            G.Int("ceil_mode", ceilMode ? 1 : 0),
        };
        if (dilation is not null)
        {
            attributes.Add(G.Ints("dilations", Expand(dilation, 2)));
        }

        attributes.AddRange(extra);
        return new GraphValue(graph.Node(opType, [input.Name], path, path, attributes.ToArray()), output);
    }

    private GraphValue Unary(nn.Module module, string path, GraphValue input, string opType, params global::Onnx.AttributeProto[] attributes) =>
        new(graph.Node(opType, [input.Name], path, path, attributes), Run(module, path, input));

    private GraphValue Gelu(GELU gelu, string path, GraphValue input)
    {
        if (gelu.approximate != GELU.Approximate.none)
        {
            throw Unsupported(gelu, path, "only the exact GELU (approximate: none) is exported");
        }

        // 0.5 · x · (1 + erf(x / √2)), with operators every opset from 13 has.
        var output = Run(gelu, path, input);
        var scaled = graph.Node("Div", [input.Name, graph.AddFloatConstant(path + ".sqrt2", [MathF.Sqrt(2f)], [])], path + ".div", path + ".div");
        var erf = graph.Node("Erf", [scaled], path + ".erf", path + ".erf");
        var onePlus = graph.Node("Add", [erf, graph.AddFloatConstant(path + ".one", [1f], [])], path + ".add", path + ".add");
        var half = graph.Node("Mul", [input.Name, graph.AddFloatConstant(path + ".half", [0.5f], [])], path + ".half", path + ".half");
        return new GraphValue(graph.Node("Mul", [half, onePlus], path, path), output);
    }

    private GraphValue SiLu(nn.Module module, string path, GraphValue input)
    {
        var output = Run(module, path, input);
        var sigmoid = graph.Node("Sigmoid", [input.Name], path + ".sigmoid", path + ".sigmoid");
        return new GraphValue(graph.Node("Mul", [input.Name, sigmoid], path, path), output);
    }

    private static long[] Expand(long[]? values, int count, long absent = 1) => values is null || values.Length == 0
        ? Enumerable.Repeat(absent, count).ToArray()
        : values.Length == count ? values : Enumerable.Repeat(values[0], count).ToArray();

    private static UnsupportedLayerException Unsupported(nn.Module module, string path, string reason) =>
        new(path, module.GetType().Name, reason);

    private static string Join(string path, string name) => path.Length == 0 ? name : path + "." + name;

    private static string Dims(long[] shape) => string.Join(", ", shape);
}
