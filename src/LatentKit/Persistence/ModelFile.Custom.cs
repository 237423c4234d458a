using TorchSharp;
using static TorchSharp.torch;

namespace LatentKit;

public static partial class AutoencoderFile
{
    /// <summary>
    /// Loads an autoencoder from a file written by <see cref="IAutoencoder.Save"/> and moves it to
    /// <paramref name="device"/> (see <see cref="AutoencoderBase.MoveTo"/>; LatentKit is tested on the CPU only).
    /// </summary>
    /// <exception cref="ModelFileException">As for <see cref="Load(string)"/>.</exception>
    /// <exception cref="ArgumentException">The device is not available; the message names it and the devices that are (checked before the file is read).</exception>
    public static IAutoencoder Load(string path, Device device)
    {
        DeviceRules.Check(device, nameof(device));
        return MoveLoaded(ModelFile.LoadAutoencoder(path), device);
    }

    /// <summary>
    /// Loads a custom autoencoder (built with <see cref="Autoencoders.Custom"/> or
    /// <see cref="Autoencoders.CustomVariational"/>) into freshly built modules of the same architecture. A model file
    /// stores weights, not code: the file holds the input shape, the latent size and the name, shape and type of every
    /// weight and buffer, and your code builds the modules again. The modules are checked against the file (every
    /// name, shape and type) and by a forward pass on two samples (zeros and ones) before any weight is read, then the weights are
    /// loaded into them; the returned model owns them. If loading fails the modules stay yours.
    /// </summary>
    /// <param name="path">A file saved from a custom autoencoder.</param>
    /// <param name="encoder">A new encoder module of the saved architecture, on the CPU.</param>
    /// <param name="decoder">A new decoder module of the saved architecture, on the CPU.</param>
    /// <param name="device">Where to move the model after loading; the CPU when null.</param>
    /// <exception cref="ModelFileException">As for <see cref="Load(string)"/>; <see cref="ModelFileError.WeightsMismatch"/> when the modules differ from the saved ones (the message names the first parameter that differs); <see cref="ModelFileError.WrongKind"/> when the file holds a built-in model or a classifier.</exception>
    public static IAutoencoder LoadCustom(string path, nn.Module<Tensor, Tensor> encoder, nn.Module<Tensor, Tensor> decoder, Device? device = null)
    {
        if (device is not null)
        {
            DeviceRules.Check(device, nameof(device));
        }

        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(decoder);
        return MoveLoaded(ModelFile.LoadAutoencoder(path, new CustomModules(encoder, decoder)), device);
    }

    private static AutoencoderBase MoveLoaded(AutoencoderBase model, Device? device)
    {
        if (device is not null && device.type != DeviceType.CPU)
        {
            try
            {
                model.MoveTo(device);
            }
            catch
            {
                model.Dispose();
                throw;
            }
        }

        return model;
    }
}

/// <summary>The user's modules a custom model is loaded into.</summary>
internal sealed record CustomModules(nn.Module<Tensor, Tensor> Encoder, nn.Module<Tensor, Tensor> Decoder);

/// <summary>A custom network checked against a file: the modules and the layout that bounds their saved weights.</summary>
internal sealed record CustomLoad(CustomNetwork Parts, WeightsLayout Layout);

internal static partial class ModelFile
{
    private static CustomNetworkSpec? CustomSpecOf(AutoencoderBase model) => model switch
    {
        CustomAutoencoder custom => custom.Parts.Describe(),
        CustomVariationalAutoencoder custom => custom.Parts.Describe(),
        _ => null,
    };

    /// <summary>
    /// For a custom autoencoder in the file: checks that modules were given, that the manifest's custom section is
    /// whole, that the modules fit the stored input shape and latent size, and that their tensors have the stored
    /// names, shapes and types. Null for a built-in autoencoder (and then no modules may be given).
    /// </summary>
    private static CustomLoad? CheckCustom(string path, Manifest manifest, AutoencoderSpec spec, CustomModules? modules, string loadCustom, string loadBuiltIn)
    {
        var isCustom = spec.Kind is AutoencoderKind.Custom or AutoencoderKind.CustomVariational;
        if (!isCustom)
        {
            return modules is null
                ? null
                : throw new ModelFileException(path, ModelFileError.WrongKind, $"'{path}' holds a built-in {spec.Kind} autoencoder, which LatentKit rebuilds from the file: load it with {loadBuiltIn}, without modules.");
        }

        if (modules is null)
        {
            throw new ModelFileException(path, ModelFileError.WrongKind, $"'{path}' holds a custom autoencoder made of your own encoder and decoder modules; a model file stores their weights, not their code. Build the same modules again and load it with {loadCustom}.");
        }

        var stored = manifest.Custom;
        if (stored?.InputShape is null || stored.Tensors is null || Array.Exists(stored.Tensors, t => t?.Name is null || t.Shape is null || t.Type is null || Array.Exists(t.Shape, d => d < 0))
            || stored.InputShape.Length is 0 or > CustomNetwork.MaxInputDimensions || Array.Exists(stored.InputShape, d => d <= 0 || d > Dataset.MaxSampleSize))
        {
            throw new ModelFileException(path, ModelFileError.Damaged, $"'{path}' is damaged: its manifest field 'custom' (the custom network's input shape and tensors) is missing or invalid.");
        }

        CustomNetwork parts;
        try
        {
            parts = CustomNetwork.Check(modules.Encoder, modules.Decoder, [.. stored.InputShape.Select(d => (int)d)], spec.LatentSize, spec.Kind == AutoencoderKind.CustomVariational);
        }
        catch (ArgumentException e)
        {
            throw new ModelFileException(path, ModelFileError.WeightsMismatch, $"'{path}': the modules given do not fit the saved custom autoencoder (input [{string.Join(", ", stored.InputShape)}], latent {spec.LatentSize}): {AutoencoderFactory.RuleMessage(e)}", e);
        }

        var given = parts.Describe().Tensors.ToDictionary(t => t.Name);
        var saved = new HashSet<string>();
        foreach (var tensor in stored.Tensors)
        {
            saved.Add(tensor.Name);
            if (!given.TryGetValue(tensor.Name, out var mine))
            {
                throw Mismatch(path, $"the saved parameter '{tensor.Name}' [{string.Join(", ", tensor.Shape)}] is not in the modules given");
            }

            if (!mine.Shape.SequenceEqual(tensor.Shape) || mine.Type != tensor.Type)
            {
                throw Mismatch(path, $"the parameter '{tensor.Name}' is {tensor.Type} [{string.Join(", ", tensor.Shape)}] in the file but {mine.Type} [{string.Join(", ", mine.Shape)}] in the modules given");
            }
        }

        if (given.Keys.FirstOrDefault(name => !saved.Contains(name)) is { } extra)
        {
            throw Mismatch(path, $"the modules given have a parameter '{extra}' [{string.Join(", ", given[extra].Shape)}] that the file does not");
        }

        // The weights entry holds each tensor's data, name and a small header: a layout with the data's values and,
        // besides one header per tensor, room for the names (in headers' worth) bounds what is read.
        var (dataBytes, nameBytes, count) = parts.Size();
        var layout = new WeightsLayout(count + (int)((nameBytes + WeightsLayout.MaxBytesPerTensorHeader - 1) / WeightsLayout.MaxBytesPerTensorHeader), (dataBytes + 3) / 4);
        return new CustomLoad(parts, layout);
    }

    private static ModelFileException Mismatch(string path, string what) =>
        new(path, ModelFileError.WeightsMismatch, $"'{path}': the modules given do not have the saved architecture: {what}. Build the encoder and decoder exactly as when the model was saved.");
}
