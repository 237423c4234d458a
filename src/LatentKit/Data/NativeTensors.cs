using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentKit;

/// <summary>
/// CPU tensors from managed memory without the copies <c>torch.tensor(array)</c> makes: TorchSharp 0.107 clones the
/// whole array on the managed heap and pins the clone for the tensor's life, so a tensor over MNIST's 47 MB of
/// training pixels cost another 47 MB of large-object heap per reader, and every batch made from an array left a
/// clone behind as garbage. Here data is either copied once, straight into the tensor's native memory, or not copied
/// at all.
/// </summary>
internal static class NativeTensors
{
    /// <summary>A new CPU tensor of <paramref name="shape"/> holding a copy of <paramref name="values"/>, copied straight into its native memory.</summary>
    public static Tensor CopyOf<T>(ReadOnlySpan<T> values, long[] shape, ScalarType type)
        where T : unmanaged
    {
        var result = empty(shape, dtype: type);
        var target = result.bytes;
        var source = MemoryMarshal.AsBytes(values);
        if (source.Length != target.Length)
        {
            result.Dispose();
            throw new ArgumentException($"{values.Length} values of {typeof(T).Name} do not fill a {type} tensor of shape [{string.Join(", ", shape)}].", nameof(values));
        }

        source.CopyTo(target);
        return result;
    }

    /// <summary>
    /// A CPU tensor of <paramref name="shape"/> over <paramref name="values"/> itself: nothing is copied, and the array
    /// stays pinned while the tensor (or any view of it) lives. Only for arrays that nobody changes while the tensor
    /// lives, and only to be read: every user of such a tensor copies before writing (an <c>index_select</c>, a type
    /// conversion, <c>copy: true</c>).
    /// </summary>
    public static Tensor Over(Array values, long[] shape)
    {
        using var flat = from_array(values);
        return flat.view(shape);
    }

    /// <summary>An int64 CPU tensor of the indices <paramref name="indices"/>, made without a second managed copy.</summary>
    public static Tensor Indices(ReadOnlySpan<int> indices)
    {
        var values = new long[indices.Length];
        for (var i = 0; i < indices.Length; i++)
        {
            values[i] = indices[i];
        }

        // The array is this call's own: the tensor may keep it.
        return from_array(values);
    }
}
