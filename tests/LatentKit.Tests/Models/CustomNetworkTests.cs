using LatentKit.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentKit.Tests.Models;

/// <summary>User-written encoder and decoder modules: build checks, training, saving, loading, classifier, device.</summary>
// Not in parallel with the real-MNIST training tests (the longest ones): these classes are heavy too, and the machine has 2 cores.
[Collection(RealMnistFixture.Collection)]
public sealed class CustomNetworkTests : IDisposable
{
    private const int Latent = 6;
    private static readonly int[] Shape = [3, 8, 8];
    private readonly TempDirectory folder = new();

    public void Dispose() => folder.Dispose();

    /// <summary>A small convolutional encoder: 3 x 8 x 8 → conv 4 x 4 x 4 → flatten → linear to <paramref name="outputs"/>.</summary>
    internal static nn.Module<Tensor, Tensor> Encoder(int outputs, int channels = 4, bool flatten = true) => Locked(() => EncoderBody(outputs, channels, flatten));

    /// <summary>A small decoder: code → linear 32 → ReLU → linear 192 → 3 x 8 x 8 logits.</summary>
    internal static nn.Module<Tensor, Tensor> Decoder(int hidden = 32, bool unflatten = true) => Locked(() => DecoderBody(hidden, unflatten));

    private static nn.Module<Tensor, Tensor> EncoderBody(int outputs, int channels, bool flatten)
    {
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>
        {
            ("conv", nn.Conv2d(3, channels, 3, stride: 2, padding: 1)),
            ("relu", nn.ReLU()),
        };
        if (flatten)
        {
            layers.Add(("flatten", nn.Flatten()));
            layers.Add(("code", nn.Linear(channels * 16, outputs)));
        }

        return nn.Sequential(layers.ToArray());
    }

    private static nn.Module<Tensor, Tensor> DecoderBody(int hidden, bool unflatten)
    {
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>
        {
            ("hidden", nn.Linear(Latent, hidden)),
            ("relu", nn.ReLU()),
            ("out", nn.Linear(hidden, 3 * 8 * 8)),
        };
        if (unflatten)
        {
            layers.Add(("unflatten", nn.Unflatten(1, [3, 8, 8])));
        }

        return nn.Sequential(layers.ToArray());
    }

    /// <summary>
    /// Runs <paramref name="build"/> under the lock LatentKit's builders hold while drawing initial weights from
    /// TorchSharp's global generator: tests run in parallel, and a weight drawn here outside the lock could land inside
    /// another test's seeded construction and make it unreproducible.
    /// </summary>
    internal static T Locked<T>(Func<T> build) => NetworkParts.SeededConstruction(null, build);

    /// <summary>40 colour 8 x 8 images in 3 classes: a bright channel per class plus seeded noise, values in [0, 1].</summary>
    internal static (Dataset Data, float[] Pixels) Images(int count = 40, int seed = 3)
    {
        var random = new Random(seed);
        var pixels = new float[count * 192];
        var labels = new int[count];
        for (var i = 0; i < count; i++)
        {
            labels[i] = i % 3;
            for (var j = 0; j < 192; j++)
            {
                pixels[(i * 192) + j] = (j / 64 == labels[i] ? 0.7f : 0.1f) + (0.2f * (float)random.NextDouble());
            }
        }

        return (Dataset.FromImages(pixels, 3, 8, 8, labels, 3), pixels);
    }

    /// <summary>Builds modules from a seeded global generator, under the lock LatentKit's builders take for the same (tests run in parallel).</summary>
    private static T Seeded<T>(int seed, Func<T> build) => NetworkParts.SeededConstruction<T>(seed, build);

    private static readonly TrainingOptions Quick = new() { Epochs = 2, BatchSize = 16, LearningRate = 0.01 };

    private static readonly TrainingRun OneThread = new() { Threads = 1 };

