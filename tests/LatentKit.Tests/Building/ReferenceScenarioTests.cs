using LatentKit.Tests.Support;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentKit.Tests.Building;

public class ReferenceScenarioTests
{
    [Fact]
    public void There_are_four_scenarios_with_the_original_figures()
    {
        ReferenceScenarios.All.Select(s => s.Number).Should().Equal(1, 2, 3, 4);
        ReferenceScenarios.All.Select(s => s.OriginalLoss).Should().Equal(0.087, 0.079, 0.082, 0.050);
        ReferenceScenarios.All.Select(s => s.OriginalAccuracy).Should().Equal(0.89, 0.92, 0.92, 0.91);
        ReferenceScenarios.All.Take(3).Should().OnlyContain(s => s.OriginalLossIsPerPixelBce);
        ReferenceScenarios.Scenario4Variational.OriginalLossIsPerPixelBce.Should().BeFalse();
        ReferenceScenarios.Scenario4Variational.OriginalLossNote.Should().Contain("not").And.Contain("per-pixel BCE");
    }

    [Theory]
    [InlineData(1, Activation.ReLU)]
    [InlineData(3, Activation.Tanh)]
    public void Dense_scenarios_have_three_dense_layers_each_side_latent_49_and_a_sigmoid_bce_output(int number, Activation activation)
    {
        var scenario = ReferenceScenarios.All[number - 1];
        using var model = (DenseAutoencoder)scenario.CreateAutoencoderBuilder().Build();

        Layers(model.EncoderLayers).Should().Equal("Linear(784→256)", Name(activation), "Linear(256→128)", Name(activation), "Linear(128→49)");
        Layers(model.DecoderLayers).Should().Equal("Linear(49→128)", Name(activation), "Linear(128→256)", Name(activation), "Linear(256→784)");
        model.LatentSize.Should().Be(49);
        model.OutputActivation.Should().Be(OutputActivation.Sigmoid);
        model.Loss.Should().Be(ReconstructionLoss.BinaryCrossEntropy);
        model.Activation.Should().Be(activation);
        model.DefaultTraining.Should().Be(scenario.AutoencoderTraining);
    }

    [Fact]
    public void The_convolutional_scenario_has_three_convolutions_each_side_and_a_7x7x1_code()
    {
        using var model = (ConvolutionalAutoencoder)ReferenceScenarios.Scenario2Convolutional.CreateAutoencoderBuilder().Build();

        Layers(model.EncoderLayers).Should().Equal("Conv2d(1→32,s2)", "ReLU", "Conv2d(32→64,s2)", "ReLU", "Conv2d(64→1,s1)");
        Layers(model.DecoderLayers).Should().Equal("Conv2d(1→64,s1)", "ReLU", "ConvTranspose2d(64→32,s2)", "ReLU", "ConvTranspose2d(32→1,s2)");
        (model.MapSide, model.LatentChannels, model.LatentSize).Should().Be((7, 1, 49));
        model.OutputActivation.Should().Be(OutputActivation.Sigmoid);
        model.Loss.Should().Be(ReconstructionLoss.BinaryCrossEntropy);

        using var scope = NewDisposeScope();
        model.Encode(zeros(2, 1, 28, 28)).shape.Should().Equal(2, 49);
    }

    [Fact]
    public void The_variational_scenario_has_three_dense_layers_each_side_with_mean_and_log_variance_of_49()
    {
        using var model = (VariationalAutoencoder)ReferenceScenarios.Scenario4Variational.CreateAutoencoderBuilder().Build();

        Layers(model.EncoderLayers).Should().Equal("Linear(784→256)", "ReLU", "Linear(256→128)", "ReLU");
        Layers(model.MeanLayer).Should().Equal("Linear(128→49)");
        Layers(model.LogVarianceLayer).Should().Equal("Linear(128→49)");
        Layers(model.DecoderLayers).Should().Equal("Linear(49→128)", "ReLU", "Linear(128→256)", "ReLU", "Linear(256→784)");
        model.OutputActivation.Should().Be(OutputActivation.Sigmoid);
        model.KlWeight.Should().Be(1.0);
    }

    [Fact]
    public void Every_scenario_classifier_is_two_dense_layers_with_relu_and_a_sigmoid_cross_entropy_head()
    {
        foreach (var scenario in ReferenceScenarios.All)
        {
            using var autoencoder = scenario.CreateAutoencoderBuilder().Build();
            using var classifier = scenario.CreateClassifierBuilder(autoencoder).Build();
            Layers(classifier.Head).Should().Equal("Linear(49→128)", "ReLU", "Linear(128→10)");
            classifier.HeadKind.Should().Be(ClassifierHead.SigmoidCrossEntropy);
            classifier.DefaultTraining.Should().Be(scenario.ClassifierTraining);
        }
    }

    [Fact]
    public void The_builder_is_fresh_on_every_call()
    {
        var scenario = ReferenceScenarios.Scenario1DenseRelu;
        scenario.CreateAutoencoderBuilder().Should().NotBeSameAs(scenario.CreateAutoencoderBuilder());
        using var a = scenario.CreateAutoencoderBuilder().Build();
        using var b = scenario.CreateAutoencoderBuilder().Build();
        using var scope = NewDisposeScope();
        var x = rand(3, 784);
        a.Encode(x).data<float>().ToArray().Should().Equal(b.Encode(x).data<float>().ToArray(), "a preset is seeded");
    }

