namespace LatentKit.Tests.Support;

/// <summary>Small synthetic datasets of shapes other than MNIST's: each class is a learnable pattern plus seeded noise.</summary>
internal static class SyntheticShapes
{
    public static readonly string[] ColourNames = ["red square", "green square", "blue bar", "grey column"];

    public static readonly string[] GreyNames = ["top bar", "left column", "centre dot"];

    /// <summary>
    /// Byte images <c>channels x height x width</c>; the label (cycling) selects where a bright rectangle lies and
    /// which channels it lights. <paramref name="classCount"/> 0 gives an unlabelled set.
    /// </summary>
    public static Dataset Images(int count, int channels, int height, int width, int classCount, IReadOnlyList<string>? names, int seed)
    {
        var random = new Random(seed);
        var size = channels * height * width;
        var pixels = new byte[count * size];
        var labels = new int[count];
        var classes = Math.Max(classCount, 4);
        for (var i = 0; i < count; i++)
        {
            var label = classCount == 0 ? random.Next(classes) : i % classCount;
            labels[i] = label;
            var top = label * height / classes;
            var left = (classes - 1 - label) * width / classes;
            var h = Math.Max(2, height / 3);
            var w = Math.Max(2, width / 3);
            for (var c = 0; c < channels; c++)
            {
                var lit = channels == 1 || c == label % channels || label == classes - 1;
                for (var y = 0; y < height; y++)
                {
                    for (var x = 0; x < width; x++)
                    {
                        var ink = lit && y >= top && y < top + h && x >= left && x < left + w;
                        pixels[(i * size) + (c * height * width) + (y * width) + x] = (byte)(ink ? 255 - random.Next(50) : random.Next(30));
                    }
                }
            }
        }

        return classCount == 0
            ? Dataset.FromImages(pixels, channels, height, width, $"unlabelled {channels}x{height}x{width}")
            : Dataset.FromImages(pixels, channels, height, width, labels, classCount, names, $"synthetic {channels}x{height}x{width}");
    }

    /// <summary>3 x 32 x 32 colour images of 4 named classes.</summary>
    public static Dataset Colour(int count, int seed = 1) => Images(count, 3, 32, 32, 4, ColourNames, seed);

    /// <summary>1 x 16 x 16 grey images of 3 named classes.</summary>
    public static Dataset Grey(int count, int seed = 1) => Images(count, 1, 16, 16, 3, GreyNames, seed);

    /// <summary>
    /// Rows of 30 unbounded features in 2 classes: feature j is <c>offset_j + scale_j * (signal + noise)</c>, where the
    /// signal's sign is the class on the first 10 features; the last feature is the constant 7.
    /// </summary>
    public static Dataset Vectors(int count, int seed = 1, bool labelled = true)
    {
        const int width = 30;
        var random = new Random(seed);
        var rows = new float[count * width];
        var labels = new int[count];
        for (var i = 0; i < count; i++)
        {
            var label = i % 2;
            labels[i] = label;
            var shared = Gaussian(random);
            for (var j = 0; j < width; j++)
            {
                var signal = j < 10 ? (label == 0 ? -1.5 : 1.5) : shared * (j % 3);
                var value = j == width - 1 ? 7.0 : (j * 10.0) + ((1 + (j % 5)) * (signal + (0.5 * Gaussian(random))));
                rows[(i * width) + j] = (float)value;
            }
        }

        return labelled
            ? Dataset.FromFeatures(rows, width, labels, 2, ["negative", "positive"], "synthetic vectors")
            : Dataset.FromFeatures(rows, width, name: "unlabelled vectors");
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