    [Fact]
    public void A_custom_autoencoder_trains_evaluates_saves_and_loads_into_fresh_modules_with_the_same_outputs()
    {
        var (data, pixels) = Images();
        using var model = Seeded(1, () => Autoencoders.Custom(Encoder(Latent), Decoder(), Shape, Latent));
        model.Kind.Should().Be(AutoencoderKind.Custom);
        model.InputShape.Should().Equal(3L, 8L, 8L);
        var before = model.Evaluate(data).BinaryCrossEntropy;
        var history = model.Train(data, Quick, OneThread);
        history.Epochs.Should().HaveCount(2);
        history.Epochs.Should().OnlyContain(e => double.IsFinite(e.TrainingLoss));
        var metrics = model.Evaluate(data);
        metrics.BinaryCrossEntropy.Should().BeLessThan(before);
        var path = folder.Combine("custom.lkm");
        model.Save(path);

        var (freshEncoder, freshDecoder) = Seeded(99, () => (Encoder(Latent), Decoder()));
        using var loaded = AutoencoderFile.LoadCustom(path, freshEncoder, freshDecoder);
        loaded.Should().BeOfType<CustomAutoencoder>();
        loaded.LatentSize.Should().Be(Latent);
        loaded.InputShape.Should().Equal(model.InputShape);
        loaded.DefaultTraining.Should().BeEquivalentTo(model.DefaultTraining);
        using var images = tensor(pixels, [40, 3, 8, 8]);
        using var expected = model.Reconstruct(images);
        using var actual = loaded.Reconstruct(images);
        SmallModels.Values(actual).Should().Equal(SmallModels.Values(expected));
        loaded.Evaluate(data).Should().BeEquivalentTo(metrics);
    }

    [Fact]
    public void A_custom_VAE_splits_the_encoder_output_into_mean_and_log_variance_and_round_trips()
    {
        var (data, pixels) = Images();
        using var model = Seeded(2, () => Autoencoders.CustomVariational(Encoder(2 * Latent), Decoder(), Shape, Latent, klWeight: 0.5));
        model.Train(data, Quick, OneThread).Epochs.Should().OnlyContain(e => double.IsFinite(e.TrainingLoss));
        using var images = tensor(pixels, [40, 3, 8, 8]);
        var (mean, logVariance) = model.EncodeDistribution(images);
        using (mean)
        using (logVariance)
        using (var raw = model.Encoder.forward(images))
        using (var codes = model.Encode(images))
        {
            SmallModels.Values(mean).Should().Equal(SmallModels.Values(raw.narrow(1, 0, Latent)));
            SmallModels.Values(logVariance).Should().Equal(SmallModels.Values(raw.narrow(1, Latent, Latent)));
            SmallModels.Values(codes).Should().Equal(SmallModels.Values(mean));
        }

        var metrics = model.Evaluate(data);
        metrics.KlDivergence.Should().NotBeNull().And.BeGreaterThan(0);
        var path = folder.Combine("vae.lkm");
        model.Save(path);

        using var loaded = (IVariationalAutoencoder)AutoencoderFile.LoadCustom(path, Encoder(2 * Latent), Decoder());
        loaded.Should().BeOfType<CustomVariationalAutoencoder>();
        loaded.KlWeight.Should().Be(0.5);
        loaded.Evaluate(data).Should().BeEquivalentTo(metrics);
        using var a = model.Sample(3, seed: 5);
        using var b = loaded.Sample(3, seed: 5);
        SmallModels.Values(b).Should().Equal(SmallModels.Values(a));
    }

    [Fact]
    public void Loading_a_custom_file_without_modules_says_they_must_be_supplied()
    {
        using var model = Autoencoders.Custom(Encoder(Latent), Decoder(), Shape, Latent);
        var path = folder.Combine("custom.lkm");
        model.Save(path);

        var error = FluentActions.Invoking(() => AutoencoderFile.Load(path)).Should().Throw<ModelFileException>().Which;
        error.Error.Should().Be(ModelFileError.WrongKind);
        error.Message.Should().Contain("custom autoencoder").And.Contain("AutoencoderFile.LoadCustom(path, encoder, decoder)");
    }

    [Fact]
    public void Loading_a_built_in_file_with_modules_says_to_load_it_without()
    {
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        var path = folder.Combine("dense.lkm");
        model.Save(path);

        var error = FluentActions.Invoking(() => AutoencoderFile.LoadCustom(path, Encoder(Latent), Decoder())).Should().Throw<ModelFileException>().Which;
        error.Error.Should().Be(ModelFileError.WrongKind);
        error.Message.Should().Contain("built-in Dense autoencoder").And.Contain("AutoencoderFile.Load(path)");
    }

