using static TorchSharp.torch;
using DataType = Onnx.TensorProto.Types.DataType;
using G = LatentKit.Onnx.Internal.GraphBuilder;

namespace LatentKit.Onnx.Internal;

/// <summary>
/// The anomaly scores of an <see cref="AnomalyDetector"/> as graph nodes, mirroring its scoring (the one place that does):
/// the reconstruction error summed per sample, the negative ELBO, the Mahalanobis distance of the code and the
/// standardised combination. Float32 where the detector computes in float32 (per-value errors, the KL term), float64
/// where it computes in double (sums, the distance, the combination), so the scores agree to rounding.
/// </summary>
internal static class DetectorGraph
{
    private const long ToDouble = (long)DataType.Double;

    /// <summary>The nodes giving the detector's score (float64 <c>[batch]</c>) from the samples, the codes (mean) and the reconstructions.</summary>
    public static string Score(G graph, AnomalyDetector detector, GraphValue samples, GraphValue codes, GraphValue pixels, GraphValue? logVariance)
    {
        var kind = detector.ScoreKind;
        var needed = kind == AnomalyScoreKind.Combined ? detector.Options.CombinedScores : [kind];
        var parts = new Dictionary<AnomalyScoreKind, string>();
        foreach (var part in needed.Distinct())
        {
            parts[part] = part switch
            {
                AnomalyScoreKind.Reconstruction => Reconstruction(graph, samples, pixels, detector.Options.ReconstructionError),
                AnomalyScoreKind.NegativeElbo => NegativeElbo(graph, samples, codes, pixels, logVariance),
                _ => Latent(graph, detector.LatentModel, codes),
            };
        }

        if (kind != AnomalyScoreKind.Combined)
        {
            return parts[kind];
        }

        // Σ_k (score_k - mean_k) / sd_k, in the order of CombinedScores, as ScoreStandardizer.Combine.
        string? sum = null;
        for (var k = 0; k < needed.Count; k++)
        {
            var centred = graph.Node("Sub", [parts[needed[k]], graph.AddDoubleConstant($"combined.mean{k}", [detector.Standardizer.Means[k]], [])], $"combined.centre{k}", $"combined.centred{k}");
            var standardised = graph.Node("Div", [centred, graph.AddDoubleConstant($"combined.sd{k}", [detector.Standardizer.StandardDeviations[k]], [])], $"combined.standardise{k}", $"combined.standardised{k}");
            sum = sum is null ? standardised : graph.Node("Add", [sum, standardised], $"combined.add{k}", "combined.sum");
        }

        return sum!;
    }

    /// <summary>The flag: score strictly above the threshold (bool <c>[batch]</c>).</summary>
    public static string Flag(G graph, string score, double threshold) =>
        graph.Node("Greater", [score, graph.AddDoubleConstant("threshold", [threshold], [])], "is_anomaly", "is_anomaly");

    /// <summary>The per-value errors (float32, as <c>AnomalyDetector.PixelErrors</c>) summed per sample in float64.</summary>
    private static string Reconstruction(G graph, GraphValue samples, GraphValue pixels, ReconstructionLoss error)
    {
        var x = Rows(graph, samples, "reconstruction.input");
        var r = Rows(graph, pixels, "reconstruction.output");
        string errors;
        if (error == ReconstructionLoss.MeanSquaredError)
        {
            var difference = graph.Node("Sub", [x, r], "mse.sub", "mse.difference");
            errors = graph.Node("Mul", [difference, difference], "mse.square", "mse.squared");
        }
        else
        {
            errors = CrossEntropy(graph, x, r);
        }

        return SumRows(graph, errors, "reconstruction");
    }

    /// <summary>Summed binary cross-entropy of the reconstruction from the mean plus the KL divergence from the prior.</summary>
    private static string NegativeElbo(G graph, GraphValue samples, GraphValue mean, GraphValue pixels, GraphValue? logVariance)
    {
        if (logVariance is null)
        {
            throw new ArgumentException("The negative ELBO needs a variational autoencoder.", nameof(logVariance));
        }

        var bce = SumRows(graph, CrossEntropy(graph, Rows(graph, samples, "elbo.input"), Rows(graph, pixels, "elbo.output")), "elbo.bce");

        // -0.5 Σ (1 + log σ² - μ² - σ²), in float32 as the detector, then float64.
        var one = graph.AddFloatConstant("kl.one", [1f], []);
        var onePlus = graph.Node("Add", [logVariance.Name, one], "kl.add_one", "kl.one_plus");
        var meanSquared = graph.Node("Mul", [mean.Name, mean.Name], "kl.mean_square", "kl.mean_squared");
        var variance = graph.Node("Exp", [logVariance.Name], "kl.exp", "kl.variance");
        var terms = graph.Node("Sub", [graph.Node("Sub", [onePlus, meanSquared], "kl.sub_mean", "kl.minus_mean"), variance], "kl.sub_variance", "kl.terms");
        var sum = graph.Node("ReduceSum", [terms, graph.AddInt64Constant("kl.axes", [1])], "kl.sum", "kl.sum", G.Int("keepdims", 0));
        var kl = graph.Node("Mul", [sum, graph.AddFloatConstant("kl.minus_half", [-0.5f], [])], "kl.scale", "kl");
        var kl64 = graph.Node("Cast", [kl], "kl.cast", "kl.double", G.Int("to", ToDouble));
        return graph.Node("Add", [bce, kl64], "elbo", "negative_elbo");
    }

