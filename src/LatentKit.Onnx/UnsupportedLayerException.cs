namespace LatentKit.Onnx;

/// <summary>
/// A layer of the network cannot be written as ONNX: it is not one of the supported layers, or it is used in a way the
/// export cannot reproduce exactly. <see cref="LayerPath"/> says where it is in the module tree and
/// <see cref="LayerType"/> what it is; nothing was written.
/// </summary>
public sealed class UnsupportedLayerException : NotSupportedException
{
    /// <summary>Creates the exception for the layer at <paramref name="layerPath"/> of type <paramref name="layerType"/>.</summary>
    /// <param name="layerPath">Where the layer is, as dotted child names from the exported network (for example <c>encoder.block1.norm</c>).</param>
    /// <param name="layerType">The layer's .NET type name.</param>
    /// <param name="reason">Why it cannot be exported.</param>
    public UnsupportedLayerException(string layerPath, string layerType, string reason)
        : base($"Cannot export the layer '{layerPath}' ({layerType}) to ONNX: {reason}. Supported: {Internal.ModuleWalker.SupportedLayers}. "
            + "Build the network from supported layers (nn.Sequential of them, or a container whose forward runs its children in order).")
    {
        LayerPath = layerPath;
        LayerType = layerType;
        Reason = reason;
    }

    /// <summary>Where the layer is in the module tree, as dotted child names.</summary>
    public string LayerPath { get; }

    /// <summary>The layer's .NET type name.</summary>
    public string LayerType { get; }

    /// <summary>Why the layer cannot be exported.</summary>
    public string Reason { get; }
}
