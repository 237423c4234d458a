using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace LatentKit;

/// <summary>
/// An autoencoder on encoder and decoder modules written by the user. The encoder takes a batch shaped
/// <c>N x InputShape</c> and returns codes <c>N x LatentSize</c>; the decoder takes codes <c>N x LatentSize</c> and
/// returns <c>N x InputShape</c> values <em>before</em> the output activation (logits for a sigmoid output). Training,
/// evaluation, saving and inference are the built-in models' (<see cref="AutoencoderBase"/>). The model owns the
/// modules from then on: <see cref="AutoencoderBase.Dispose"/> disposes them. Build one with
/// <see cref="Autoencoders.Custom"/>; load one with <see cref="AutoencoderFile.LoadCustom"/> and freshly built modules of
/// the same architecture.
/// </summary>
public sealed class CustomAutoencoder : AutoencoderBase
{
    private readonly CustomNetwork parts;

    internal CustomAutoencoder(AutoencoderSpec spec, TrainingOptions defaultTraining, CustomNetwork parts)
        : base(spec, defaultTraining)
    {
        this.parts = parts;
    }

    /// <inheritdoc />
    public override IReadOnlyList<long> InputShape => parts.InputShape;

    internal override nn.Module Network => parts.Network;

    internal override nn.Module<Tensor, Tensor> EncoderLayers => parts.Encoder;

    internal override nn.Module<Tensor, Tensor> DecoderLayers => parts.Decoder;

    internal CustomNetwork Parts => parts;

    internal override Tensor EncodeCore(Tensor input) => parts.Encoder.forward(input);

    internal override Tensor DecodeLogitsCore(Tensor codes) => parts.Decoder.forward(codes);
}

/// <summary>
/// A variational autoencoder on encoder and decoder modules written by the user. The encoder returns
/// <c>N x (2 · LatentSize)</c> values: the first <c>LatentSize</c> columns are the mean of the latent Gaussian, the
/// last <c>LatentSize</c> its log-variance (end the encoder with one linear layer of <c>2 · LatentSize</c> outputs).
/// The decoder is as for <see cref="CustomAutoencoder"/>. Training minimises, per sample, the summed reconstruction
/// loss plus <see cref="KlWeight"/> times the KL divergence from the standard normal prior, with the
/// reparameterisation trick, exactly as <see cref="VariationalAutoencoder"/>; encoding and reconstructing use the
/// mean. Build one with <see cref="Autoencoders.CustomVariational"/>.
/// </summary>
public sealed class CustomVariationalAutoencoder : AutoencoderBase, IVariationalAutoencoder
{
    private readonly CustomNetwork parts;

    internal CustomVariationalAutoencoder(AutoencoderSpec spec, TrainingOptions defaultTraining, CustomNetwork parts)
        : base(spec, defaultTraining)
    {
        this.parts = parts;
    }

    /// <inheritdoc />
    public double KlWeight => Spec.KlWeight;

    /// <inheritdoc />
    public override IReadOnlyList<long> InputShape => parts.InputShape;

    internal override nn.Module Network => parts.Network;

    internal override nn.Module<Tensor, Tensor> EncoderLayers => parts.Encoder;

    internal override nn.Module<Tensor, Tensor> DecoderLayers => parts.Decoder;

    internal CustomNetwork Parts => parts;

    /// <inheritdoc />
    public (Tensor Mean, Tensor LogVariance) EncodeDistribution(Tensor images)
    {
        ThrowIfDisposed();
        using var use = Guard.EnterUse();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Network.eval();
        var (mean, logVariance) = Split(parts.Encoder.forward(ToNetworkInput(images, nameof(images))));
        return (mean.contiguous().MoveToOuterDisposeScope(), logVariance.contiguous().MoveToOuterDisposeScope());
    }

    /// <inheritdoc />
    public Tensor Sample(int count, int seed)
    {
        ThrowIfDisposed();
        return VariationalParts.Sample(this, count, seed);
    }

