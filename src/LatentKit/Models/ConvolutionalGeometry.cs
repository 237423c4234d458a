using TorchSharp;
using static TorchSharp.torch;

namespace LatentKit;

/// <summary>
/// The geometry of the convolutional autoencoders for an image of <c>C x H x W</c> and <c>k</c> strided layers (one
/// per channel entry): each stride-2 layer halves the side, so the image is zero-padded at the bottom and the right up
/// to the next multiple of <c>2^k</c> (<see cref="PaddedHeight"/> x <see cref="PaddedWidth"/>), the code is a map of
/// <see cref="MapHeight"/> x <see cref="MapWidth"/> = padded size / <c>2^k</c> with <see cref="LatentChannels"/>
/// channels, and the decoder's output (padded size) is cropped back to <c>H x W</c>. The one place of this rule.
/// </summary>
internal readonly record struct ConvolutionalGeometry(int Channels, int Height, int Width, int Strided, int LatentSize)
{
    public int Stride => 1 << Strided;

    public int PaddedHeight => (Height + Stride - 1) / Stride * Stride;

    public int PaddedWidth => (Width + Stride - 1) / Stride * Stride;

    public int MapHeight => PaddedHeight / Stride;

    public int MapWidth => PaddedWidth / Stride;

    public int LatentChannels => LatentSize / (MapHeight * MapWidth);

    public bool NeedsPadding => PaddedHeight != Height || PaddedWidth != Width;

    public static ConvolutionalGeometry Of(AutoencoderSpec spec) =>
        new(spec.InputShape[0], spec.InputShape[1], spec.InputShape[2], spec.Layers.Length, spec.LatentSize);

    /// <summary>
    /// The convolutional builders' default latent size: one code map (<see cref="MapHeight"/> x <see cref="MapWidth"/>:
    /// 49 for 28 x 28 with two strided layers, 64 for 32 x 32); <see langword="null"/> when the shape does not fit
    /// <paramref name="strided"/> layers (<see cref="Problem"/> then says why).
    /// </summary>
    public static int? OneCodeMap(int[]? shape, int strided)
    {
        if (shape is not { Length: 3 } || strided > 16 || shape[1] < (1 << strided) || shape[2] < (1 << strided))
        {
            return null;
        }

        var g = new ConvolutionalGeometry(shape[0], shape[1], shape[2], strided, 0);
        var map = (long)g.MapHeight * g.MapWidth;
        return map <= int.MaxValue ? (int)map : null;
    }

    /// <summary>The shape rules, with messages naming the shape, and the builder parameter at fault; <see langword="null"/> when the shape fits.</summary>
    public static (string Message, string Parameter)? Problem(int[] shape, int strided, int latentSize)
    {
        var where = $"[{string.Join(", ", shape)}]";
        if (shape.Length != 3)
        {
            return ($"A convolutional autoencoder needs an image input shape [channels, height, width]; got {where}. Use a dense autoencoder for feature vectors.", "shape");
        }

        if (strided > 16 || shape[1] < (1 << strided) || shape[2] < (1 << strided))
        {
            return ($"An input of shape {where} is too small for {strided} stride-2 convolutions: height and width must each be at least 2^{strided} = {(strided > 16 ? "more than 65536" : (1 << strided).ToString(System.Globalization.CultureInfo.InvariantCulture))}; give fewer channel entries.", "shape");
        }

        var g = new ConvolutionalGeometry(shape[0], shape[1], shape[2], strided, latentSize);
        var map = g.MapHeight * g.MapWidth;
        if (latentSize % map != 0)
        {
            return ($"For an input of shape {where} padded to {g.PaddedHeight} x {g.PaddedWidth}, {strided} stride-2 convolutions give a {g.MapHeight} x {g.MapWidth} code map ({map} values per channel); a latent size of {latentSize} is not a whole number of such maps; use a multiple of {map}.", "latentSize");
        }

        return null;
    }

    /// <summary>Zero-pads images (<c>N x C x H x W</c>) at the bottom and right to the padded size.</summary>
    public Tensor Pad(Tensor images) => NeedsPadding
        ? nn.functional.pad(images, [0, PaddedWidth - Width, 0, PaddedHeight - Height])
        : images;

    /// <summary>Crops the decoder's output (<c>N x C x PaddedHeight x PaddedWidth</c>) back to <c>H x W</c>.</summary>
    public Tensor Crop(Tensor output) => NeedsPadding
        ? output.narrow(2, 0, Height).narrow(3, 0, Width)
        : output;

    /// <summary>
    /// The strided encoder convolutions (each followed by the activation), appended to <paramref name="layers"/>:
    /// Conv(C→c1, 3x3, stride 2), Conv(c1→c2, ...), ...
    /// </summary>
    public static void AddEncoderBody(List<(string, nn.Module<Tensor, Tensor>)> layers, int inputChannels, int[] channels, Activation activation)
    {
        for (var i = 0; i < channels.Length; i++)
        {
            layers.Add(($"conv{i + 1}", nn.Conv2d(i == 0 ? inputChannels : channels[i - 1], channels[i], 3, stride: 2, padding: 1)));
            layers.Add(($"{Name(activation)}{i + 1}", NetworkParts.Create(activation)));
        }
    }

    /// <summary>The decoder: Conv(code→c_last, 3x3) act, then one transposed stride-2 convolution per channel entry, the last one giving C channels.</summary>
    public static nn.Module<Tensor, Tensor> Decoder(int latentChannels, int outputChannels, int[] channels, Activation activation)
    {
        var dec = new List<(string, nn.Module<Tensor, Tensor>)>
        {
            ("conv_in", nn.Conv2d(latentChannels, channels[^1], 3, stride: 1, padding: 1)),
            ($"{Name(activation)}1", NetworkParts.Create(activation)),
        };
        for (var i = channels.Length - 1; i >= 0; i--)
        {
            var n = channels.Length - i;
            dec.Add(($"deconv{n}", nn.ConvTranspose2d(channels[i], i == 0 ? outputChannels : channels[i - 1], 3, stride: 2, padding: 1, output_padding: 1)));
            if (i > 0)
            {
                dec.Add(($"{Name(activation)}{n + 1}", NetworkParts.Create(activation)));
            }
        }

        return nn.Sequential(dec.ToArray());
    }

    public static string Name(Activation activation) => activation.ToString().ToLowerInvariant();
}