    public static TheoryData<string, Func<nn.Module<Tensor, Tensor>>, Func<nn.Module<Tensor, Tensor>>, string> Mismatches => new()
    {
        { "a wider hidden decoder layer", () => Encoder(Latent), () => Decoder(hidden: 40), "'decoder.hidden.weight' is Float32 [32, 6] in the file but Float32 [40, 6]" },
        { "more encoder channels", () => Encoder(Latent, channels: 5), () => Decoder(), "'encoder.conv.weight' is Float32 [4, 3, 3, 3] in the file but Float32 [5, 3, 3, 3]" },
        { "a layer the file does not have", () => nn.Sequential(("conv", nn.Conv2d(3, 4, 3, stride: 2, padding: 1)), ("relu", nn.ReLU()), ("flatten", nn.Flatten()), ("extra", nn.Linear(64, 64)), ("code", nn.Linear(64, Latent))), () => Decoder(), "have a parameter 'encoder.extra.weight' [64, 64] that the file does not" },
        { "a renamed layer", () => nn.Sequential(("conv", nn.Conv2d(3, 4, 3, stride: 2, padding: 1)), ("relu", nn.ReLU()), ("flatten", nn.Flatten()), ("renamed", nn.Linear(64, Latent))), () => Decoder(), "the saved parameter 'encoder.code.weight' [6, 64] is not in the modules given" },
        { "another latent size", () => Encoder(Latent + 1), () => Decoder(), "should return [2, 6], but it returned [2, 7]" },
    };

    [Theory]
    [MemberData(nameof(Mismatches))]
    public void Loading_into_modules_of_another_architecture_is_a_weights_mismatch_naming_the_parameter(string what, Func<nn.Module<Tensor, Tensor>> encoder, Func<nn.Module<Tensor, Tensor>> decoder, string message)
    {
        _ = what;
        using var model = Autoencoders.Custom(Encoder(Latent), Decoder(), Shape, Latent);
        var path = folder.Combine("custom.lkm");
        model.Save(path);

        using var enc = Locked(encoder);
        using var dec = Locked(decoder);
        var error = FluentActions.Invoking(() => AutoencoderFile.LoadCustom(path, enc, dec)).Should().Throw<ModelFileException>().Which;
        error.Error.Should().Be(ModelFileError.WeightsMismatch);
        error.Message.Should().Contain(message);

        // The modules stay the caller's and usable after a failed load.
        using var output = dec.forward(zeros(1, Latent));
        output.shape[0].Should().Be(1);
    }

    public static TheoryData<string, Func<nn.Module<Tensor, Tensor>>, Func<nn.Module<Tensor, Tensor>>, bool, string, string> BuildErrors => new()
    {
        { "encoder not flattened", () => Encoder(Latent, flatten: false), () => Decoder(), false, "encoder", "for two samples shaped [2, 3, 8, 8] (zeros and ones) it should return [2, 6], but it returned [2, 4, 4, 4]; end it with nn.Flatten()" },
        { "VAE encoder of one latent", () => Encoder(Latent), () => Decoder(), true, "encoder", "should return [2, 12] (the mean then the log-variance, 6 each), but it returned [2, 6]" },
        { "encoder of another input size", () => nn.Sequential(("flatten", nn.Flatten()), ("code", nn.Linear(100, Latent))), () => Decoder(), false, "encoder", "The encoder failed on two samples shaped [2, 3, 8, 8] (zeros and ones)" },
        { "decoder not unflattened", () => Encoder(Latent), () => Decoder(unflatten: false), false, "decoder", "for two codes shaped [2, 6] (zeros and ones) it should return [2, 3, 8, 8], but it returned [2, 192]; end it with nn.Unflatten" },
        { "decoder of another latent", () => Encoder(Latent), () => nn.Sequential(("out", nn.Linear(5, 192))), false, "decoder", "The decoder failed on two codes shaped [2, 6] (zeros and ones)" },
        { "float64 encoder", () => new After(Encoder(Latent), t => t.to(ScalarType.Float64)), () => Decoder(), false, "encoder", "returned Float64 values for" },
        { "int64 encoder", () => new After(Encoder(Latent), t => t.to(ScalarType.Int64)), () => Decoder(), false, "encoder", "returned Int64 values for" },
        { "float64 decoder", () => Encoder(Latent), () => new After(Decoder(), t => t.to(ScalarType.Float64)), false, "decoder", "returned Float64 values for" },
        { "encoder summing over the batch", () => new After(Encoder(Latent), t => t.sum(0, keepdim: true)), () => Decoder(), false, "encoder", "returned 1 row for a batch of 2" },
        { "decoder summing over the batch", () => Encoder(Latent), () => new After(Decoder(), t => t.sum(0, keepdim: true)), false, "decoder", "returned 1 row for a batch of 2" },
        { "non-finite codes", () => new After(Encoder(Latent), t => t + float.PositiveInfinity), () => Decoder(), false, "encoder", "non-finite" },
        { "non-finite output", () => Encoder(Latent), () => new After(Decoder(), t => t * float.NaN), false, "decoder", "non-finite" },
    };

