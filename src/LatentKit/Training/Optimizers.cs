using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentKit;

/// <summary>
/// Scalars that live as long as the process. TorchSharp's <see cref="Scalar"/> is a native pointer freed by its
/// finalizer; one made by implicit conversion (<c>x.mul_(0.5)</c>) is unreachable as soon as its handle is read, so a
/// garbage collection set off by another thread during the native call can free it while native code still reads it
/// (dotnet/TorchSharp PRs 1434 and 1496: "Expected false to be true ... toDouble/toFloat at c10/core/Scalar.h").
/// LatentKit's training and inference paths therefore never convert to a Scalar implicitly: constants come from
/// here (static fields keep them reachable), and per-call values are made with <see cref="Of(double)"/> in a
/// <c>using</c> declaration, which keeps the Scalar reachable until after the native call and frees it at once.
/// </summary>
internal static class Scalars
{
    /// <summary>0.</summary>
    public static readonly Scalar Zero = 0.0.ToScalar();

    /// <summary>1.</summary>
    public static readonly Scalar One = 1.0.ToScalar();

    /// <summary>0.5.</summary>
    public static readonly Scalar Half = 0.5.ToScalar();

    /// <summary>-0.5.</summary>
    public static readonly Scalar MinusHalf = (-0.5).ToScalar();

    /// <summary>2.</summary>
    public static readonly Scalar Two = 2.0.ToScalar();

    /// <summary>255 as a float (the byte-pixel scale).</summary>
    public static readonly Scalar ByteScale = 255f.ToScalar();

    /// <summary>A new Scalar for <paramref name="value"/>: hold it in a <c>using</c> declaration until the native calls that read it are done.</summary>
    public static Scalar Of(double value) => value.ToScalar();

    /// <summary>A new float Scalar for <paramref name="value"/>: hold it in a <c>using</c> declaration until the native calls that read it are done.</summary>
    public static Scalar Of(float value) => value.ToScalar();
}

/// <summary>
/// LatentKit's own optimizer step (Adam, AdamW, SGD and RMSProp with the formulas and defaults of TorchSharp 0.107's
/// <c>torch.optim</c> factories), written so that every <see cref="Scalar"/> it passes to native code is held in a
/// variable until the call returns: TorchSharp's own steps convert doubles to Scalars implicitly, which another
/// thread's garbage collection can free mid-step (see <see cref="Scalars"/>). State tensors are owned here.
/// </summary>
internal abstract class TrainingOptimizer : IDisposable
{
    private bool disposed;

    protected TrainingOptimizer(IEnumerable<Parameter> parameters, double learningRate, double weightDecay)
    {
        Parameters = parameters.ToArray();
        LearningRate = learningRate;
        WeightDecay = weightDecay;
        WeightDecayScalar = Scalars.Of(weightDecay);
    }

    /// <summary>The parameters this optimizer updates.</summary>
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>The learning rate of the next step (schedules and callbacks set it before each step).</summary>
    public double LearningRate { get; set; }

    /// <summary>The weight decay (L2 penalty added to the gradient; decoupled for AdamW).</summary>
    public double WeightDecay { get; }

    /// <summary>Steps taken (set when a checkpoint is restored: Adam's bias correction depends on it).</summary>
    public long Steps { get; set; }

    /// <summary><see cref="WeightDecay"/> as a Scalar owned by this optimizer.</summary>
    protected Scalar WeightDecayScalar { get; }

    /// <summary>Makes the optimizer for <paramref name="kind"/> with TorchSharp 0.107's defaults for everything LatentKit does not set.</summary>
    public static TrainingOptimizer Create(OptimizerKind kind, IEnumerable<Parameter> parameters, double learningRate, double weightDecay, double momentum) => kind switch
    {
        OptimizerKind.Adam => new AdamOptimizer(parameters, learningRate, weightDecay, decoupled: false),
        OptimizerKind.AdamW => new AdamOptimizer(parameters, learningRate, weightDecay, decoupled: true),
        OptimizerKind.Sgd => new SgdOptimizer(parameters, learningRate, weightDecay, momentum),
        OptimizerKind.RmsProp => new RmsPropOptimizer(parameters, learningRate, weightDecay, momentum),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown optimizer."),
    };

