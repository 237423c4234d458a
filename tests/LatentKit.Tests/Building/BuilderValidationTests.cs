using LatentKit.Tests.Support;

namespace LatentKit.Tests.Building;

public class BuilderValidationTests
{
    public static TheoryData<string, Func<object>, string, string> Invalid => new()
    {
        { "dense latent 0", () => Autoencoders.Dense().WithLatentSize(0).Build(), "latentSize", "*0*" },
        { "vae latent -3", () => Autoencoders.Variational().WithLatentSize(-3).Build(), "latentSize", "*-3*" },
        { "conv latent 0", () => Autoencoders.Convolutional().WithLatentSize(0).Build(), "latentSize", "*0*" },
        { "dense no layers", () => Autoencoders.Dense().WithHiddenLayers().Build(), "widths", "*no layers*" },
        { "vae no layers", () => Autoencoders.Variational().WithHiddenLayers().Build(), "widths", "*no layers*" },
        { "conv no channels", () => Autoencoders.Convolutional().WithChannels().Build(), "channels", "*no layers*" },
        { "dense zero width", () => Autoencoders.Dense().WithHiddenLayers(256, 0).Build(), "widths", "*entry 1 is 0*" },
        { "conv negative channels", () => Autoencoders.Convolutional().WithChannels(-4, 8).Build(), "channels", "*entry 0 is -4*" },
        { "conv latent not a 7x7 map", () => Autoencoders.Convolutional().WithLatentSize(50).Build(), "latentSize", "*7 x 7 code map*latent size of 50*" },
        { "conv latent not a 14x14 map", () => Autoencoders.Convolutional().WithChannels(8).WithLatentSize(49).Build(), "latentSize", "*14 x 14 code map*latent size of 49*" },
        { "conv 3 strided layers, latent not whole maps", () => Autoencoders.Convolutional().WithChannels(8, 16, 32).WithLatentSize(49).Build(), "latentSize", "*[1, 28, 28] padded to 32 x 32*4 x 4 code map*latent size of 49*multiple of 16*" },
        { "conv input too small for the strides", () => Autoencoders.Convolutional().WithInputShape(1, 3, 3).WithLatentSize(1).Build(), "shape", "*[1, 3, 3] is too small for 2 stride-2*at least 2^2 = 4*" },
        { "conv latent not whole maps of an odd image", () => Autoencoders.Convolutional().WithInputShape(1, 17, 23).WithLatentSize(49).Build(), "latentSize", "*[1, 17, 23] padded to 20 x 24*5 x 6 code map*49*multiple of 30*" },
        { "conv on a feature shape", () => Autoencoders.ConvolutionalVariational().WithInputShape(30).Build(), "shape", "*image input shape*got [30]*dense*" },
        { "input shape of rank 2", () => Autoencoders.Dense().WithInputShape(4, 5).Build(), "shape", "*[features] or [channels, height, width]*got [4, 5]*" },
        { "input shape with a zero", () => Autoencoders.Dense().WithInputShape(3, 0, 5).Build(), "shape", "*at least 1*[3, 0, 5]*" },
        { "input shape too large", () => Autoencoders.Dense().WithInputShape(64, 1024, 1024).Build(), "shape", "*[64, 1024, 1024]*67,108,864*MaxInputSize*" },
        { "input channels above the limit", () => Autoencoders.Convolutional().WithInputShape(5000, 2, 2).WithChannels(4).WithLatentSize(1).Build(), "shape", "*5000 channels*MaxChannels*" },
        { "standardizer with bce", () => Autoencoders.Dense().WithInputShape(2).WithStandardization(FeatureStandardizer.FromValues([0f, 1f], [1f, 2f])).Build(), "loss", "*not in [0, 1]*Identity*MeanSquaredError*" },
        { "standardizer of another width", () => Autoencoders.Dense().WithInputShape(3).WithOutputActivation(OutputActivation.Identity).WithLoss(ReconstructionLoss.MeanSquaredError).WithStandardization(FeatureStandardizer.FromValues([0f, 1f], [1f, 2f])).Build(), "standardizer", "*fitted on 2 features*[3]*3 values*" },
        { "negative learning rate", () => Autoencoders.Dense().WithLearningRate(-0.01).Build(), "learningRate", "*-0.01*" },
        { "zero learning rate", () => Autoencoders.Convolutional().WithOptimizer(OptimizerKind.Sgd, 0).Build(), "learningRate", "*0*" },
        { "negative weight decay", () => Autoencoders.Dense().WithOptimizer(OptimizerKind.AdamW, 0.01, -1).Build(), "weightDecay", "*-1*" },
        { "bce without sigmoid", () => Autoencoders.Dense().WithOutputActivation(OutputActivation.Identity).Build(), "outputActivation", "*Identity*" },
        { "unknown activation", () => Autoencoders.Dense().WithActivation((Activation)99).Build(), "activation", "*99*" },
        { "negative kl weight", () => Autoencoders.Variational().WithKlWeight(-0.5).Build(), "klWeight", "*-0.5*" },
        { "latent size 1e9", () => Autoencoders.Dense().WithLatentSize(1_000_000_000).Build(), "latentSize", "*at most 65536*got 1000000000*" },
        { "latent size above the limit", () => Autoencoders.Dense().WithHiddenLayers(8).WithLatentSize(70_000).Build(), "latentSize", "*at most 65536*got 70000*" },
        { "vae latent size above the limit", () => Autoencoders.Variational().WithHiddenLayers(8).WithLatentSize(65_537).Build(), "latentSize", "*65537*" },
        { "conv latent size above the limit", () => Autoencoders.Convolutional().WithChannels(4).WithLatentSize(196 * 400).Build(), "latentSize", "*at most 65536*got 78400*" },
        { "hidden width above the limit", () => Autoencoders.Dense().WithHiddenLayers(8, 1_000_000_000).Build(), "widths", "*at most 65536*entry 1 is 1000000000*" },
        { "conv channels above the limit", () => Autoencoders.Convolutional().WithChannels(8, 5000).Build(), "channels", "*at most 4096*entry 1 is 5000*" },
        { "too many hidden layers", () => Autoencoders.Variational().WithHiddenLayers(Enumerable.Repeat(4, 65).ToArray()).Build(), "widths", "*64*65*" },
        { "too many parameters", () => Autoencoders.Dense().WithHiddenLayers(30_000, 1_000).WithLatentSize(10).Build(), "widths", "*107,*parameters*100,000,000*" },
        { "too many parameters, huge", () => Autoencoders.Variational().WithHiddenLayers(65_536, 65_536, 65_536).Build(), "widths", "*parameters*" },
        { "bad training defaults", () => Autoencoders.Dense().WithTrainingDefaults(new TrainingOptions { BatchSize = 0 }).Build(), "BatchSize", "*BatchSize = 0*" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Build_rejects_invalid_settings_naming_the_parameter_and_value(string name, Func<object> build, string parameter, string message)
    {
        var act = () => build();
        act.Should().Throw<LatentKitValidationException>(name).Where(e => e.ParamName == parameter).WithMessage(message);
    }

    [Fact]
    public void Valid_non_default_settings_build()
    {
        using var mse = Autoencoders.Dense().WithOutputActivation(OutputActivation.Identity).WithLoss(ReconstructionLoss.MeanSquaredError).WithActivation(Activation.GELU).Build();
        mse.OutputActivation.Should().Be(OutputActivation.Identity);
        mse.Loss.Should().Be(ReconstructionLoss.MeanSquaredError);
        mse.Activation.Should().Be(Activation.GELU);
        using var atTheLimits = Autoencoders.Dense().WithHiddenLayers(8).WithLatentSize(65_536).Build();
        atTheLimits.LatentSize.Should().Be(ModelLimits.MaxLatentSize, "the limits themselves are allowed");
        using var wide = Autoencoders.Convolutional().WithChannels(8).WithLatentSize(2 * 196).Build();
        wide.MapSide.Should().Be(14);
        wide.LatentChannels.Should().Be(2);
        wide.LatentSize.Should().Be(392);
    }

    [Fact]
    public void The_classifier_builder_validates_its_settings()
    {
        using var autoencoder = SmallModels.Build(AutoencoderKind.Dense);
        var noLayers = () => LatentClassifier.For(autoencoder).WithHiddenLayers().Build();
        noLayers.Should().Throw<LatentKitValidationException>().Where(e => e.ParamName == "widths");
        var zero = () => LatentClassifier.For(autoencoder).WithHiddenLayers(0).Build();
        zero.Should().Throw<LatentKitValidationException>().Where(e => e.ParamName == "widths").WithMessage("*entry 0 is 0*");
        var lr = () => LatentClassifier.For(autoencoder).WithLearningRate(-1).Build();
        lr.Should().Throw<LatentKitValidationException>().Where(e => e.ParamName == "learningRate").WithMessage("*-1*");
        var head = () => LatentClassifier.For(autoencoder).WithHead((ClassifierHead)7).Build();
        head.Should().Throw<LatentKitValidationException>().Where(e => e.ParamName == "head");
        var dropout = () => LatentClassifier.For(autoencoder).WithDropout(1.5).Build();
        dropout.Should().Throw<LatentKitValidationException>().Where(e => e.ParamName == "probability").WithMessage("*1.5*");
        var activation = () => LatentClassifier.For(autoencoder).WithActivation((Activation)99).Build();
        activation.Should().Throw<LatentKitValidationException>().Where(e => e.ParamName == "activation").WithMessage("*99*");
        var wide = () => LatentClassifier.For(autoencoder).WithHiddenLayers(16, 70_000).Build();
        wide.Should().Throw<LatentKitValidationException>().Where(e => e.ParamName == "widths").WithMessage("*at most 65536*entry 1 is 70000*");
        var huge = () => LatentClassifier.For(autoencoder).WithHiddenLayers(65_536, 65_536).Build();
        huge.Should().Throw<LatentKitValidationException>().Where(e => e.ParamName == "widths").WithMessage("*parameters*");
        var encoderRate = () => LatentClassifier.For(autoencoder).WithFineTuning(-0.5).Build();
        encoderRate.Should().Throw<LatentKitValidationException>().Where(e => e.ParamName == "encoderLearningRate").WithMessage("*-0.5*");
        var encoderRateNaN = () => LatentClassifier.For(autoencoder).WithFineTuning(double.NaN).Build();
        encoderRateNaN.Should().Throw<LatentKitValidationException>().Where(e => e.ParamName == "encoderLearningRate").WithMessage("*NaN*");
        var oneClass = () => LatentClassifier.For(autoencoder).WithClasses(1).Build();
        oneClass.Should().Throw<ArgumentException>().Where(e => e.ParamName == "classCount").WithMessage("*2 to 100000 classes; got 1*");
        var sameNames = () => LatentClassifier.For(autoencoder).WithClasses("cat", "dog", "cat").Build();
        sameNames.Should().Throw<ArgumentException>().Where(e => e.ParamName == "classNames").WithMessage("*distinct*name 2 is 'cat'*");
        var emptyName = () => LatentClassifier.For(autoencoder).WithClasses("cat", " ").Build();
        emptyName.Should().Throw<ArgumentException>().Where(e => e.ParamName == "classNames").WithMessage("*name 1*");
        var unlabelled = () => LatentClassifier.For(autoencoder).ForData(Dataset.FromFeatures(new float[784], 784));
        unlabelled.Should().Throw<ArgumentException>().Where(e => e.ParamName == "data");
    }

    public static TheoryData<TrainingOptions, string> InvalidOptions => new()
    {
        { new TrainingOptions { Epochs = 0 }, nameof(TrainingOptions.Epochs) },
        { new TrainingOptions { BatchSize = -1 }, nameof(TrainingOptions.BatchSize) },
        { new TrainingOptions { LearningRate = -0.001 }, nameof(TrainingOptions.LearningRate) },
        { new TrainingOptions { LearningRate = double.NaN }, nameof(TrainingOptions.LearningRate) },
        { new TrainingOptions { WeightDecay = -1 }, nameof(TrainingOptions.WeightDecay) },
        { new TrainingOptions { Momentum = -1 }, nameof(TrainingOptions.Momentum) },
        { new TrainingOptions { ValidationFraction = 1.0 }, nameof(TrainingOptions.ValidationFraction) },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Training_options_validation_names_the_property(TrainingOptions options, string property)
    {
        var act = () => options.Validate();
        act.Should().Throw<LatentKitValidationException>().Where(e => e.ParamName == property).WithMessage($"*{property}*");
    }

    public static TheoryData<TrainingRun, string, string> InvalidRuns => new()
    {
        { new TrainingRun { Threads = 0 }, nameof(TrainingRun.Threads), "TrainingRun.Threads = 0 must be at least 1*" },
        { new TrainingRun { Threads = TrainingRun.MaxThreads + 1 }, nameof(TrainingRun.Threads), "*at most 1024*" },
        { new TrainingRun { ProgressInterval = TimeSpan.FromSeconds(-1) }, nameof(TrainingRun.ProgressInterval), "*must not be negative*" },
        { new TrainingRun { ValidationSet = Synthetic.Digits(0) }, nameof(TrainingRun.ValidationSet), "*is empty*" },
        { new TrainingRun { Callbacks = [null!] }, nameof(TrainingRun.Callbacks), "*must not hold null (at index 0)*" },
    };

    [Theory]
    [MemberData(nameof(InvalidRuns))]
    public void Training_run_validation_names_the_property(TrainingRun run, string property, string message)
    {
        var act = run.Validate;
        act.Should().Throw<LatentKitValidationException>().Where(e => e.ParamName == property).WithMessage(message);
    }

    public static TheoryData<string, string, string> InvalidCallbackSettings => new()
    {
        { "patience", "patience", "EarlyStopping patience = 0 must be at least 1*" },
        { "minDelta", "minDelta", "EarlyStopping minDelta = -1 must be a finite number of at least 0*" },
        { "monitor", "monitor", "EarlyStopping monitor = ' ' must name a metric*" },
        { "factor", "factor", "ReduceLearningRateOnPlateau factor = 1 must be above 0 and below 1*" },
        { "minLearningRateFactor", "minLearningRateFactor", "ReduceLearningRateOnPlateau minLearningRateFactor = 0 must be above 0 and at most 1*" },
    };

    [Theory]
    [MemberData(nameof(InvalidCallbackSettings))]
    public void Callback_settings_are_checked_when_made(string setting, string parameter, string message)
    {
        Action act = setting switch
        {
            "patience" => () => _ = new EarlyStopping(patience: 0),
            "minDelta" => () => _ = new EarlyStopping(minDelta: -1),
            "monitor" => () => _ = new EarlyStopping(monitor: " "),
            "factor" => () => _ = new ReduceLearningRateOnPlateau(factor: 1),
            _ => () => _ = new ReduceLearningRateOnPlateau(minLearningRateFactor: 0),
        };
        act.Should().Throw<LatentKitValidationException>().Where(e => e.ParamName == parameter).WithMessage(message);
    }

    [Fact]
    public void Early_stopping_on_the_validation_loss_without_validation_data_is_refused_before_training()
    {
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        var act = () => model.Train(Synthetic.Digits(20), new TrainingOptions { Epochs = 1 }, new TrainingRun { Threads = 1, Callbacks = [new EarlyStopping(patience: 2)] });
        act.Should().Throw<LatentKitValidationException>().Where(e => e.ParamName == nameof(TrainingRun.Callbacks))
            .WithMessage("*EarlyStopping monitors 'val_loss'*this run has: loss*ValidationFraction or TrainingRun.ValidationSet*");
    }

    [Fact]
    public void Every_invalid_training_option_is_reported_at_once_with_its_name_value_and_rule()
    {
        var options = new TrainingOptions { Epochs = 0, BatchSize = -3, LearningRate = double.NaN, ValidationFraction = 1.5 };
        var act = options.Validate;

        var error = act.Should().Throw<LatentKitValidationException>().Which;
        error.Errors.Select(e => (e.Setting, e.Value)).Should().Equal(
            (nameof(TrainingOptions.Epochs), "0"),
            (nameof(TrainingOptions.BatchSize), "-3"),
            (nameof(TrainingOptions.LearningRate), "NaN"),
            (nameof(TrainingOptions.ValidationFraction), "1.5"));
        error.Errors[0].Rule.Should().Be("TrainingOptions.Epochs = 0 must be at least 1.");
        error.ParamName.Should().Be(nameof(TrainingOptions.Epochs));
        error.Message.Should().StartWith("4 invalid settings: (1) TrainingOptions.Epochs = 0 must be at least 1. (2) TrainingOptions.BatchSize = -3");
    }

    [Fact]
    public void Train_reports_the_invalid_settings_of_the_options_and_the_run_together()
    {
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        var act = () => model.Train(Synthetic.Digits(20), new TrainingOptions { Epochs = 0 }, new TrainingRun { Threads = 0, ProgressInterval = TimeSpan.FromSeconds(-1) });
        act.Should().Throw<LatentKitValidationException>().Which.Errors.Select(e => e.Setting)
            .Should().Equal(nameof(TrainingOptions.Epochs), nameof(TrainingRun.Threads), nameof(TrainingRun.ProgressInterval));
    }

    [Fact]
    public void A_builder_reports_every_invalid_architecture_setting_and_training_default_at_once()
    {
        var act = () => Autoencoders.Dense().WithHiddenLayers(0).WithLatentSize(-1).WithDenoising(2, 0.1).WithTrainingDefaults(new TrainingOptions { BatchSize = 0 }).Build();
        var error = act.Should().Throw<LatentKitValidationException>().Which;
        error.Errors.Select(e => (e.Setting, e.Value)).Should().Equal(
            ("latentSize", "-1"),
            ("widths", "0"),
            ("noiseStd", "2"),
            (nameof(TrainingOptions.BatchSize), "0"));
        error.ParamName.Should().Be("latentSize");

        using var autoencoder = SmallModels.Build(AutoencoderKind.Dense);
        var classifier = () => LatentClassifier.For(autoencoder).WithHiddenLayers(-2).WithDropout(1.5).WithFineTuning(-1).Build();
        classifier.Should().Throw<LatentKitValidationException>().Which.Errors.Select(e => e.Setting)
            .Should().Equal("widths", "probability", "encoderLearningRate");
    }

    [Fact]
    public void A_callback_reports_every_invalid_setting_at_once()
    {
        var act = () => new ReduceLearningRateOnPlateau(monitor: "", factor: 2, patience: 0, minDelta: double.NaN, minLearningRateFactor: 0);
        act.Should().Throw<LatentKitValidationException>().Which.Errors.Select(e => e.Setting)
            .Should().Equal("monitor", "factor", "patience", "minDelta", "minLearningRateFactor");
    }

    [Fact]
    public void Training_with_invalid_options_throws_before_training()
    {
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        var act = () => model.Train(Synthetic.Digits(20), new TrainingOptions { BatchSize = 0 });
        act.Should().Throw<LatentKitValidationException>().Where(e => e.ParamName == "BatchSize");
    }

    [Fact]
    public void An_unavailable_device_is_refused_wherever_a_device_enters()
    {
        if (TorchSharp.torch.cuda.is_available())
        {
            return;
        }

        // TorchSharp's torch.CUDA getter itself initialises CUDA and throws on a CPU-only build, before LatentKit sees
        // it; a device made without initialising (as torch.device("cuda") or one read from settings) reaches LatentKit.
        FluentActions.Invoking(() => TorchSharp.torch.CUDA).Should().Throw<InvalidOperationException>();
        var cuda = new TorchSharp.torch.Device(TorchSharp.DeviceType.CUDA);
        using var temp = new TempDirectory();
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        using var classifier = LatentClassifier.For(model).WithClasses(2).Build();
        var modelPath = temp.Combine("model.lkm");
        var classifierPath = temp.Combine("classifier.lkm");
        model.Save(modelPath);
        classifier.Save(classifierPath);
        foreach (var enter in new Action[]
        {
            () => Autoencoders.Dense().OnDevice(cuda),
            () => Autoencoders.Convolutional().OnDevice(cuda),
            () => ((AutoencoderBase)model).MoveTo(cuda),
            () => classifier.MoveTo(cuda),
            () => AutoencoderFile.Load(modelPath, cuda),
            () => LatentClassifier.Load(classifierPath, cuda),
        })
        {
            var error = enter.Should().Throw<ArgumentException>().Which;
            error.ParamName.Should().Be("device");
            error.Message.Should().Contain("cuda").And.Contain("CPU");
        }

        var train = () => model.Train(Synthetic.Digits(20), new TrainingOptions { Epochs = 1 }, new TrainingRun { Threads = 1, Device = cuda });
        var invalid = train.Should().Throw<LatentKitValidationException>().Which;
        invalid.ParamName.Should().Be("Device");
        invalid.Message.Should().Contain("cuda").And.Contain("CPU");
        model.Device.type.Should().Be(TorchSharp.DeviceType.CPU);
    }

    [Fact]
    public void A_classifier_on_a_disposed_autoencoder_is_refused_naming_the_autoencoder()
    {
        var model = SmallModels.Build(AutoencoderKind.Dense);
        model.Dispose();
        var build = () => LatentClassifier.For(model).WithClasses(2).Build();
        build.Should().Throw<ObjectDisposedException>().Which.ObjectName.Should().Contain(nameof(DenseAutoencoder));
    }
}
