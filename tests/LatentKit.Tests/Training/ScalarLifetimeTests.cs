using System.Diagnostics;
using LatentKit.Tests.Support;

namespace LatentKit.Tests.Training;

/// <summary>
/// TorchSharp 0.107's optimizers create <c>Scalar</c>s by implicit conversion (<c>exp_avg.mul_(beta1)</c>); a Scalar is
/// a native pointer freed by its finalizer, and once its handle is read the managed object is unreachable, so a
/// garbage collection set off by another thread during the native call can free it mid-use (dotnet/TorchSharp PRs
/// 1434 and 1496). Seen as an intermittent "Expected false to be true ... toDouble/toFloat" inside Adam.step. These
/// tests train while another thread collects garbage in a tight loop, and require the same losses as a quiet run.
/// </summary>
public class ScalarLifetimeTests
{
    private static readonly TimeSpan StressTime = TimeSpan.FromSeconds(10);

    public static TheoryData<OptimizerKind> Optimizers => new() { OptimizerKind.Adam, OptimizerKind.AdamW, OptimizerKind.Sgd, OptimizerKind.RmsProp };

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void Training_while_another_thread_collects_garbage_neither_fails_nor_changes_the_losses(OptimizerKind optimizer) =>
        TrainUnderGarbageCollection(optimizer, () => Autoencoders.Dense().WithHiddenLayers(8).WithLatentSize(4).WithSeed(2).Build());

    [Fact]
    public void A_denoising_VAE_trains_while_another_thread_collects_garbage() =>
        TrainUnderGarbageCollection(OptimizerKind.Adam, () => Autoencoders.Variational().WithHiddenLayers(8).WithLatentSize(2).WithDenoising(0.1, 0.2).WithSeed(2).Build());

    private static void TrainUnderGarbageCollection(OptimizerKind optimizer, Func<IAutoencoder> build)
    {
        var data = Synthetic.Digits(96);
        var options = new TrainingOptions
        {
            Epochs = 2,
            BatchSize = 2,
            LearningRate = 1e-3,
            Optimizer = optimizer,
            Momentum = optimizer is OptimizerKind.Sgd or OptimizerKind.RmsProp ? 0.9 : 0,
            WeightDecay = 1e-4,
            LearningRateSchedule = LearningRateSchedule.Cosine,
            Seed = 3,
        };
        var run = new TrainingRun { Threads = 1 };
        double[] Train()
        {
            using var model = build();
            return model.Train(data, options, run).Epochs.Select(e => e.TrainingLoss).ToArray();
        }

        var quiet = Train();

        using var stop = new CancellationTokenSource();
        var collections = 0L;
        var collector = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.KeepAlive(new byte[4096]);
                GC.Collect();
                GC.WaitForPendingFinalizers();
                collections++;
            }
        })
        { IsBackground = true };
        collector.Start();
        var runs = 0;
        try
        {
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed < StressTime)
            {
                Train().Should().Equal(quiet, $"run {runs + 1} under garbage-collection pressure must give the quiet run's losses");
                runs++;
            }
        }
        finally
        {
            stop.Cancel();
            collector.Join();
        }

        runs.Should().BeGreaterThan(0);
        collections.Should().BeGreaterThan(0);
    }
}