    internal override Tensor EncodeCore(Tensor input) => Split(parts.Encoder.forward(input)).Mean;

    internal override Tensor DecodeLogitsCore(Tensor codes) => parts.Decoder.forward(codes);

    internal override (Tensor Logits, double KlSum) EvaluateBatch(Tensor input) => VariationalParts.EvaluateBatch(this, Distribution, input);

    internal override Tensor ComputeLoss(Tensor inputs, Generator? noise, Tensor? figureSums) => VariationalParts.Loss(this, Distribution, inputs, noise, figureSums);

    /// <summary>The user's encoder output split into its mean and log-variance halves.</summary>
    private (Tensor Mean, Tensor LogVariance) Distribution(Tensor input) => Split(parts.Encoder.forward(input));

    private (Tensor Mean, Tensor LogVariance) Split(Tensor output) => (output.narrow(1, 0, LatentSize), output.narrow(1, LatentSize, LatentSize));
}

/// <summary>One parameter or buffer of a custom network, as stored in a model file's manifest.</summary>
internal sealed record CustomTensor(string Name, long[] Shape, string Type);

/// <summary>What a model file stores about a custom network: the input shape and every tensor's name, shape and type.</summary>
internal sealed record CustomNetworkSpec(long[] InputShape, CustomTensor[] Tensors);

/// <summary>
/// The user's encoder and decoder, joined in one module (<c>encoder.*</c>, <c>decoder.*</c>), with the checks that
/// they fit the input shape and the latent size. The one place of the custom-network rules, used when building and
/// when loading.
/// </summary>
internal sealed class CustomNetwork
{
    /// <summary>The most dimensions of a sample: 3 (channels, height, width).</summary>
    public const int MaxInputDimensions = 3;

    private readonly Lazy<nn.Module> network;

    private CustomNetwork(nn.Module<Tensor, Tensor> encoder, nn.Module<Tensor, Tensor> decoder, long[] inputShape)
    {
        Encoder = encoder;
        Decoder = decoder;
        InputShape = inputShape;

        // Joined only when a model is made of them: a check that fails (or a load that refuses the modules) leaves the
        // caller's modules untouched and owned by no other module.
        network = new Lazy<nn.Module>(() => new Network("CustomAutoencoder", ("encoder", encoder), ("decoder", decoder)));
    }

    public nn.Module<Tensor, Tensor> Encoder { get; }

    public nn.Module<Tensor, Tensor> Decoder { get; }

    public long[] InputShape { get; }

    public nn.Module Network => network.Value;

    /// <summary>
    /// The input shape, the names (as in the joined module: <c>encoder.*</c>, <c>decoder.*</c>), shapes and types of
    /// every weight and buffer, for the manifest.
    /// </summary>
    public CustomNetworkSpec Describe() => new(
        [.. InputShape],
        [.. Tensors("encoder", Encoder).Concat(Tensors("decoder", Decoder))]);

    /// <summary>Bytes of the tensors' data and of their names, as the saved weights hold them.</summary>
    public (long DataBytes, long NameBytes, int Count) Size()
    {
        long data = 0, names = 0;
        var count = 0;
        foreach (var (prefix, module) in new[] { ("encoder", (nn.Module)Encoder), ("decoder", Decoder) })
        {
            foreach (var (name, tensor) in module.state_dict())
            {
                data += tensor.numel() * tensor.ElementSize;
                names += System.Text.Encoding.UTF8.GetByteCount(name) + prefix.Length + 1;
                count++;
            }
        }

        return (data, names, count);
    }

    private static IEnumerable<CustomTensor> Tensors(string prefix, nn.Module module) =>
        module.state_dict().Select(p => new CustomTensor($"{prefix}.{p.Key}", [.. p.Value.shape], p.Value.dtype.ToString()));