    [Theory]
    [MemberData(nameof(BuildErrors))]
    public void Building_checks_the_modules_on_one_zero_sample_and_names_the_shapes(string what, Func<nn.Module<Tensor, Tensor>> encoder, Func<nn.Module<Tensor, Tensor>> decoder, bool variational, string parameter, string message)
    {
        _ = what;
        using var enc = Locked(encoder);
        using var dec = Locked(decoder);
        var build = variational
            ? (Action)(() => Autoencoders.CustomVariational(enc, dec, Shape, Latent))
            : () => Autoencoders.Custom(enc, dec, Shape, Latent);
        var error = build.Should().Throw<ArgumentException>().Which;
        error.ParamName.Should().Be(parameter);
        error.Message.Should().Contain(message);
        error.Message.Should().NotContain("Exception raised from", "only the first line of libtorch's message is kept");
    }

    [Fact]
    public void Building_refuses_a_network_with_no_trainable_parameters()
    {
        using var enc = nn.Identity();
        using var dec = nn.Identity();
        var error = FluentActions.Invoking(() => Autoencoders.Custom(enc, dec, [8], 8)).Should().Throw<ArgumentException>().Which;
        error.ParamName.Should().Be("encoder");
        error.Message.Should().Contain("no trainable parameters");
    }

    [Fact]
    public void A_network_with_batch_norm_of_its_own_is_refused_one_sample_batches_naming_batch_norm()
    {
        // A user's BatchNorm1d trained on one sample made NaN running statistics, reported as "a step overflowed".
        var (data, _) = Images(6);
        using var model = Locked(() => Autoencoders.Custom(
            nn.Sequential(("flatten", nn.Flatten()), ("code", nn.Linear(192, Latent)), ("norm", nn.BatchNorm1d(Latent))),
            DecoderBody(16, unflatten: true),
            [3, 8, 8],
            Latent));

        var one = () => model.Train(data.Take(1), Quick with { Epochs = 1 }, OneThread);
        one.Should().Throw<ArgumentException>().Where(e => e.ParamName == "training").WithMessage("Cannot train * on 1 training sample: batch norm needs at least 2 samples per training batch.*");
        var single = () => model.Train(data, Quick with { Epochs = 1, BatchSize = 1 }, OneThread);
        single.Should().Throw<ArgumentException>().Where(e => e.ParamName == "BatchSize").WithMessage("*BatchSize = 1 is too small*batch norm*");
        model.Train(data, Quick with { Epochs = 1, BatchSize = 5 }, OneThread).Epochs.Should().ContainSingle("6 samples in batches of 5: the last sample joins the first batch");
    }

    /// <summary>A module that runs <c>inner</c> and then <c>then</c> on its output.</summary>
    private sealed class After : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> inner;
        private readonly Func<Tensor, Tensor> then;

        public After(nn.Module<Tensor, Tensor> inner, Func<Tensor, Tensor> then)
            : base(nameof(After))
        {
            this.inner = inner;
            this.then = then;
            RegisterComponents();
        }

