using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace LatentKit.Onnx.Internal;

/// <summary>
/// A value flowing through the graph being built: its ONNX name and the probe tensor TorchSharp computed for it
/// (a small batch run through the same layers), whose shape gives the value's static dimensions.
/// </summary>
internal sealed record GraphValue(string Name, Tensor Probe)
{
    public long[] Shape => Probe.shape;
}

/// <summary>Collects the nodes, weights, inputs and outputs of one ONNX graph, with unique names.</summary>
internal sealed class GraphBuilder
{
    /// <summary>The name of the dynamic first (batch) dimension of every input and output.</summary>
    public const string BatchDimension = "batch";

    private readonly GraphProto graph = new();
    private readonly HashSet<string> names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, NodeProto> producers = new(StringComparer.Ordinal);

    public GraphBuilder(string graphName)
    {
        graph.Name = graphName;
    }

    /// <summary>A name not used yet in this graph, derived from <paramref name="hint"/>.</summary>
    public string Unique(string hint)
    {
        var name = hint;
        for (var i = 1; !names.Add(name); i++)
        {
            name = $"{hint}_{i}";
        }

        return name;
    }

    /// <summary>Declares a float input whose first dimension is the dynamic batch and the others those of <paramref name="probe"/>.</summary>
    public GraphValue AddInput(string name, Tensor probe)
    {
        names.Add(name);
        graph.Input.Add(ValueInfo(name, TensorProto.Types.DataType.Float, probe.shape));
        return new GraphValue(name, probe);
    }

    /// <summary>Makes <paramref name="value"/> a graph output called <paramref name="name"/> (renaming its producer's output, or adding an Identity).</summary>
    public void AddOutput(GraphValue value, string name, TensorProto.Types.DataType type = TensorProto.Types.DataType.Float)
    {
        if (value.Name != name && producers.ContainsKey(name))
        {
            // An inner value already carries the output's name (a layer path such as a VAE's "mean" layer, whose output
            // is then flattened): it takes another name, so that the graph defines the name once.
            Rename(name, Unique(name + ".inner"));
        }

        if (producers.ContainsKey(value.Name) && !graph.Output.Any(o => o.Name == value.Name))
        {
            Rename(value.Name, name);
        }
        else
        {
            Node("Identity", [value.Name], name, name);
        }

        names.Add(name);
        graph.Output.Add(ValueInfo(name, type, value.Shape));
    }

    /// <summary>Gives the value called <paramref name="from"/> the name <paramref name="to"/> in its producer and in every node that reads it.</summary>
    private void Rename(string from, string to)
    {
        var node = producers[from];
        node.Output[node.Output.IndexOf(from)] = to;
        producers.Remove(from);
        producers[to] = node;
        foreach (var consumer in graph.Node)
        {
            for (var i = 0; i < consumer.Input.Count; i++)
            {
                if (consumer.Input[i] == from)
                {
                    consumer.Input[i] = to;
                }
            }
        }
    }

    /// <summary>Adds a float32 weight (copied from <paramref name="tensor"/>, on any device) and returns its name.</summary>
    /// <exception cref="InvalidOperationException">The weight holds NaN or infinite values.</exception>
    public string AddWeight(string hint, Tensor tensor, string layerPath)
    {
        using var scope = NewDisposeScope();
        var values = tensor.detach().cpu().to(ScalarType.Float32).contiguous().data<float>().ToArray();
        foreach (var v in values)
        {
            if (!float.IsFinite(v))
            {
                throw new InvalidOperationException($"The weight '{hint}' of the layer '{layerPath}' holds NaN or infinite values; a model with such weights cannot be exported. Train it again or load a finite copy.");
            }
        }

        return AddFloatConstant(hint, values, tensor.shape);
    }

    /// <summary>Adds a float32 constant of the given shape and returns its name.</summary>
    public string AddFloatConstant(string hint, float[] values, long[] shape)
    {
        var name = Unique(hint);
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        proto.Dims.AddRange(shape);
        proto.RawData = ByteString.CopyFrom(ToLittleEndian(values));
        graph.Initializer.Add(proto);
        return name;
    }

    /// <summary>Adds a float64 constant of the given shape and returns its name.</summary>
    public string AddDoubleConstant(string hint, double[] values, long[] shape)
    {
        var name = Unique(hint);
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Double };
        proto.Dims.AddRange(shape);
        proto.DoubleData.AddRange(values);
        graph.Initializer.Add(proto);
        return name;
    }

    /// <summary>Adds a one-dimensional int64 constant (shapes, axes) and returns its name.</summary>
    public string AddInt64Constant(string hint, long[] values)
    {
        var name = Unique(hint);
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        proto.Dims.Add(values.Length);
        proto.Int64Data.AddRange(values);
        graph.Initializer.Add(proto);
        return name;
    }

    /// <summary>Adds a node with one output and returns the output's name.</summary>
    public string Node(string opType, IEnumerable<string> inputs, string nodeName, string outputHint, params AttributeProto[] attributes)
    {
        var output = Unique(outputHint);
        var node = new NodeProto { OpType = opType, Name = Unique("node:" + nodeName) };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
        producers[output] = node;
        return output;
    }

    /// <summary>The finished graph.</summary>
    public GraphProto Build(string docString)
    {
        graph.DocString = docString;
        return graph;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto String(string name, string value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Ints(string name, IEnumerable<long> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, long[] shape)
    {
        var tensorShape = new TensorShapeProto();
        for (var i = 0; i < shape.Length; i++)
        {
            tensorShape.Dim.Add(i == 0
                ? new TensorShapeProto.Types.Dimension { DimParam = BatchDimension }
                : new TensorShapeProto.Types.Dimension { DimValue = shape[i] });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = tensorShape } },
        };
    }

    private static byte[] ToLittleEndian(float[] values)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        for (var i = 0; i < values.Length; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
        }

        return bytes;
    }
}
