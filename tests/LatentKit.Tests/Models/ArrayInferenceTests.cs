using LatentKit.Tests.Support;
using static TorchSharp.torch;

namespace LatentKit.Tests.Models;

/// <summary>Inference from managed arrays: the same values as the tensor methods, batched, with checked inputs.</summary>
// Not in parallel with the real-MNIST training tests (the longest ones): these classes are heavy too, and the machine has 2 cores.
[Collection(RealMnistFixture.Collection)]
public sealed class ArrayInferenceTests
{
    private const float Tolerance = 1e-6f;

    public static TheoryData<AutoencoderKind> Kinds => new() { AutoencoderKind.Dense, AutoencoderKind.Convolutional, AutoencoderKind.Variational };

    /// <summary>300 samples: more than one internal batch (<see cref="AutoencoderArrays.MaxBatchSamples"/>).</summary>
    private static (MnistDataset Data, float[] Flat, float[][] Rows) Samples(int count = 300)
    {
        var data = Synthetic.Digits(count);
        using var images = data.ImagesToTensor();
        var flat = SmallModels.Values(images);
        var rows = Enumerable.Range(0, count).Select(i => flat.AsSpan(i * 784, 784).ToArray()).ToArray();
        return (data, flat, rows);
    }

    private static void ShouldMatch(float[] actual, float[] expected)
    {
        actual.Should().HaveCount(expected.Length);
        var (worst, at) = (0f, -1);
        for (var i = 0; i < expected.Length; i++)
        {
            var difference = Math.Abs(actual[i] - expected[i]);
            if (!(difference <= worst))
            {
                (worst, at) = (difference, i);
            }
        }

        worst.Should().BeLessThanOrEqualTo(Tolerance, $"value {at} differs most ({(at < 0 ? "none" : $"{actual[at]} vs {expected[at]}")})");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Array_encode_reconstruct_and_decode_equal_the_tensor_methods(AutoencoderKind kind)
    {
        using var model = SmallModels.Build(kind);
        var (data, flat, rows) = Samples();
        using var images = tensor(flat, [rows.Length, 784]);
        using var codesTensor = model.Encode(images);
        using var reconstructionTensor = model.Reconstruct(images);
        using var decodedTensor = model.Decode(codesTensor);
        var codes = SmallModels.Values(codesTensor);
        var reconstructions = SmallModels.Values(reconstructionTensor);
        var decoded = SmallModels.Values(decodedTensor);

        ShouldMatch(model.Encode(flat, rows.Length), codes);
        ShouldMatch(model.Encode(rows).SelectMany(r => r).ToArray(), codes);
        ShouldMatch(model.Encode(data).SelectMany(r => r).ToArray(), codes);
        ShouldMatch(model.Encode(rows[7].AsSpan()), codes.AsSpan(7 * model.LatentSize, model.LatentSize).ToArray());

        ShouldMatch(model.Reconstruct(flat, rows.Length), reconstructions);
        ShouldMatch(model.Reconstruct(rows).SelectMany(r => r).ToArray(), reconstructions);
        ShouldMatch(model.Reconstruct(data).SelectMany(r => r).ToArray(), reconstructions);
        ShouldMatch(model.Reconstruct(rows[299]), reconstructions.AsSpan(299 * 784, 784).ToArray());

        var codeRows = Enumerable.Range(0, rows.Length).Select(i => codes.AsSpan(i * model.LatentSize, model.LatentSize).ToArray()).ToArray();
        ShouldMatch(model.Decode(codeRows).SelectMany(r => r).ToArray(), decoded);
        ShouldMatch(model.Decode(codeRows[3]), decoded.AsSpan(3 * 784, 784).ToArray());
    }

    [Fact]
    public void Array_inference_on_a_custom_convolutional_model_equals_the_tensor_methods()
    {
        var (data, pixels) = CustomNetworkTests.Images(40);
        using var model = Autoencoders.Custom(CustomNetworkTests.Encoder(6), CustomNetworkTests.Decoder(), [3, 8, 8], 6);
        using var images = tensor(pixels, [40, 3, 8, 8]);
        using var codes = model.Encode(images);
        using var reconstructions = model.Reconstruct(images);
        ShouldMatch(model.Encode(pixels, 40), SmallModels.Values(codes));
        ShouldMatch(model.Encode(data).SelectMany(r => r).ToArray(), SmallModels.Values(codes));
        ShouldMatch(model.Reconstruct(pixels, 40), SmallModels.Values(reconstructions));
    }

    [Fact]
    public void Array_predictions_equal_the_tensor_predictions_and_probabilities()
    {
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        var (data, flat, rows) = Samples();
        using var classifier = LatentClassifier.For(model).WithHiddenLayers(16).WithSeed(2).Build();
        classifier.Train(data, new TrainingOptions { Epochs = 2, BatchSize = 50 }, new TrainingRun { Threads = 1 });
        using var images = tensor(flat, [rows.Length, 784]);
        var classes = classifier.Predict(images);
        using var probabilitiesTensor = classifier.PredictProbabilities(images);
        var probabilities = SmallModels.Values(probabilitiesTensor);

        foreach (var predictions in new[] { classifier.Predict(rows), classifier.Predict(flat, rows.Length), classifier.Predict(data) })
        {
            predictions.Select(p => p.Class).Should().Equal(classes);
            predictions.Select(p => p.ClassName).Should().Equal(classes.Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            ShouldMatch(predictions.SelectMany(p => p.Probabilities).ToArray(), probabilities);
        }

        var one = classifier.Predict(rows[11].AsSpan());
        one.Class.Should().Be(classes[11]);
        one.Probabilities.Should().HaveCount(10);
        one.Probabilities.Sum().Should().BeApproximately(1f, 1e-5f);
    }

    [Fact]
    public void Array_predictions_of_a_classifier_with_other_class_names_and_count_carry_its_names_and_one_probability_per_class()
    {
        var data = SyntheticShapes.Grey(48);
        using var model = Autoencoders.Dense().ForData(data).WithHiddenLayers(16).WithLatentSize(4).WithSeed(1).Build();
        using var classifier = LatentClassifier.For(model).ForData(data).WithHiddenLayers(8).WithSeed(2).Build();
        classifier.Train(data, new TrainingOptions { Epochs = 1, BatchSize = 16 }, new TrainingRun { Threads = 1 });
        using var batch = data.GetBatches(data.Count).First();
        var flat = SmallModels.Values(batch.Samples);
        var classes = classifier.Predict(batch.Samples);

        foreach (var predictions in new[] { classifier.Predict(flat, data.Count), classifier.Predict(data) })
        {
            predictions.Select(p => p.Class).Should().Equal(classes);
            predictions.Select(p => p.ClassName).Should().Equal(classes.Select(c => data.ClassNames[c]));
            predictions.Should().OnlyContain(p => p.Probabilities.Length == 3);
        }

        var one = classifier.Predict(flat.AsSpan(0, data.SampleSize));
        one.ClassName.Should().Be(data.ClassNames[classes[0]]);
        one.Probabilities.Should().HaveCount(3);
    }

    public static TheoryData<string, Action<IAutoencoder>, string, string> InvalidInputs => new()
    {
        { "short sample", m => m.Encode(new float[783].AsSpan()), "sample", "The model takes samples of 784 values; got 783." },
        { "NaN in one sample", m => m.Reconstruct(Fill(784, 5, float.NaN).AsSpan()), "sample", "Every value must be finite; value 5 is NaN." },
        { "flat length off by one", m => m.Encode(new float[(2 * 784) + 1], 2), "samples", "2 samples of 784 values take 1568 values; got 1569." },
        { "infinity in a flat batch", m => m.Encode(Fill(3 * 784, 784 + 9, float.PositiveInfinity), 3), "samples", "Every value must be finite; sample 1, value 9 is Infinity." },
        { "null sample in a list", m => m.Encode([new float[784], null!]), "samples", "Sample 1 is null." },
        { "ragged list", m => m.Reconstruct([new float[784], new float[784], new float[10]]), "samples", "Sample 2 has 10 values; the model takes 784." },
        { "NaN in a list", m => m.Encode([new float[784], Fill(784, 700, float.NaN)]), "samples", "Every value must be finite; sample 1, value 700 is NaN." },
        { "wrong code width", m => m.Decode(new float[17].AsSpan()), "code", "The model takes samples of 16 values; got 17." },
        { "infinite code", m => m.Decode([Fill(16, 0, float.NegativeInfinity)]), "codes", "Every value must be finite; sample 0, value 0 is -Infinity." },
        { "dataset of another shape", m => m.Encode(Dataset.FromFeatures(new float[30], 10)), "dataset", "has samples of shape [10]" },
        { "a byte pixel value", m => m.Encode(Fill(784, 12, 255f).AsSpan()), "sample", "This model reads values in [0, 1] (it was built for data in [0, 1]: sigmoid output, binary cross-entropy); value 12 is 255: scale byte pixels by 1/255." },
        { "a negative value in a batch", m => m.Reconstruct(Fill(2 * 784, 784 + 3, -0.5f), 2), "samples", "sample 1, value 3 is -0.5: scale byte pixels" },
        { "above one in a list", m => m.Encode([Fill(784, 1, 1.01f)]), "samples", "sample 0, value 1 is 1.01" },
        { "a NaN image tensor", m => m.Encode(full(2, 784, float.NaN)), "images", "Every value of images must be finite; it holds NaN." },
        { "an infinite image tensor", m => m.Reconstruct(full(1, 784, float.PositiveInfinity)), "images", "Every value of images must be finite; it holds values from Infinity to Infinity." },
        { "a 0..255 image tensor", m => m.Encode(full(1, 784, 255f)), "images", "images holds values from 255 to 255, but this model reads values in [0, 1]" },
        { "NaN codes", m => m.Decode(full(1, 16, float.NaN)), "codes", "Every value of codes must be finite; it holds NaN." },
    };

    private static float[] Fill(int length, int index, float value)
    {
        var values = new float[length];
        values[index] = value;
        return values;
    }

    [Theory]
    [MemberData(nameof(InvalidInputs))]
    public void Invalid_array_input_is_refused_naming_the_parameter_and_the_sample(string what, Action<IAutoencoder> call, string parameter, string message)
    {
        _ = what;
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        var error = FluentActions.Invoking(() => call(model)).Should().Throw<ArgumentException>().Which;
        error.ParamName.Should().Be(parameter);
        error.Message.Should().Contain(message);
    }

    [Fact]
    public void A_model_for_unbounded_data_takes_values_outside_zero_to_one_and_a_classifier_refuses_them_on_a_bce_encoder()
    {
        // The [0, 1] rule is that of models built for data in [0, 1]; a model for unbounded data (identity output,
        // MSE) takes any finite value, and a classifier applies its encoder's rule.
        using var unbounded = Autoencoders.Dense().WithInputShape(784).WithHiddenLayers(8).WithLatentSize(4)
            .WithOutputActivation(OutputActivation.Identity).WithLoss(ReconstructionLoss.MeanSquaredError).WithSeed(1).Build();
        unbounded.Encode(Fill(784, 12, 255f).AsSpan()).Should().HaveCount(4).And.OnlyContain(v => float.IsFinite(v));
        using (var codes = unbounded.Encode(full(1, 784, 255f)))
        {
            codes.shape.Should().Equal(1L, 4L);
        }

        using var model = SmallModels.Build(AutoencoderKind.Dense);
        using var classifier = LatentClassifier.For(model).Build();
        FluentActions.Invoking(() => classifier.Predict(Fill(784, 7, 2f).AsSpan())).Should().Throw<ArgumentException>()
            .Which.Message.Should().Contain("value 7 is 2: scale byte pixels by 1/255");
        FluentActions.Invoking(() => classifier.PredictProbabilities(full(1, 784, float.NaN))).Should().Throw<ArgumentException>()
            .Which.Message.Should().Contain("must be finite");
    }

    [Fact]
    public void Invalid_classifier_array_input_is_refused_and_a_negative_count_too()
    {
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        using var classifier = LatentClassifier.For(model).Build();
        FluentActions.Invoking(() => classifier.Predict(new float[100].AsSpan())).Should().Throw<ArgumentException>()
            .Which.Message.Should().Contain("The model takes samples of 784 values; got 100.");
        FluentActions.Invoking(() => classifier.Predict([Fill(784, 3, float.NaN)])).Should().Throw<ArgumentException>()
            .Which.Message.Should().Contain("sample 0, value 3 is NaN");
        FluentActions.Invoking(() => model.Encode(ReadOnlySpan<float>.Empty, -1)).Should().Throw<ArgumentOutOfRangeException>();
        model.Encode(ReadOnlySpan<float>.Empty, 0).Should().BeEmpty();
        model.Encode(Array.Empty<float[]>()).Should().BeEmpty();
    }
}