    /// <summary>Zeroes every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        using var noGrad = torch.no_grad();
        foreach (var parameter in Parameters)
        {
            using var grad = parameter.grad;
            grad?.zero_();
        }
    }

    /// <summary>One update of every parameter that has a gradient.</summary>
    public void Step()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        Steps++;
        for (var i = 0; i < Parameters.Count; i++)
        {
            var parameter = Parameters[i];
            var grad = parameter.grad;
            if (grad is null)
            {
                continue;
            }

            Update(i, parameter, grad);
        }
    }

    /// <summary>
    /// The state tensors of parameter <paramref name="index"/> by name (for checkpoints); tensors this optimizer owns.
    /// </summary>
    public abstract IReadOnlyList<(string Name, Tensor? Tensor)> StateOf(int index);

    /// <summary>
    /// Sets state slot <paramref name="slot"/> (in <see cref="StateOf"/>'s order) of parameter <paramref name="index"/>
    /// from a checkpoint: <paramref name="value"/> (shaped like the parameter) is copied; <see langword="null"/> leaves
    /// a slot that is created at the first step (SGD's momentum buffer) unset.
    /// </summary>
    public void RestoreState(int index, int slot, Tensor? value)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        using var noGrad = torch.no_grad();
        RestoreSlot(index, slot, value);
    }

    /// <summary>See <see cref="RestoreState"/>.</summary>
    protected abstract void RestoreSlot(int index, int slot, Tensor? value);

    /// <summary>Copies <paramref name="value"/> into an existing state tensor, or clears a slot that is made at the first step.</summary>
    protected static void CopyInto(Tensor? target, Tensor? value)
    {
        if (target is not null && value is not null)
        {
            target.copy_(value);
        }
    }

    /// <summary>Updates <paramref name="parameter"/> (index <paramref name="index"/>) from its gradient; runs without gradients inside a dispose scope.</summary>
    protected abstract void Update(int index, Parameter parameter, Tensor grad);

    /// <summary>The gradient with the L2 penalty added (<c>grad + weightDecay * parameter</c>), or the gradient when there is none.</summary>
    protected Tensor WithWeightDecay(Tensor grad, Parameter parameter) => WeightDecay != 0 ? grad.add(parameter, alpha: WeightDecayScalar) : grad;

    /// <summary>A zero tensor shaped like <paramref name="parameter"/>, owned by the optimizer (outside any dispose scope).</summary>
    protected static Tensor ZerosLike(Parameter parameter) => torch.zeros_like(parameter).DetachFromDisposeScope();

    /// <summary>Frees the state tensors.</summary>
    protected abstract void DisposeState();

    /// <inheritdoc />
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        DisposeState();
        WeightDecayScalar.Dispose();
    }
}

/// <summary>
/// Adam (L2 penalty added to the gradient) or AdamW (decoupled decay: the parameter is first multiplied by
/// <c>1 - lr * weightDecay</c>), as TorchSharp 0.107's <c>optim.Adam</c>/<c>optim.AdamW</c> with their defaults
/// (beta1 0.9, beta2 <see cref="Beta2"/>, eps 1e-8, no AMSGrad).
/// </summary>
internal sealed class AdamOptimizer : TrainingOptimizer
{
    /// <summary>First-moment decay.</summary>
    public const double Beta1 = 0.9;

    /// <summary>Second-moment decay: the default of TorchSharp 0.107 (as PyTorch).</summary>
    public const double Beta2 = 0.999;

    /// <summary>Denominator term.</summary>
    public const double Epsilon = 1e-8;

    private static readonly Scalar Beta1Scalar = Scalars.Of(Beta1);
    private static readonly Scalar OneMinusBeta1 = Scalars.Of(1 - Beta1);
    private static readonly Scalar Beta2Scalar = Scalars.Of(Beta2);
    private static readonly Scalar OneMinusBeta2 = Scalars.Of(1 - Beta2);
    private static readonly Scalar EpsilonScalar = Scalars.Of(Epsilon);

    private readonly bool decoupled;
    private readonly Tensor[] averages;
    private readonly Tensor[] squareAverages;

    public AdamOptimizer(IEnumerable<Parameter> parameters, double learningRate, double weightDecay, bool decoupled)
        : base(parameters, learningRate, weightDecay)
    {
        this.decoupled = decoupled;
        averages = Parameters.Select(ZerosLike).ToArray();
        squareAverages = Parameters.Select(ZerosLike).ToArray();
    }

    public override IReadOnlyList<(string Name, Tensor? Tensor)> StateOf(int index) => [("exp_avg", averages[index]), ("exp_avg_sq", squareAverages[index])];

    protected override void RestoreSlot(int index, int slot, Tensor? value) => CopyInto(slot == 0 ? averages[index] : squareAverages[index], value);

    protected override void Update(int index, Parameter parameter, Tensor grad)
    {
        var lr = LearningRate;
        if (decoupled)
        {
            // Float Scalars: a factor beyond the largest float becomes infinite (non-finite weights, which the trainer
            // reports as a TrainingDivergedException) instead of TorchSharp's overflow ExternalException from a double.
            using var shrink = Scalars.Of((float)(1 - (lr * WeightDecay)));
            parameter.mul_(shrink);
        }
        else
        {
            grad = WithWeightDecay(grad, parameter);
        }

        var biasCorrection1 = 1 - Math.Pow(Beta1, Steps);
        var biasCorrection2 = 1 - Math.Pow(Beta2, Steps);
        averages[index].mul_(Beta1Scalar).add_(grad, alpha: OneMinusBeta1);
        squareAverages[index].mul_(Beta2Scalar).addcmul_(grad, grad, value: OneMinusBeta2);
        using var root = Scalars.Of(Math.Sqrt(biasCorrection2));
        using var stepSize = Scalars.Of((float)-(lr / biasCorrection1));
        using var denominator = squareAverages[index].sqrt();
        denominator.div_(root).add_(EpsilonScalar, Scalars.One);
        parameter.addcdiv_(averages[index], denominator, value: stepSize);
    }

