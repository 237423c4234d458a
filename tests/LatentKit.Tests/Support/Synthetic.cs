
namespace LatentKit.Tests.Support;

/// <summary>Small synthetic MNIST-shaped datasets for fast unit tests: each digit is a distinct, learnable pattern plus noise.</summary>
internal static class Synthetic
{
    /// <summary>
    /// <paramref name="count"/> images whose label (cycling 0..9) selects a thick horizontal bar (rows 2 + 2.4 * label)
    /// and a vertical bar at a label-dependent column, with seeded pixel noise.
    /// </summary>
    public static MnistDataset Digits(int count, int seed = 1)
    {
        var random = new Random(seed);
        var pixels = new byte[count * MnistDataset.PixelsPerImage];
        var labels = new byte[count];
        for (var i = 0; i < count; i++)
        {
            var label = i % 10;
            labels[i] = (byte)label;
            var row = 2 + (int)(label * 2.4);
            var column = 3 + ((label * 7) % 22);
            for (var y = 0; y < 28; y++)
            {
                for (var x = 0; x < 28; x++)
                {
                    var ink = Math.Abs(y - row) <= 1 || Math.Abs(x - column) <= 1;
                    var value = ink ? 255 - random.Next(60) : random.Next(25);
                    pixels[(i * MnistDataset.PixelsPerImage) + (y * 28) + x] = (byte)value;
                }
            }
        }

        return new MnistDataset(pixels, labels, $"synthetic ({count}, seed {seed})");
    }
}
