using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using LatentKit.Tests.Support;
using static TorchSharp.torch;

namespace LatentKit.Tests.Persistence;

public sealed class ModelFileTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("latentkit-tests-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>Training defaults that differ from <see cref="TrainingOptions"/>' defaults in every stored setting.</summary>
    private static readonly TrainingOptions NonDefaultTraining = new()
    {
        Epochs = 7,
        BatchSize = 33,
        LearningRate = 0.004,
        Optimizer = OptimizerKind.RmsProp,
        Momentum = 0.5,
        WeightDecay = 1e-4,
        LearningRateSchedule = LearningRateSchedule.Step,
        LearningRateStepEpochs = 3,
        LearningRateStepFactor = 0.5,
        Seed = 9,
        ValidationFraction = 0.2,
    };

    public static TheoryData<AutoencoderKind, Type> Kinds => new()
    {
        { AutoencoderKind.Dense, typeof(DenseAutoencoder) },
        { AutoencoderKind.Convolutional, typeof(ConvolutionalAutoencoder) },
        { AutoencoderKind.Variational, typeof(VariationalAutoencoder) },
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void An_autoencoder_round_trips_to_the_same_concrete_type_settings_and_outputs(AutoencoderKind kind, Type type)
    {
        var data = Synthetic.Digits(64);
        using var model = NonDefault(kind);
        model.Train(data, new TrainingOptions { Epochs = 1, BatchSize = 32 }, new TrainingRun { Threads = 1 });
        var path = Path.Combine(folder, "nested", "model.lkm");
        model.Save(path);

        using var loaded = (AutoencoderBase)AutoencoderFile.Load(path);
        loaded.Should().BeOfType(type);
        loaded.LatentSize.Should().Be(model.LatentSize);
        loaded.InputShape.Should().Equal(model.InputShape);
        loaded.Layers.Should().Equal(model.Layers);
        loaded.Activation.Should().Be(model.Activation).And.NotBe(Activation.ReLU);
        loaded.LatentActivation.Should().Be(model.LatentActivation);
        loaded.OutputActivation.Should().Be(model.OutputActivation);
        loaded.Loss.Should().Be(model.Loss);
        loaded.DenoisingNoiseStd.Should().Be(0.2);
        loaded.DenoisingMaskFraction.Should().Be(0.1);
        loaded.DefaultTraining.Should().Be(NonDefaultTraining).And.NotBe(new TrainingOptions());
        using var scope = NewDisposeScope();
        var images = data.ImagesToTensor(0, 10);
        SmallModels.Values(loaded.Encode(images)).Should().Equal(SmallModels.Values(model.Encode(images)));
        SmallModels.Values(loaded.Reconstruct(images)).Should().Equal(SmallModels.Values(model.Reconstruct(images)));
        if (loaded is IVariationalAutoencoder vae)
        {
            SmallModels.Values(vae.Sample(3, 1)).Should().Equal(SmallModels.Values(((IVariationalAutoencoder)model).Sample(3, 1)));
            vae.KlWeight.Should().Be(0.25);
        }

        Directory.GetFiles(Path.GetDirectoryName(path)!).Should().Equal([path], "the temporary file was renamed");
    }

    [Fact]
    public void The_manifest_holds_kind_architecture_options_and_version()
    {
        using var model = Autoencoders.Convolutional().WithChannels(4, 8).WithActivation(Activation.ELU).WithLearningRate(0.005).Build();
        var path = Path.Combine(folder, "conv.lkm");
        model.Save(path);

        using var zip = ZipFile.OpenRead(path);
        zip.Entries.Select(e => e.FullName).Should().BeEquivalentTo("manifest.json", "autoencoder.weights");
        using var stream = zip.GetEntry("manifest.json")!.Open();
        var manifest = JsonNode.Parse(stream)!;
        manifest["format"]!.GetValue<string>().Should().Be("LatentKit model");
        manifest["formatVersion"]!.GetValue<int>().Should().Be(2);
        manifest["kind"]!.GetValue<string>().Should().Be("ConvolutionalAutoencoder");
        manifest["latentKitVersion"]!.GetValue<string>().Should().Be(LatentKitInfo.Version);
        manifest["autoencoder"]!["layers"]!.AsArray().Select(n => n!.GetValue<int>()).Should().Equal(4, 8);
        manifest["autoencoder"]!["activation"]!.GetValue<string>().Should().Be("ELU");
        manifest["autoencoderTraining"]!["learningRate"]!.GetValue<double>().Should().Be(0.005);
    }

    [Fact]
    public void Saving_over_an_existing_file_replaces_it()
    {
        var path = Path.Combine(folder, "model.lkm");
        using (var first = SmallModels.Build(AutoencoderKind.Dense, seed: 1))
        {
            first.Save(path);
        }

        using var second = SmallModels.Build(AutoencoderKind.Variational, seed: 2);
        second.Save(path);
        using var loaded = AutoencoderFile.Load(path);
        loaded.Should().BeOfType<VariationalAutoencoder>();
        Directory.GetFiles(folder).Should().HaveCount(1);
    }

    [Theory]
    [InlineData(AutoencoderKind.Dense, ClassifierHead.Logits)]
    [InlineData(AutoencoderKind.Convolutional, ClassifierHead.SigmoidCrossEntropy)]
    [InlineData(AutoencoderKind.Variational, ClassifierHead.SigmoidCrossEntropy)]
    public void A_classifier_round_trips_with_its_autoencoder(AutoencoderKind kind, ClassifierHead head)
    {
        var data = Synthetic.Digits(100);
        using var autoencoder = SmallModels.Build(kind);
        using var classifier = LatentClassifier.For(autoencoder).WithHead(head).WithHiddenLayers(32).WithActivation(Activation.SiLU).WithDropout(0.25).WithBatchNorm().WithTrainingDefaults(NonDefaultTraining).WithSeed(4).Build();
        classifier.Train(data, new TrainingOptions { Epochs = 2, BatchSize = 25 }, new TrainingRun { Threads = 1 });
        var path = Path.Combine(folder, "classifier.lkm");
        classifier.Save(path);

        using var loaded = LatentClassifier.Load(path);
        loaded.HeadKind.Should().Be(head);
        loaded.HiddenLayers.Should().Equal(32);
        loaded.Activation.Should().Be(Activation.SiLU);
        loaded.Dropout.Should().Be(0.25);
        loaded.BatchNorm.Should().BeTrue();
        loaded.DefaultTraining.Should().Be(NonDefaultTraining);
        loaded.Autoencoder.GetType().Should().Be(autoencoder.GetType());
        using var scope = NewDisposeScope();
        var images = data.ImagesToTensor(0, 20);
        SmallModels.Values(loaded.PredictProbabilities(images)).Should().Equal(SmallModels.Values(classifier.PredictProbabilities(images)));
        loaded.Predict(images).Should().Equal(classifier.Predict(images));
        SmallModels.Values(loaded.Autoencoder.Encode(images)).Should().Equal(SmallModels.Values(autoencoder.Encode(images)));
    }

    [Fact]
    public void A_missing_file_is_reported_as_missing()
    {
        var path = Path.Combine(folder, "nothing.lkm");
        Expect(() => AutoencoderFile.Load(path), ModelFileError.Missing, "does not exist");
        Expect(() => LatentClassifier.Load(path), ModelFileError.Missing, "does not exist");
    }

    [Fact]
    public void A_file_of_another_kind_is_not_a_model_file()
    {
        var text = Path.Combine(folder, "notes.txt");
        File.WriteAllText(text, "hello, I am not a model");
        Expect(() => AutoencoderFile.Load(text), ModelFileError.NotAModelFile, "not a LatentKit model file");

        var otherZip = Path.Combine(folder, "other.zip");
        using (var zip = ZipFile.Open(otherZip, ZipArchiveMode.Create))
        {
            using var writer = new StreamWriter(zip.CreateEntry("readme.txt").Open());
            writer.Write("just a zip");
        }

        Expect(() => AutoencoderFile.Load(otherZip), ModelFileError.NotAModelFile, "no manifest.json");

        var foreignManifest = Path.Combine(folder, "foreign.zip");
        using (var zip = ZipFile.Open(foreignManifest, ZipArchiveMode.Create))
        {
            using var writer = new StreamWriter(zip.CreateEntry("manifest.json").Open());
            writer.Write("{\"name\": \"some other tool\"}");
        }

        Expect(() => AutoencoderFile.Load(foreignManifest), ModelFileError.NotAModelFile, "not a 'LatentKit model' manifest");
    }

    [Fact]
    public void A_classifier_file_opened_as_an_autoencoder_and_the_reverse_are_the_wrong_kind()
    {
        using var autoencoder = SmallModels.Build(AutoencoderKind.Dense);
        using var classifier = LatentClassifier.For(autoencoder).Build();
        var classifierPath = Path.Combine(folder, "c.lkm");
        var autoencoderPath = Path.Combine(folder, "a.lkm");
        classifier.Save(classifierPath);
        autoencoder.Save(autoencoderPath);

        Expect(() => AutoencoderFile.Load(classifierPath), ModelFileError.WrongKind, "LatentClassifier.Load");
        Expect(() => LatentClassifier.Load(autoencoderPath), ModelFileError.WrongKind, "AutoencoderFile.Load");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(0.98)]
    public void A_truncated_file_is_damaged(double keep)
    {
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        var path = Path.Combine(folder, "model.lkm");
        model.Save(path);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(int)(bytes.Length * keep)]);

        Expect(() => AutoencoderFile.Load(path), ModelFileError.Damaged, keep == 0 ? "empty" : "truncated or damaged");
    }

    [Fact]
    public void Corrupted_weights_are_damaged()
    {
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        var path = Path.Combine(folder, "model.lkm");
        model.Save(path);
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(path, bytes);

        Expect(() => AutoencoderFile.Load(path), ModelFileError.Damaged, "truncated or damaged");
    }

    [Fact]
    public void Weights_that_do_not_match_the_manifest_architecture_are_a_mismatch()
    {
        using var small = Autoencoders.Dense().WithHiddenLayers(64, 32).WithLatentSize(16).Build();
        using var other = Autoencoders.Dense().WithHiddenLayers(64, 32).WithLatentSize(12).Build();
        var smallPath = Path.Combine(folder, "small.lkm");
        var otherPath = Path.Combine(folder, "other.lkm");
        small.Save(smallPath);
        other.Save(otherPath);

        // The manifest of the latent-16 model with the weights of the latent-12 one, checksums made consistent.
        var forged = Path.Combine(folder, "forged.lkm");
        byte[] otherWeights;
        using (var zip = ZipFile.OpenRead(otherPath))
        using (var stream = zip.GetEntry("autoencoder.weights")!.Open())
        using (var memory = new MemoryStream())
        {
            stream.CopyTo(memory);
            otherWeights = memory.ToArray();
        }

        JsonNode manifest;
        using (var zip = ZipFile.OpenRead(smallPath))
        using (var stream = zip.GetEntry("manifest.json")!.Open())
        {
            manifest = JsonNode.Parse(stream)!;
        }

        manifest["weights"]![0]!["bytes"] = otherWeights.Length;
        manifest["weights"]![0]!["sha256"] = Convert.ToHexString(SHA256.HashData(otherWeights));
        using (var zip = ZipFile.Open(forged, ZipArchiveMode.Create))
        {
            using (var writer = new StreamWriter(zip.CreateEntry("manifest.json").Open()))
            {
                writer.Write(manifest.ToJsonString());
            }

            using var weights = zip.CreateEntry("autoencoder.weights").Open();
            weights.Write(otherWeights);
        }

        Expect(() => AutoencoderFile.Load(forged), ModelFileError.WeightsMismatch, "do not match the architecture");
    }

    private static AutoencoderBase NonDefault(AutoencoderKind kind) => kind switch
    {
        AutoencoderKind.Dense => Autoencoders.Dense().WithHiddenLayers(64, 32).WithLatentSize(16).WithActivation(Activation.Tanh).WithLatentActivation(Activation.Sigmoid)
            .WithDenoising(0.2, 0.1).WithTrainingDefaults(NonDefaultTraining).WithSeed(1).Build(),
        AutoencoderKind.Convolutional => Autoencoders.Convolutional().WithChannels(4, 8).WithLatentSize(98).WithActivation(Activation.ELU).WithOutputActivation(OutputActivation.Identity)
            .WithLoss(ReconstructionLoss.MeanSquaredError).WithDenoising(0.2, 0.1).WithTrainingDefaults(NonDefaultTraining).WithSeed(1).Build(),
        _ => Autoencoders.Variational().WithHiddenLayers(64, 32).WithLatentSize(8).WithActivation(Activation.LeakyReLU).WithKlWeight(0.25)
            .WithDenoising(0.2, 0.1).WithTrainingDefaults(NonDefaultTraining).WithSeed(1).Build(),
    };

    private static void Expect(Action load, ModelFileError error, string messagePart)
    {
        var exception = load.Should().Throw<ModelFileException>().Which;
        exception.Error.Should().Be(error);
        exception.Message.Should().Contain(messagePart).And.Contain(exception.Path);
    }

    [Fact]
    public void A_folder_given_as_the_file_is_named_as_a_folder()
    {
        Expect(() => AutoencoderFile.Load(folder), ModelFileError.Missing, "is a folder, not a file");
        Expect(() => LatentClassifier.Load(folder), ModelFileError.Missing, "is a folder, not a file");
        Expect(() => AnomalyDetector.Load(folder), ModelFileError.Missing, "is a folder, not a file");
    }

    [Fact]
    public void Saving_to_an_existing_folder_is_refused_before_anything_is_written()
    {
        var target = Directory.CreateDirectory(Path.Combine(folder, "existing")).FullName;
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        using var classifier = LatentClassifier.For(model).WithClasses(2).Build();
        foreach (var save in new Action[] { () => model.Save(target), () => classifier.Save(target) })
        {
            var exception = save.Should().Throw<ArgumentException>().Which;
            exception.ParamName.Should().Be("path");
            exception.Message.Should().Contain($"'{target}' is a folder");
        }

        Directory.GetFileSystemEntries(folder).Should().Equal(target);
        Directory.GetFileSystemEntries(target).Should().BeEmpty();
    }

    [Fact]
    public void Saving_to_a_path_ending_in_a_separator_is_refused_without_creating_the_folder()
    {
        var target = Path.Combine(folder, "newdir") + Path.DirectorySeparatorChar;
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        var exception = model.Invoking(m => m.Save(target)).Should().Throw<ArgumentException>().Which;
        exception.ParamName.Should().Be("path");
        exception.Message.Should().Contain($"'{target}'").And.Contain("ends in a separator");
        Directory.Exists(Path.Combine(folder, "newdir")).Should().BeFalse();
    }

    [Fact]
    public void A_write_failure_names_the_target_not_the_temporary_file()
    {
        var parentIsAFile = Path.Combine(folder, "plain.txt");
        File.WriteAllText(parentIsAFile, "x");
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        var targets = new List<string> { Path.Combine(parentIsAFile, "model.lkm") };
        if (OperatingSystem.IsLinux())
        {
            targets.Add("/proc/version");
        }

        foreach (var target in targets)
        {
            var exception = model.Invoking(m => m.Save(target)).Should().Throw<IOException>().Which;
            exception.Message.Should().Contain($"'{target}'").And.NotContain(".tmp");
        }

        Directory.GetFileSystemEntries(folder).Should().Equal(parentIsAFile);
    }
}