    protected override void DisposeState()
    {
        foreach (var tensor in averages.Concat(squareAverages))
        {
            tensor.Dispose();
        }
    }
}

/// <summary>SGD with optional momentum (no dampening, no Nesterov), as TorchSharp 0.107's <c>optim.SGD</c>: the momentum buffer starts as the first gradient.</summary>
internal sealed class SgdOptimizer : TrainingOptimizer
{
    private readonly double momentum;
    private readonly Scalar momentumScalar;
    private readonly Tensor?[] buffers;

    public SgdOptimizer(IEnumerable<Parameter> parameters, double learningRate, double weightDecay, double momentum)
        : base(parameters, learningRate, weightDecay)
    {
        this.momentum = momentum;
        momentumScalar = Scalars.Of(momentum);
        buffers = new Tensor?[Parameters.Count];
    }

    public override IReadOnlyList<(string Name, Tensor? Tensor)> StateOf(int index) => [("momentum_buffer", buffers[index])];

    protected override void RestoreSlot(int index, int slot, Tensor? value)
    {
        buffers[index]?.Dispose();
        buffers[index] = value?.detach().clone().DetachFromDisposeScope();
    }

    protected override void Update(int index, Parameter parameter, Tensor grad)
    {
        grad = WithWeightDecay(grad, parameter);
        if (momentum != 0)
        {
            if (buffers[index] is not { } buffer)
            {
                buffers[index] = grad.clone().detach().DetachFromDisposeScope();
            }
            else
            {
                buffer.mul_(momentumScalar).add_(grad, alpha: Scalars.One);
            }

            grad = buffers[index]!;
        }

        using var step = Scalars.Of(-LearningRate);
        parameter.add_(grad, alpha: step);
    }

    protected override void DisposeState()
    {
        foreach (var buffer in buffers)
        {
            buffer?.Dispose();
        }

        momentumScalar.Dispose();
    }
}

/// <summary>RMSProp with optional momentum (not centred), as TorchSharp 0.107's <c>optim.RMSProp</c> with its defaults (alpha 0.99, eps 1e-8).</summary>
internal sealed class RmsPropOptimizer : TrainingOptimizer
{
    /// <summary>Smoothing constant of the squared-gradient average.</summary>
    public const double Alpha = 0.99;

    /// <summary>Denominator term.</summary>
    public const double Epsilon = 1e-8;

    private static readonly Scalar AlphaScalar = Scalars.Of(Alpha);
    private static readonly Scalar OneMinusAlpha = Scalars.Of(1 - Alpha);
    private static readonly Scalar EpsilonScalar = Scalars.Of(Epsilon);

    private readonly double momentum;
    private readonly Scalar momentumScalar;
    private readonly Tensor[] squareAverages;
    private readonly Tensor?[] buffers;

    public RmsPropOptimizer(IEnumerable<Parameter> parameters, double learningRate, double weightDecay, double momentum)
        : base(parameters, learningRate, weightDecay)
    {
        this.momentum = momentum;
        momentumScalar = Scalars.Of(momentum);
        squareAverages = Parameters.Select(ZerosLike).ToArray();
        buffers = Parameters.Select(p => momentum > 0 ? ZerosLike(p) : null).ToArray();
    }

    public override IReadOnlyList<(string Name, Tensor? Tensor)> StateOf(int index) => [("square_avg", squareAverages[index]), ("momentum_buffer", buffers[index])];

    protected override void RestoreSlot(int index, int slot, Tensor? value) => CopyInto(slot == 0 ? squareAverages[index] : buffers[index], value);

    protected override void Update(int index, Parameter parameter, Tensor grad)
    {
        grad = WithWeightDecay(grad, parameter);
        squareAverages[index].mul_(AlphaScalar).addcmul_(grad, grad, value: OneMinusAlpha);
        using var average = squareAverages[index].sqrt();
        average.add_(EpsilonScalar, Scalars.One);
        using var step = Scalars.Of(-LearningRate);
        if (momentum > 0)
        {
            var buffer = buffers[index]!;
            buffer.mul_(momentumScalar).addcdiv_(grad, average, value: Scalars.One);
            parameter.add_(buffer, alpha: step);
        }
        else
        {
            parameter.addcdiv_(grad, average, value: step);
        }
    }

    protected override void DisposeState()
    {
        foreach (var tensor in squareAverages.Concat(buffers))
        {
            tensor?.Dispose();
        }

        momentumScalar.Dispose();
    }
}