    /// <summary>
    /// The Mahalanobis distance in float64: y = (code - mean) · (L⁻¹)ᵀ with L the Cholesky factor of the covariance,
    /// then sqrt(Σ y²), the same quantity the detector gets by forward substitution.
    /// </summary>
    private static string Latent(G graph, GaussianLatentModel latent, GraphValue codes)
    {
        var d = latent.Dimensions;
        var inverse = InverseLowerTransposed(latent.CholeskyFactor, d);
        var codes64 = graph.Node("Cast", [codes.Name], "latent.cast", "latent.codes", G.Int("to", ToDouble));
        var centred = graph.Node("Sub", [codes64, graph.AddDoubleConstant("latent.mean", [.. latent.Mean], [d])], "latent.centre", "latent.centred");
        var whitened = graph.Node("MatMul", [centred, graph.AddDoubleConstant("latent.inverse_cholesky_t", inverse, [d, d])], "latent.whiten", "latent.whitened");
        var squared = graph.Node("Mul", [whitened, whitened], "latent.square", "latent.squared");
        var sum = graph.Node("ReduceSum", [squared, graph.AddInt64Constant("latent.axes", [1])], "latent.sum", "latent.sum", G.Int("keepdims", 0));
        return graph.Node("Sqrt", [sum], "latent.sqrt", "latent_distance");
    }

    /// <summary>(L⁻¹)ᵀ row-major, L lower-triangular row-major: column j of L⁻¹ solves L c = e_j by forward substitution.</summary>
    private static double[] InverseLowerTransposed(IReadOnlyList<double> l, int d)
    {
        var result = new double[d * d];
        for (var j = 0; j < d; j++)
        {
            for (var i = j; i < d; i++)
            {
                var v = i == j ? 1.0 : 0.0;
                for (var k = j; k < i; k++)
                {
                    v -= l[(i * d) + k] * result[(j * d) + k];
                }

                // result[j, i] = (L⁻¹)[i, j]
                result[(j * d) + i] = v / l[(i * d) + i];
            }
        }

        return result;
    }

    /// <summary>-(x log p + (1 - x) log(1 - p)), p clamped to [1e-7, 1 - 1e-7], in float32 (as the detector).</summary>
    private static string CrossEntropy(G graph, string x, string r)
    {
        var p = graph.Node("Clip", [r, graph.AddFloatConstant("bce.low", [1e-7f], []), graph.AddFloatConstant("bce.high", [1 - 1e-7f], [])], "bce.clamp", "bce.p");
        var one = graph.AddFloatConstant("bce.one", [1f], []);
        var logP = graph.Node("Log", [p], "bce.log_p", "bce.log_p");
        var logMissed = graph.Node("Log", [graph.Node("Sub", [one, p], "bce.one_minus_p", "bce.one_minus_p")], "bce.log_one_minus_p", "bce.log_one_minus_p");
        var missed = graph.Node("Mul", [graph.Node("Sub", [one, x], "bce.one_minus_x", "bce.one_minus_x"), logMissed], "bce.missed", "bce.missed");
        var hit = graph.Node("Mul", [x, logP], "bce.hit", "bce.hit");
        return graph.Node("Neg", [graph.Node("Add", [hit, missed], "bce.add", "bce.sum")], "bce", "bce");
    }

    /// <summary>Each sample as one row: <c>[batch, values]</c>.</summary>
    private static string Rows(G graph, GraphValue value, string hint) =>
        value.Shape.Length == 2 ? value.Name : graph.Node("Reshape", [value.Name, graph.AddInt64Constant(hint + ".shape", [0, -1])], hint, hint);

    /// <summary>Float32 per-value terms cast to float64 and summed per sample.</summary>
    private static string SumRows(G graph, string values, string hint)
    {
        var values64 = graph.Node("Cast", [values], hint + ".cast", hint + ".double", G.Int("to", ToDouble));
        return graph.Node("ReduceSum", [values64, graph.AddInt64Constant(hint + ".axes", [1])], hint + ".sum", hint + ".sum", G.Int("keepdims", 0));
    }
}
