using TorchSharp;
using static TorchSharp.torch;

namespace LatentKit;

/// <summary>Small helpers shared by the networks.</summary>
internal static class NetworkParts
{
    private static readonly object ConstructionLock = new();

    /// <summary>
    /// Runs <paramref name="construct"/> (which initialises weights from TorchSharp's global generator) after seeding
    /// that generator with <paramref name="seed"/>, holding a lock so that two LatentKit constructions on different
    /// threads cannot interleave their draws. Code outside LatentKit that uses the global generator concurrently can
    /// still disturb a seeded construction.
    /// </summary>
    public static T SeededConstruction<T>(int? seed, Func<T> construct)
    {
        lock (ConstructionLock)
        {
            if (seed is { } value)
            {
                torch.manual_seed(value);
            }

            return construct();
        }
    }

    public static nn.Module<Tensor, Tensor> Create(Activation activation) => activation switch
    {
        Activation.ReLU => nn.ReLU(),
        Activation.LeakyReLU => nn.LeakyReLU(0.01),
        Activation.ELU => nn.ELU(),
        Activation.GELU => nn.GELU(),
        Activation.SiLU => nn.SiLU(),
        Activation.Tanh => nn.Tanh(),
        Activation.Sigmoid => nn.Sigmoid(),
        Activation.Identity => nn.Identity(),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation."),
    };

    /// <summary>A multilayer perceptron: Linear, activation, ..., Linear, with <paramref name="last"/> after the last layer unless it is Identity.</summary>
    public static nn.Module<Tensor, Tensor> Mlp(IReadOnlyList<int> widths, Activation activation, Activation last)
    {
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (var i = 0; i + 1 < widths.Count; i++)
        {
            modules.Add(($"linear{i + 1}", nn.Linear(widths[i], widths[i + 1])));
            var act = i + 2 < widths.Count ? activation : last;
            if (act != Activation.Identity)
            {
                modules.Add(($"{act.ToString().ToLowerInvariant()}{i + 1}", Create(act)));
            }
        }

        return nn.Sequential(modules.ToArray());
    }

    /// <summary>
    /// A classifier head: for each hidden layer Linear, [BatchNorm1d], activation, [<see cref="SeededDropout"/>]; then
    /// the output Linear. Without batch norm and dropout it is exactly <see cref="Mlp"/> (same module names, so older
    /// files load). Train it through <see cref="Forward"/>, which gives the dropout layers the run's generator.
    /// </summary>
    public static nn.Module<Tensor, Tensor> ClassifierHead(IReadOnlyList<int> widths, Activation activation, bool batchNorm, double dropout)
    {
        if (!batchNorm && dropout <= 0)
        {
            return Mlp(widths, activation, Activation.Identity);
        }

        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (var i = 0; i + 1 < widths.Count; i++)
        {
            modules.Add(($"linear{i + 1}", nn.Linear(widths[i], widths[i + 1])));
            if (i + 2 < widths.Count)
            {
                if (batchNorm)
                {
                    modules.Add(($"batchnorm{i + 1}", nn.BatchNorm1d(widths[i + 1])));
                }

                if (activation != Activation.Identity)
                {
                    modules.Add(($"{activation.ToString().ToLowerInvariant()}{i + 1}", Create(activation)));
                }

                if (dropout > 0)
                {
                    modules.Add(($"dropout{i + 1}", new SeededDropout(dropout)));
                }
            }
        }

        return nn.Sequential(modules.ToArray());
    }

    /// <summary>
    /// Runs the layers of <paramref name="sequential"/> in order, giving each <see cref="SeededDropout"/> the training
    /// run's generator <paramref name="noise"/> (<see langword="null"/> when evaluating); the same as its
    /// <c>forward</c> for every other layer.
    /// </summary>
    public static Tensor Forward(nn.Module<Tensor, Tensor> sequential, Tensor input, Generator? noise)
    {
        var x = input;
        foreach (var layer in sequential.children())
        {
            x = layer is SeededDropout dropout ? dropout.Forward(x, noise) : ((nn.Module<Tensor, Tensor>)layer).forward(x);
        }

        return x;
    }
}

/// <summary>
/// Dropout whose masks come from a given generator (the training run's, seeded by <c>TrainingOptions.Seed</c>)
/// instead of TorchSharp's global one, so a seeded run does not depend on what else the process draws. In training
/// mode it zeroes each value with probability <see cref="Probability"/> and scales the rest by 1 / (1 - p); in
/// evaluation mode it is the identity. It has no weights, so it saves and loads like TorchSharp's Dropout.
/// </summary>
internal sealed class SeededDropout : nn.Module<Tensor, Tensor>
{
    public SeededDropout(double probability)
        : base("SeededDropout")
    {
        Probability = probability;
    }

    /// <summary>The probability of zeroing a value while training, in [0, 1).</summary>
    public double Probability { get; }

    /// <summary>The identity in evaluation mode; training goes through <see cref="Forward"/>, which needs the run's generator.</summary>
    public override Tensor forward(Tensor input) => Forward(input, noise: null);

    /// <summary>Drops values with masks drawn from <paramref name="noise"/> in training mode; the identity in evaluation mode.</summary>
    /// <exception cref="InvalidOperationException">In training mode without a generator.</exception>
    public Tensor Forward(Tensor input, Generator? noise)
    {
        if (!training || Probability <= 0)
        {
            return input.alias();
        }

        if (noise is null)
        {
            throw new InvalidOperationException("Dropout in training mode needs the training run's seeded generator; train through Trainer.");
        }

        using var probability = Scalars.Of(Probability);
        using var scale = Scalars.Of(1.0 / (1.0 - Probability));
        var keep = torch.rand(input.shape, device: input.device, generator: noise).ge(probability).to(input.dtype);
        return (input * keep).mul_(scale);
    }
}

/// <summary>A container module that registers named parts, so that their weights are saved, loaded and snapshotted together.</summary>
internal sealed class Network : nn.Module
{
    public Network(string name, params (string Name, nn.Module Module)[] parts)
        : base(name)
    {
        foreach (var (partName, module) in parts)
        {
            register_module(partName, module);
        }
    }
}