    /// <summary>
    /// Checks the modules and wraps them: the input shape has 1 to 3 positive dimensions; the modules are two different
    /// modules on the CPU with at most <see cref="ModelLimits.MaxParameters"/> values, at least one of them trainable;
    /// and, run in evaluation mode on a batch of two samples (zeros and ones, so no random numbers are drawn), the
    /// encoder returns float32 <c>2 x latent</c> (<c>2 x 2·latent</c> for a VAE) and the decoder, on two codes (zeros
    /// and ones), float32 <c>2 x inputShape</c>, all finite. The modules are left in the mode they were in.
    /// </summary>
    /// <exception cref="ArgumentException">A rule is broken; <see cref="ArgumentException.ParamName"/> is <c>encoder</c> or <c>decoder</c> and the message says what is wrong (shapes, type, batch dimension, non-finite values; for a module that throws, the first line of its error).</exception>
    public static CustomNetwork Check(nn.Module<Tensor, Tensor> encoder, nn.Module<Tensor, Tensor> decoder, IReadOnlyList<int> inputShape, int latentSize, bool variational)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(decoder);
        ArgumentNullException.ThrowIfNull(inputShape);
        if (ReferenceEquals(encoder, decoder))
        {
            throw new ArgumentException("The encoder and the decoder must be two different modules; the same module was given for both.", nameof(decoder));
        }

        if (inputShape.Count is 0 or > MaxInputDimensions || inputShape.Any(d => d <= 0) || inputShape.Aggregate(1L, (a, d) => a * d) > Dataset.MaxSampleSize)
        {
            throw new ArgumentException(
                $"The input shape must have 1 to {MaxInputDimensions} dimensions ([features] or [channels, height, width]), each at least 1, and at most {Dataset.MaxSampleSize:N0} values; got [{string.Join(", ", inputShape)}].",
                nameof(inputShape));
        }

        if (latentSize <= 0 || latentSize > ModelLimits.MaxLatentSize)
        {
            throw new ArgumentException($"The latent size must be 1 to {ModelLimits.MaxLatentSize} (ModelLimits.MaxLatentSize); got {latentSize}.", nameof(latentSize));
        }

        long[] shape = [.. inputShape.Select(d => (long)d)];
        var shapeText = $"[1, {string.Join(", ", shape)}]";
        CheckModule(encoder, nameof(encoder));
        CheckModule(decoder, nameof(decoder));
        var parameters = encoder.state_dict().Values.Concat(decoder.state_dict().Values).Sum(t => t.numel());
        if (parameters > ModelLimits.MaxParameters)
        {
            throw new ArgumentException($"The encoder and decoder hold {parameters:N0} values, more than the {ModelLimits.MaxParameters:N0} allowed (ModelLimits.MaxParameters).", nameof(encoder));
        }

        if (!encoder.parameters().Concat(decoder.parameters()).Any(p => p.requires_grad))
        {
            throw new ArgumentException(
                "The encoder and the decoder have no trainable parameters (no parameter with requires_grad): training could not change anything. Give at least one of them a layer with weights, such as nn.Linear.",
                nameof(encoder));
        }

