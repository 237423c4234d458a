using TorchSharp;
using static TorchSharp.torch;

namespace LatentKit.Tests.Training;

/// <summary>LatentKit's own optimizer steps (explicit Scalars) give the parameters TorchSharp 0.107's optimizers give.</summary>
public class OptimizerTests
{
    public static TheoryData<OptimizerKind, double, double, bool> Cases => new()
    {
        { OptimizerKind.Adam, 0, 0, false },
        { OptimizerKind.Adam, 1e-2, 0, true },
        { OptimizerKind.AdamW, 1e-2, 0, true },
        { OptimizerKind.AdamW, 0, 0, false },
        { OptimizerKind.Sgd, 0, 0, false },
        { OptimizerKind.Sgd, 1e-2, 0.9, true },
        { OptimizerKind.RmsProp, 0, 0, false },
        { OptimizerKind.RmsProp, 1e-2, 0.9, true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Twenty_steps_give_TorchSharps_parameters(OptimizerKind kind, double weightDecay, double momentum, bool changingRate)
    {
        const double rate = 0.01;
        using var ours = Network();
        using var theirs = Network();
        using var optimizer = TrainingOptimizer.Create(kind, ours.parameters(), rate, weightDecay, momentum);
        using var reference = kind switch
        {
            OptimizerKind.Adam => (optim.Optimizer)optim.Adam(theirs.parameters(), rate, weight_decay: weightDecay),
            OptimizerKind.AdamW => optim.AdamW(theirs.parameters(), rate, weight_decay: weightDecay),
            OptimizerKind.Sgd => optim.SGD(theirs.parameters(), rate, momentum: momentum, weight_decay: weightDecay),
            _ => optim.RMSProp(theirs.parameters(), rate, weight_decay: weightDecay, momentum: momentum),
        };
        var generator = new Generator(7);
        for (var step = 1; step <= 20; step++)
        {
            using var scope = NewDisposeScope();
            var inputs = randn([16, 6], generator: generator);
            var targets = randn([16, 3], generator: generator);
            var current = changingRate ? rate * (1 + Math.Cos(step)) / 2 : rate;
            optimizer.LearningRate = current;
            foreach (var group in reference.ParamGroups)
            {
                group.LearningRate = current;
            }

            optimizer.ZeroGrad();
            nn.functional.mse_loss(ours.forward(inputs), targets).backward();
            optimizer.Step();
            reference.zero_grad();
            nn.functional.mse_loss(theirs.forward(inputs), targets).backward();
            reference.step();
        }

        var a = ours.parameters().ToArray();
        var b = theirs.parameters().ToArray();
        a.Should().HaveCount(b.Length);
        using var noGrad = no_grad();
        for (var i = 0; i < a.Length; i++)
        {
            var difference = (a[i] - b[i]).abs().max().item<float>();
            difference.Should().BeLessThanOrEqualTo(1e-6f, $"parameter {i} after 20 {kind} steps");
        }

        // The parameters moved: the comparison is not between two untouched networks.
        using var fresh = Network();
        (a[0] - fresh.parameters().First()).abs().max().item<float>().Should().BeGreaterThan(1e-4f);
    }

    private static nn.Module<Tensor, Tensor> Network()
    {
        torch.manual_seed(11);
        return nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3));
    }
}
