namespace LatentKit.ResumeProbe;

/// <summary>
/// The runs of the checkpoint-resume equality test, shared by the test (the uninterrupted run and the first half) and
/// this probe (the second half in a new process): the same model, data, options and callbacks on both sides.
/// </summary>
public static class ResumeScenarios
{
    /// <summary>The scenarios: a dense autoencoder (Adam, cosine schedule), a VAE (noise generator; RMSProp with momentum, step schedule), a classifier with dropout (SGD with momentum, validation, early stopping restoring best weights, plateau reduction) and a custom VAE of user-written modules (AdamW).</summary>
    public static readonly string[] Names = ["dense", "vae", "classifier", "custom vae"];

    /// <summary>Epochs of the whole run.</summary>
    public const int Epochs = 10;

    /// <summary>64 seeded 1 x 8 x 8 byte images in 3 classes.</summary>
    public static Dataset Data()
    {
        var random = new Random(11);
        const int count = 64, size = 64;
        var pixels = new byte[count * size];
        var labels = new int[count];
        for (var i = 0; i < count; i++)
        {
            labels[i] = i % 3;
            for (var j = 0; j < size; j++)
            {
                var ink = (j / 8) % 3 == labels[i] || (j % 8) / 3 == labels[i];
                pixels[(i * size) + j] = (byte)(ink ? 200 + random.Next(55) : random.Next(60));
            }
        }

        return Dataset.FromImages(pixels, 1, 8, 8, labels, 3, null, "resume probe data");
    }

    /// <summary>The model of <paramref name="scenario"/>, built with fixed seeds (the classifier's autoencoder is trained one epoch first).</summary>
    public static object Build(string scenario, Dataset data) => scenario switch
    {
        "dense" => Autoencoders.Dense().WithInputShape(1, 8, 8).WithHiddenLayers(24).WithLatentSize(6).WithSeed(3).Build(),
        "vae" => Autoencoders.Variational().WithInputShape(1, 8, 8).WithHiddenLayers(24).WithLatentSize(4).WithSeed(4).Build(),
        "classifier" => Classifier(data),
        "custom vae" => CustomVae(),
        _ => throw new ArgumentException($"Unknown scenario '{scenario}'; use one of: {string.Join(", ", Names)}.", nameof(scenario)),
    };

    /// <summary>The options of <paramref name="scenario"/>.</summary>
    public static TrainingOptions Options(string scenario) => scenario switch
    {
        "dense" => new TrainingOptions { Epochs = Epochs, BatchSize = 16, LearningRate = 0.01, Seed = 7, LearningRateSchedule = LearningRateSchedule.Cosine },
        "vae" => new TrainingOptions { Epochs = Epochs, BatchSize = 16, LearningRate = 0.005, Seed = 8, Optimizer = OptimizerKind.RmsProp, Momentum = 0.5, LearningRateSchedule = LearningRateSchedule.Step, LearningRateStepEpochs = 3, LearningRateStepFactor = 0.5 },
        "custom vae" => new TrainingOptions { Epochs = Epochs, BatchSize = 16, LearningRate = 0.01, Seed = 10, Optimizer = OptimizerKind.AdamW, WeightDecay = 0.01 },
        _ => new TrainingOptions { Epochs = Epochs, BatchSize = 10, LearningRate = 0.05, Seed = 9, Optimizer = OptimizerKind.Sgd, Momentum = 0.9, ValidationFraction = 0.25 },
    };

    /// <summary>The callbacks of <paramref name="scenario"/> (fresh objects each time).</summary>
    public static List<ITrainingCallback> Callbacks(string scenario) => scenario == "classifier"
        ? [new EarlyStopping(Metric.ValidationLoss, patience: 50, restoreBestWeights: true), new ReduceLearningRateOnPlateau(Metric.Loss, factor: 0.5, patience: 1)]
        : [];

    /// <summary>Trains <paramref name="model"/>.</summary>
    public static TrainingHistory Train(object model, Dataset data, TrainingOptions options, TrainingRun run) => model switch
    {
        IAutoencoder autoencoder => autoencoder.Train(data, options, run),
        LatentClassifier classifier => classifier.Train(data, options, run),
        _ => throw new ArgumentException("Not a model.", nameof(model)),
    };

    /// <summary>Saves <paramref name="model"/> as a model file.</summary>
    public static void Save(object model, string path)
    {
        switch (model)
        {
            case IAutoencoder autoencoder:
                autoencoder.Save(path);
                break;
            case LatentClassifier classifier:
                classifier.Save(path);
                break;
        }
    }

    /// <summary>The user's modules for the custom VAE, with seeded initial weights (LatentKit does not initialise them).</summary>
    public static (TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> Encoder, TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> Decoder) CustomModules()
    {
        TorchSharp.torch.manual_seed(12);
        var encoder = TorchSharp.torch.nn.Sequential(TorchSharp.torch.nn.Flatten(), TorchSharp.torch.nn.Linear(64, 24), TorchSharp.torch.nn.ReLU(), TorchSharp.torch.nn.Dropout(0.3), TorchSharp.torch.nn.Linear(24, 8));
        var decoder = TorchSharp.torch.nn.Sequential(TorchSharp.torch.nn.Linear(4, 24), TorchSharp.torch.nn.ReLU(), TorchSharp.torch.nn.Linear(24, 64), TorchSharp.torch.nn.Unflatten(1, [1, 8, 8]));
        return (encoder, decoder);
    }

    private static CustomVariationalAutoencoder CustomVae()
    {
        var (encoder, decoder) = CustomModules();
        return Autoencoders.CustomVariational(encoder, decoder, [1, 8, 8], latentSize: 4);
    }

    private static LatentClassifier Classifier(Dataset data)
    {
        var autoencoder = Autoencoders.Dense().WithInputShape(1, 8, 8).WithHiddenLayers(24).WithLatentSize(6).WithSeed(5).Build();
        autoencoder.Train(data, new TrainingOptions { Epochs = 1, BatchSize = 16, Seed = 1 }, new TrainingRun { Threads = 1 });
        return new LatentClassifierBuilder(autoencoder).ForData(data).WithHiddenLayers(16).WithDropout(0.3).WithSeed(6).Build();
    }
}