        var codeWidth = variational ? 2L * latentSize : latentSize;
        var codeText = variational
            ? $"[{CheckBatch}, {codeWidth}] (the mean then the log-variance, {latentSize} each)"
            : $"[{CheckBatch}, {codeWidth}]";
        var encoderWasTraining = encoder.training;
        var decoderWasTraining = decoder.training;
        try
        {
            // Two different samples, zeros and ones: a module that mixes the samples of a batch (sums or averages over
            // dimension 0) shows. Constant inputs in evaluation mode draw nothing from TorchSharp's global generator.
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            encoder.eval();
            decoder.eval();
            var samplesText = $"two samples shaped [{CheckBatch}, {string.Join(", ", shape)}] (zeros and ones)";
            var code = Run(encoder, ZerosAndOnes(shape), nameof(encoder), samplesText);
            CheckOutput(code, nameof(encoder), samplesText);
            if (!code.shape.SequenceEqual([CheckBatch, codeWidth]))
            {
                throw new ArgumentException(
                    $"The encoder must return codes shaped N x {codeWidth}: for {samplesText} it should return {codeText}, but it returned [{string.Join(", ", code.shape)}]{(code.dim() > 2 ? "; end it with nn.Flatten() and a linear layer" : string.Empty)}.",
                    nameof(encoder));
            }

            CheckFinite(code, nameof(encoder), samplesText);
            var codesText = $"two codes shaped [{CheckBatch}, {latentSize}] (zeros and ones)";
            var output = Run(decoder, ZerosAndOnes([latentSize]), nameof(decoder), codesText);
            CheckOutput(output, nameof(decoder), codesText);
            if (!output.shape.SequenceEqual(shape.Prepend(CheckBatch)))
            {
                throw new ArgumentException(
                    $"The decoder must return samples shaped N x {string.Join(" x ", shape)} (the input shape): for {codesText} it should return [{CheckBatch}, {string.Join(", ", shape)}], but it returned [{string.Join(", ", output.shape)}]{(output.dim() == 2 && shape.Length > 1 ? "; end it with nn.Unflatten(1, [the input shape])" : string.Empty)}.",
                    nameof(decoder));
            }

            CheckFinite(output, nameof(decoder), codesText);
        }
        finally
        {
            encoder.train(encoderWasTraining);
            decoder.train(decoderWasTraining);
        }

        return new CustomNetwork(encoder, decoder, shape);
    }

    /// <summary>The batch the modules are checked on: two samples.</summary>
    private const long CheckBatch = 2;

    /// <summary>A batch of two samples of <paramref name="shape"/>: zeros, then ones.</summary>
    private static Tensor ZerosAndOnes(long[] shape) => cat([zeros([1L, .. shape]), ones([1L, .. shape])], 0);

    /// <summary>Checks what a module returned for the two check samples: float32, and one row per sample.</summary>
    private static void CheckOutput(Tensor output, string name, string what)
    {
        if (output.dtype != ScalarType.Float32)
        {
            throw new ArgumentException(
                $"The {name} returned {output.dtype} values for {what}; it must return float32 (the type of the inputs, the weights LatentKit trains and its losses): build its layers in float32 and do not convert the output.",
                name);
        }

        if (output.dim() == 0 || output.shape[0] != CheckBatch)
        {
            var rows = output.dim() == 0 ? 0 : output.shape[0];
            throw new ArgumentException(
                $"The {name} returned {rows} row{(rows == 1 ? string.Empty : "s")} for a batch of {CheckBatch} ({what}), shaped [{string.Join(", ", output.shape)}]: it must keep the batch dimension first, one output per sample (do not sum, average or reshape across dimension 0).",
                name);
        }
    }

    /// <summary>Checks that a module's output for the check samples holds only finite values.</summary>
    private static void CheckFinite(Tensor output, string name, string what)
    {
        if (!output.isfinite().all().item<bool>())
        {
            throw new ArgumentException(
                $"The {name} returned non-finite values (NaN or infinity) for {what}: training and encoding would give NaN. Check its layers (for example a log or a division of a value that can be 0).",
                name);
        }
    }

    private static void CheckModule(nn.Module module, string name)
    {
        foreach (var (tensorName, tensor) in module.state_dict())
        {
            if (tensor.device_type != DeviceType.CPU)
            {
                throw new ArgumentException($"The {name}'s tensor '{tensorName}' is on {tensor.device}; build the modules on the CPU and move the model with MoveTo.", name);
            }
        }
    }

    private static Tensor Run(nn.Module<Tensor, Tensor> module, Tensor input, string name, string what)
    {
        try
        {
            return module.forward(input);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ArgumentException($"The {name} failed on {what}: {NativeErrors.FirstLine(e)}", name, e);
        }
    }
}