    [Fact]
    public void Run_trains_both_stages_with_the_scenarios_settings_and_evaluates_the_returned_models_on_the_test_data()
    {
        // Small synthetic data keep the scenario's 15 + 15 epochs at batch 128 to a few seconds (the scenario's options
        // leave TorchSharp's threads as they are: one thread is the fastest on a busy machine).
        var training = Synthetic.Digits(1000);
        var test = Synthetic.Digits(100, seed: 7);
        var scenario = ReferenceScenarios.Scenario1DenseRelu;
        var reports = new List<TrainingProgress>();
        var logger = new ListLogger();

        var threads = get_num_threads();
        set_num_threads(1);
        ScenarioResult result;
        try
        {
            result = scenario.Run(training, test, new TrainingRun { Progress = new SyncProgress<TrainingProgress>(reports.Add), Logger = logger });
        }
        finally
        {
            set_num_threads(threads);
        }

        using (result)
        {
            result.Scenario.Should().BeSameAs(scenario);
            result.AutoencoderHistory.Epochs.Should().HaveCount(scenario.AutoencoderTraining.Epochs);
            result.ClassifierHistory.Epochs.Should().HaveCount(scenario.ClassifierTraining.Epochs);
            result.AutoencoderHistory.Epochs[^1].TrainingLoss.Should().BeLessThan(result.AutoencoderHistory.Epochs[0].TrainingLoss);
            result.ClassifierHistory.Epochs[^1].TrainingLoss.Should().BeLessThan(result.ClassifierHistory.Epochs[0].TrainingLoss);
            logger.Lines.Should().HaveCount(15 + 15, "one line per epoch of each stage");
            reports.Should().Contain(r => r.TotalEpochs == 15 && r.TotalBatches == 8);

            var autoencoder = result.Autoencoder.Should().BeOfType<DenseAutoencoder>().Subject;
            Layers(autoencoder.EncoderLayers).Should().Equal("Linear(784→256)", "ReLU", "Linear(256→128)", "ReLU", "Linear(128→49)");
            result.Classifier.Autoencoder.Should().BeSameAs(result.Autoencoder, "the classifier runs on the trained autoencoder");
            result.Classifier.HeadKind.Should().Be(ClassifierHead.SigmoidCrossEntropy);

            result.TestReconstruction.Count.Should().Be(100);
            var again = result.Autoencoder.Evaluate(test);
            result.TestReconstruction.BinaryCrossEntropy.Should().BeApproximately(again.BinaryCrossEntropy, 1e-6, "the metrics are those of the returned autoencoder on the test data");
            result.TestReconstruction.MeanSquaredError.Should().BeApproximately(again.MeanSquaredError, 1e-6);
            result.TestClassification.Count.Should().Be(100);
            result.TestClassification.Accuracy.Should().Be(result.Classifier.Evaluate(test).Accuracy);
            result.TestClassification.Accuracy.Should().BeGreaterThan(0.9, "the synthetic digits are easy to tell apart");
            result.MeetsOriginalAccuracy.Should().BeTrue("above the original's 0.89");
            result.TestReconstruction.BinaryCrossEntropy.Should().BeGreaterThan(0.087, "noisy synthetic images reconstruct worse than MNIST");
            result.MeetsOriginalLoss.Should().BeFalse("above the original's 0.087");
        }

        var encode = () => result.Autoencoder.Encode(zeros(1, 784));
        encode.Should().Throw<ObjectDisposedException>("disposing the result disposes the autoencoder");
        var predict = () => result.Classifier.Evaluate(test);
        predict.Should().Throw<ObjectDisposedException>("and the classifier");
    }

    [Fact]
    public void Run_with_a_cancelled_token_throws_instead_of_reporting_an_untrained_result()
    {
        var training = Synthetic.Digits(50);
        var test = Synthetic.Digits(50, seed: 7);
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        foreach (var scenario in new[] { ReferenceScenarios.Scenario1DenseRelu, ReferenceScenarios.Scenario4Variational })
        {
            var act = () => scenario.Run(training, test, cancellationToken: cancellation.Token);
            var canceled = act.Should().Throw<TrainingCanceledException>().Which;
            canceled.CancellationToken.Should().Be(cancellation.Token);
            canceled.History.Epochs.Should().BeEmpty();
        }
    }

    [Fact]
    public void Run_names_a_missing_dataset()
    {
        var data = Synthetic.Digits(10);
        var noTraining = () => ReferenceScenarios.Scenario1DenseRelu.Run(null!, data);
        noTraining.Should().Throw<ArgumentNullException>().Where(e => e.ParamName == "training");
        var noTest = () => ReferenceScenarios.Scenario1DenseRelu.Run(data, null!);
        noTest.Should().Throw<ArgumentNullException>().Where(e => e.ParamName == "test");
    }

    private static string Name(Activation activation) => activation.ToString();

    private static List<string> Layers(nn.Module<Tensor, Tensor> module)
    {
        var children = module.children().ToList();
        if (children.Count == 0)
        {
            children = [module];
        }

        return children.Select(Describe).ToList();
    }

    private static string Describe(nn.Module m) => m switch
    {
        Linear l => $"Linear({l.in_features}→{l.out_features})",
        ConvTranspose2d c => $"ConvTranspose2d({c.in_channels}→{c.out_channels},s{c.stride[0]})",
        Conv2d c => $"Conv2d({c.in_channels}→{c.out_channels},s{c.stride[0]})",
        ReLU => "ReLU",
        Tanh => "Tanh",
        _ => m.GetType().Name,
    };
}
