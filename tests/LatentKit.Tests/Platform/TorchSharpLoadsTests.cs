using static TorchSharp.torch;

namespace LatentKit.Tests.Platform;

/// <summary>Proves that TorchSharp's native library loads in the test host on this machine (see docs/platforms.md).</summary>
public class TorchSharpLoadsTests
{
    [Fact]
    public void Tensors_are_created_and_a_backward_pass_gives_the_analytic_gradient()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { 1f, -2f, 3f }, requires_grad: true);
        var loss = (x * x).sum();
        loss.backward();

        loss.item<float>().Should().BeApproximately(14f, 1e-6f);
        x.grad!.data<float>().ToArray().Should().Equal(2f, -4f, 6f);
    }
}
