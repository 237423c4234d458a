using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace LatentKit.Onnx.Tests.Support;

/// <summary>Runs exported files with ONNX Runtime and compares with TorchSharp.</summary>
internal static class Ort
{
    public static InferenceSession Open(string path) =>
        new(path, new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 });

    /// <summary>Runs the file on one float input and returns every output by name (float outputs as float[], int64 as long[], float64 as double[], bool as bool[]) with its shape.</summary>
    public static Dictionary<string, (Array Values, int[] Shape)> Run(string path, string inputName, Tensor input)
    {
        using var session = Open(path);
        var data = Values(input);
        var dims = input.shape.Select(d => (int)d).ToArray();
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(inputName, new DenseTensor<float>(data, dims))]);
        var outputs = new Dictionary<string, (Array, int[])>();
        foreach (var result in results)
        {
            if (result.ElementType == TensorElementType.Int64)
            {
                var t = result.AsTensor<long>();
                outputs[result.Name] = (t.ToArray(), t.Dimensions.ToArray());
            }
            else if (result.ElementType == TensorElementType.Double)
            {
                var t = result.AsTensor<double>();
                outputs[result.Name] = (t.ToArray(), t.Dimensions.ToArray());
            }
            else if (result.ElementType == TensorElementType.Bool)
            {
                var t = result.AsTensor<bool>();
                outputs[result.Name] = (t.ToArray(), t.Dimensions.ToArray());
            }
            else
            {
                var t = result.AsTensor<float>();
                outputs[result.Name] = (t.ToArray(), t.Dimensions.ToArray());
            }
        }

        return outputs;
    }

    public static float[] Values(Tensor tensor) => tensor.detach().cpu().to(ScalarType.Float32).contiguous().data<float>().ToArray();

    /// <summary>Asserts ONNX Runtime's output equals TorchSharp's elementwise within <paramref name="tolerance"/>, with the same shape.</summary>
    public static void ShouldMatch(this (Array Values, int[] Shape) onnx, Tensor torch, string what, double tolerance = 1e-5)
    {
        onnx.Shape.Select(d => (long)d).Should().Equal(torch.shape, $"{what}: ONNX Runtime's output shape must be TorchSharp's");
        var expected = Values(torch);
        var actual = (float[])onnx.Values;
        var worst = 0.0;
        for (var i = 0; i < expected.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        }

        worst.Should().BeLessThanOrEqualTo(tolerance, $"{what}: the largest difference between ONNX Runtime and TorchSharp");
        float.IsFinite(actual.Sum()).Should().BeTrue();
    }
}
