
namespace LatentKit.Tests.Support;

/// <summary>What a model that learned nothing scores, to compare trained figures with.</summary>
internal static class Baselines
{
    /// <summary>Top-1 accuracy of guessing among ten balanced digits.</summary>
    public const double Chance = 0.1;

    /// <summary>
    /// Mean per-pixel binary cross-entropy of <paramref name="test"/> against the mean image of <paramref name="train"/>:
    /// the loss of a model that learned the pixel averages and nothing about its input.
    /// </summary>
    public static double MeanImageBinaryCrossEntropy(MnistDataset train, MnistDataset test)
    {
        var mean = new double[MnistDataset.PixelsPerImage];
        for (var i = 0; i < train.Count; i++)
        {
            var image = train.GetImage(i);
            for (var p = 0; p < mean.Length; p++)
            {
                mean[p] += image[p] / 255.0;
            }
        }

        for (var p = 0; p < mean.Length; p++)
        {
            mean[p] = Math.Clamp(mean[p] / train.Count, 1e-7, 1 - 1e-7);
        }

        var total = 0.0;
        for (var i = 0; i < test.Count; i++)
        {
            var image = test.GetImage(i);
            for (var p = 0; p < mean.Length; p++)
            {
                var x = image[p] / 255.0;
                total -= (x * Math.Log(mean[p])) + ((1 - x) * Math.Log(1 - mean[p]));
            }
        }

        return total / ((double)test.Count * MnistDataset.PixelsPerImage);
    }
}
