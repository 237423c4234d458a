namespace LatentKit.Onnx;

/// <summary>One input or output of an exported ONNX model.</summary>
/// <param name="Name">The tensor's name in the graph (for example <c>images</c>).</param>
/// <param name="ElementType">The element type: <c>float32</c>, <c>int64</c>, <c>float64</c> (a detector's score) or <c>bool</c> (its flag).</param>
/// <param name="Shape">The dimensions; the first is the batch size, which is dynamic and shown as -1.</param>
public sealed record OnnxTensorInfo(string Name, string ElementType, IReadOnlyList<long> Shape)
{
    /// <summary>True when the name, the element type and every dimension are the same.</summary>
    /// <param name="other">The other tensor description.</param>
    public bool Equals(OnnxTensorInfo? other) =>
        other is not null && Name == other.Name && ElementType == other.ElementType && Shape.SequenceEqual(other.Shape);

    /// <summary>A hash of the name, the element type and the dimensions.</summary>
    public override int GetHashCode() => HashCode.Combine(Name, ElementType, Shape.Count, Shape.Count > 0 ? Shape[^1] : 0);

    /// <summary>The tensor as <c>name: float32 [batch, 784]</c>.</summary>
    public override string ToString() =>
        $"{Name}: {ElementType} [{string.Join(", ", Shape.Select((d, i) => i == 0 ? "batch" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]";
}

/// <summary>What an export wrote: the file, its opset, its inputs and outputs and the metadata stored in it.</summary>
/// <param name="Path">The full path of the written file.</param>
/// <param name="Opset">The ONNX operator set version of the default domain (<see cref="OnnxExport.Opset"/>).</param>
/// <param name="Inputs">The graph's inputs.</param>
/// <param name="Outputs">The graph's outputs.</param>
/// <param name="Metadata">The model's metadata properties (keys in <see cref="OnnxMetadataKeys"/>, plus any given in the options).</param>
public sealed record OnnxModelInfo(
    string Path,
    int Opset,
    IReadOnlyList<OnnxTensorInfo> Inputs,
    IReadOnlyList<OnnxTensorInfo> Outputs,
    IReadOnlyDictionary<string, string> Metadata);
