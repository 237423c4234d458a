using LatentKit.Tests.Support;
using Xunit.Abstractions;

namespace LatentKit.Tests.Data;

[Collection(RealMnistFixture.Collection)]
public sealed class RealMnistTests(RealMnistFixture mnist, ITestOutputHelper output)
{
    [Fact]
    public void The_training_set_has_60000_images_with_the_known_label_histogram()
    {
        output.WriteLine($"train loaded in {mnist.TrainLoadTime.TotalSeconds:F2} s, test in {mnist.TestLoadTime.TotalSeconds:F2} s");
        foreach (var line in mnist.Log.Lines)
        {
            output.WriteLine(line);
        }

        mnist.Train.Count.Should().Be(60_000);
        mnist.Train.Pixels.Length.Should().Be(47_040_000);
        mnist.Train.CountPerClass().Should().Equal(5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949);
        mnist.Train.GetLabel(0).Should().Be(5, "the first MNIST training image is a 5");
    }

    [Fact]
    public void The_test_set_has_10000_images_with_the_known_label_histogram()
    {
        mnist.Test.Count.Should().Be(10_000);
        mnist.Test.CountPerClass().Should().Equal(980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009);
        mnist.Test.GetLabel(0).Should().Be(7, "the first MNIST test image is a 7");
    }

    [Fact]
    public void The_cache_holds_the_four_files_verified()
    {
        var cache = new MnistCache(mnist.Options.CacheDirectory);

        foreach (var file in MnistFiles.All)
        {
            cache.Check(cache.GetPath(file), file).Should().BeNull();
        }
    }
}