        public override Tensor forward(Tensor input) => then(inner.forward(input));
    }

    [Theory]
    [InlineData(new int[0], "inputShape", "1 to 3 dimensions")]
    [InlineData(new[] { 3, 0, 8 }, "inputShape", "got [3, 0, 8]")]
    [InlineData(new[] { 1, 3, 8, 8 }, "inputShape", "got [1, 3, 8, 8]")]
    public void Building_refuses_an_invalid_input_shape(int[] shape, string parameter, string message)
    {
        using var enc = Encoder(Latent);
        using var dec = Decoder();
        var error = FluentActions.Invoking(() => Autoencoders.Custom(enc, dec, shape, Latent)).Should().Throw<ArgumentException>().Which;
        error.ParamName.Should().Be(parameter);
        error.Message.Should().Contain(message);
    }

    [Fact]
    public void Building_refuses_the_builders_invalid_settings_and_one_module_for_both()
    {
        using var enc = Encoder(Latent);
        using var dec = Decoder();
        FluentActions.Invoking(() => Autoencoders.Custom(enc, dec, Shape, 0)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("latentSize");
        FluentActions.Invoking(() => Autoencoders.Custom(enc, dec, Shape, Latent, OutputActivation.Identity, ReconstructionLoss.BinaryCrossEntropy))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("outputActivation");
        FluentActions.Invoking(() => Autoencoders.CustomVariational(enc, dec, Shape, Latent, klWeight: -1)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("klWeight");
        FluentActions.Invoking(() => Autoencoders.Custom(enc, enc, Shape, Latent)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("decoder");
    }

    [Fact]
    public void A_classifier_on_a_custom_autoencoder_trains_saves_and_loads_with_the_modules()
    {
        var (data, pixels) = Images(60);
        using var model = Seeded(4, () => Autoencoders.Custom(Encoder(Latent), Decoder(), Shape, Latent));
        model.Train(data, Quick, OneThread);
        using var classifier = LatentClassifier.For(model).ForData(data).WithHiddenLayers(16).WithSeed(1).Build();
        classifier.Train(data, new TrainingOptions { Epochs = 3, BatchSize = 16, LearningRate = 0.01 }, OneThread);
        var path = folder.Combine("classifier.lkm");
        classifier.Save(path);

        FluentActions.Invoking(() => LatentClassifier.Load(path)).Should().Throw<ModelFileException>()
            .Which.Message.Should().Contain("LatentClassifier.LoadCustom(path, encoder, decoder)");
        using var loaded = LatentClassifier.LoadCustom(path, Encoder(Latent), Decoder());
        loaded.Autoencoder.Should().BeOfType<CustomAutoencoder>();
        using var images = tensor(pixels, [60, 3, 8, 8]);
        using var expected = classifier.PredictProbabilities(images);
        using var actual = loaded.PredictProbabilities(images);
        SmallModels.Values(actual).Should().Equal(SmallModels.Values(expected));
        loaded.Evaluate(data).Accuracy.Should().Be(classifier.Evaluate(data).Accuracy);

        FluentActions.Invoking(() => LatentClassifier.For(model).WithFineTuning(0.001).Build())
            .Should().Throw<NotSupportedException>().Which.Message.Should().Contain("fine-tuning needs a built-in autoencoder");
    }

    [Fact]
    public void Models_move_to_the_CPU_explicitly_and_load_onto_it()
    {
        var (data, pixels) = Images(20);
        using var model = Autoencoders.Custom(Encoder(Latent), Decoder(), Shape, Latent);
        using var images = tensor(pixels, [20, 3, 8, 8]);
        using var before = model.Reconstruct(images);
        model.MoveTo(CPU);
        model.Device.type.Should().Be(DeviceType.CPU);
        using var after = model.Reconstruct(images);
        SmallModels.Values(after).Should().Equal(SmallModels.Values(before));
        var path = folder.Combine("custom.lkm");
        model.Save(path);
        using var loaded = AutoencoderFile.LoadCustom(path, Encoder(Latent), Decoder(), CPU);
        loaded.Device.type.Should().Be(DeviceType.CPU);

        using var dense = SmallModels.Build(AutoencoderKind.Dense);
        var densePath = folder.Combine("dense.lkm");
        dense.Save(densePath);
        using var denseLoaded = AutoencoderFile.Load(densePath, CPU);
        denseLoaded.Device.type.Should().Be(DeviceType.CPU);

        using var classifier = LatentClassifier.For(model).ForData(data).WithHiddenLayers(8).Build();
        classifier.MoveTo(CPU);
        classifier.Train(data, new TrainingOptions { Epochs = 1, BatchSize = 10 }, OneThread);
        var classifierPath = folder.Combine("classifier.lkm");
        classifier.Save(classifierPath);
        using var classifierLoaded = LatentClassifier.LoadCustom(classifierPath, Encoder(Latent), Decoder(), CPU);
        classifierLoaded.Autoencoder.Device.type.Should().Be(DeviceType.CPU);
    }

    [Fact]
    public void The_advanced_modules_are_the_models_own()
    {
        using var dense = (AutoencoderBase)SmallModels.Build(AutoencoderKind.Dense);
        dense.Modules.named_children().Select(c => c.name).Should().Equal("encoder", "decoder");
        using var generator = new Generator(7);
        using var images = rand([2, 784], generator: generator);
        using var viaModules = dense.Decoder.forward(dense.Encoder.forward(images)).sigmoid();
        using var viaModel = dense.Reconstruct(images);
        SmallModels.Values(viaModules).Should().Equal(SmallModels.Values(viaModel));

        using var vae = (VariationalAutoencoder)SmallModels.Build(AutoencoderKind.Variational);
        using var mean = vae.MeanModule.forward(vae.Encoder.forward(images));
        using var code = vae.Encode(images);
        SmallModels.Values(mean).Should().Equal(SmallModels.Values(code));
        vae.LogVarianceModule.Should().BeSameAs(vae.Modules.named_children().Single(c => c.name == "log_variance").module);
    }
}
