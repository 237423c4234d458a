using LatentKit.Onnx.Tests.Support;
using LatentKit.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentKit.Onnx.Tests;

/// <summary>Networks users write themselves, data of other shapes, and what cannot be exported.</summary>
public sealed class ModuleExportTests : IDisposable
{
    private readonly TempDirectory folder = new();

    [Fact]
    public void A_user_defined_convolutional_network_on_3x32x32_colour_images_matches_TorchSharp()
    {
        torch.manual_seed(7);
        using var network = new ColourEncoder();
        WarmUpBatchNorm(network, [3, 32, 32]);
        var file = OnnxExport.Module(network, [3, 32, 32], folder.Combine("colour.onnx"));
        network.training.Should().BeTrue("the export restores the network's training flag");

        foreach (var count in new[] { 1, 64 })
        {
            using var scope = NewDisposeScope();
            var images = rand(count, 3, 32, 32);
            using var noGrad = no_grad();
            network.eval();
            Ort.Run(file.Path, OnnxNames.Input, images)[OnnxNames.Output].ShouldMatch(network.forward(images), $"colour encoder, batch {count}");
        }

        file.Inputs.Single().Should().Be(new OnnxTensorInfo(OnnxNames.Input, "float32", [-1, 3, 32, 32]));
        file.Outputs.Single().Should().Be(new OnnxTensorInfo(OnnxNames.Output, "float32", [-1, 5]));
    }

    [Fact]
    public void A_sequential_network_on_30_wide_feature_vectors_matches_TorchSharp()
    {
        torch.manual_seed(8);
        using var network = nn.Sequential(
            ("linear1", nn.Linear(30, 16)),
            ("bn", nn.BatchNorm1d(16)),
            ("elu", nn.ELU(0.5)),
            ("leaky", nn.LeakyReLU(0.2)),
            ("drop", nn.Dropout(0.3)),
            ("linear2", nn.Linear(16, 8)),
            ("tanh", nn.Tanh()),
            ("unflatten", nn.Unflatten(1, [2, 4])),
            ("linear3", nn.Linear(4, 3)),
            ("flatten", nn.Flatten()),
            ("softmax", nn.Softmax(1)));
        WarmUpBatchNorm(network, [30]);
        var file = OnnxExport.Module(network, [30], folder.Combine("features.onnx"));

        using var scope = NewDisposeScope();
        var rows = randn(200, 30) * 3;
        using var noGrad = no_grad();
        network.eval();
        Ort.Run(file.Path, OnnxNames.Input, rows)[OnnxNames.Output].ShouldMatch(network.forward(rows), "feature network");
        file.Outputs.Single().Shape.Should().Equal(-1, 6);
    }

    [Fact]
    public void Padding_and_pooling_on_odd_sized_grey_images_match_TorchSharp()
    {
        torch.manual_seed(9);
        using var network = nn.Sequential(
            ("pad", nn.ZeroPad2d((1, 0, 0, 1))),
            ("conv", nn.Conv2d(1, 4, 3)),
            ("reflect", nn.ReflectionPad2d(1)),
            ("replicate", nn.ReplicationPad2d((0, 1, 1, 0))),
            ("maxpool", nn.MaxPool2d(2, ceil_mode: true)),
            ("constant", nn.ConstantPad2d(2, 0.5)),
            ("avgpool", nn.AvgPool2d(3, stride: 2, padding: 1, count_include_pad: false)),
            ("flatten", nn.Flatten()));
        var file = OnnxExport.Module(network, [1, 15, 13], folder.Combine("pool.onnx"));

        using var scope = NewDisposeScope();
        var images = rand(32, 1, 15, 13);
        using var noGrad = no_grad();
        Ort.Run(file.Path, OnnxNames.Input, images)[OnnxNames.Output].ShouldMatch(network.forward(images), "padding and pooling");
    }

    [Fact]
    public void An_unknown_layer_is_refused_with_its_path_and_type_and_nothing_is_written()
    {
        using var network = nn.Sequential(("body", nn.Sequential(("linear", nn.Linear(8, 8)), ("double", new Doubler()))), ("out", nn.Linear(8, 2)));
        var path = folder.Combine("unknown.onnx");

        var act = () => OnnxExport.Module(network, [8], path);

        var error = act.Should().Throw<UnsupportedLayerException>().Which;
        error.LayerPath.Should().Be("body.double");
        error.LayerType.Should().Be(nameof(Doubler));
        error.Message.Should().Contain("'body.double' (Doubler)").And.Contain("not one of the supported layers").And.Contain("Supported: Sequential, Linear");
        Directory.GetFiles(folder.Path).Should().BeEmpty("nothing, not even a temporary file, is left behind");
    }

    [Fact]
    public void A_container_whose_forward_is_not_its_children_in_order_is_refused()
    {
        using var network = nn.Sequential(("residual", new Residual()));

        var act = () => OnnxExport.Module(network, [6], folder.Combine("residual.onnx"));

        var error = act.Should().Throw<UnsupportedLayerException>().Which;
        error.LayerPath.Should().Be("residual");
        error.LayerType.Should().Be(nameof(Residual));
        error.Reason.Should().Contain("not its children applied one after another");
    }

    [Theory]
    [InlineData("reflect")]
    [InlineData("bn-no-stats")]
    [InlineData("gelu-tanh")]
    public void Layers_used_in_a_way_the_graph_cannot_reproduce_are_refused_by_name(string which)
    {
        using nn.Module<Tensor, Tensor> layer = which switch
        {
            "reflect" => nn.Conv2d(1, 2, 3, padding: 1, padding_mode: PaddingModes.Reflect),
            "bn-no-stats" => nn.BatchNorm2d(1, track_running_stats: false),
            _ => nn.GELU(TorchSharp.Modules.GELU.Approximate.tanh),
        };
        using var network = nn.Sequential(("layer", layer));

        var act = () => OnnxExport.Module(network, [1, 6, 6], folder.Combine("x.onnx"));

        act.Should().Throw<UnsupportedLayerException>().Which.LayerPath.Should().Be("layer");
    }

    [Fact]
    public void Non_finite_weights_are_refused_naming_the_weight_and_the_layer()
    {
        using var network = nn.Sequential(("first", nn.Linear(4, 4)), ("second", nn.Linear(4, 2)));
        using (no_grad())
        {
            ((TorchSharp.Modules.Linear)network.children().Last()).weight![1, 1] = float.NaN;
        }

        var act = () => OnnxExport.Module(network, [4], folder.Combine("x.onnx"));

        act.Should().Throw<InvalidOperationException>().Which.Message.Should().Contain("'second.weight'").And.Contain("'second'").And.Contain("NaN or infinite");
        Directory.GetFiles(folder.Path).Should().BeEmpty();
    }

    [Fact]
    public void An_input_shape_the_first_layer_cannot_take_names_the_layer_and_the_shape()
    {
        using var network = nn.Sequential(("linear", nn.Linear(10, 2)));

        var act = () => OnnxExport.Module(network, [12], folder.Combine("x.onnx"));

        act.Should().Throw<ArgumentException>().Which.Message.Should().Contain("'linear' (Linear)").And.Contain("[2, 12]");
    }

    [Theory]
    [InlineData(new long[0])]
    [InlineData(new long[] { 3, 0 })]
    [InlineData(new long[] { -1, 4 })]
    public void An_invalid_input_shape_is_refused(long[] shape)
    {
        using var network = nn.Sequential(("linear", nn.Linear(10, 2)));

        var act = () => OnnxExport.Module(network, shape, folder.Combine("x.onnx"));

        act.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("inputShape");
    }

    public void Dispose() => folder.Dispose();

    /// <summary>Gives batch norm layers non-trivial running statistics.</summary>
    private static void WarmUpBatchNorm(nn.Module<Tensor, Tensor> network, long[] shape)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        network.train();
        for (var i = 0; i < 5; i++)
        {
            network.forward((randn([16, .. shape]) * 2) + 0.5);
        }
    }

    /// <summary>A user's encoder: its own container class whose forward runs its children in order.</summary>
    private sealed class ColourEncoder : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> features = nn.Sequential(
            ("conv1", nn.Conv2d(3, 6, 3, stride: 2, padding: 1)),
            ("bn1", nn.BatchNorm2d(6)),
            ("gelu", nn.GELU()),
            ("conv2", nn.Conv2d(6, 4, 3, padding: Padding.Same, dilation: 2)),
            ("silu", nn.SiLU()),
            ("deconv", nn.ConvTranspose2d(4, 2, 3, stride: 2, padding: 1, output_padding: 1)),
            ("sigmoid", nn.Sigmoid()));

        private readonly nn.Module<Tensor, Tensor> head = nn.Linear(2 * 32 * 32, 5);

        public ColourEncoder()
            : base(nameof(ColourEncoder))
        {
            RegisterComponents();
        }

        public override Tensor forward(Tensor input) => head.forward(features.forward(input).flatten(1));
    }

    private sealed class Doubler() : nn.Module<Tensor, Tensor>(nameof(Doubler))
    {
        public override Tensor forward(Tensor input) => input * 2;
    }

    private sealed class Residual : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> linear = nn.Linear(6, 6);

        public Residual()
            : base(nameof(Residual))
        {
            RegisterComponents();
        }

        public override Tensor forward(Tensor input) => input + linear.forward(input);
    }

    [Fact]
    public void A_disposed_model_is_refused_naming_the_model()
    {
        var model = Autoencoders.Dense().WithHiddenLayers(16).WithLatentSize(4).WithSeed(1).Build();
        model.Dispose();
        var act = () => OnnxExport.Encoder(model, folder.Combine("encoder.onnx"));
        act.Should().Throw<ObjectDisposedException>().Which.ObjectName.Should().Contain(nameof(DenseAutoencoder));
        File.Exists(folder.Combine("encoder.onnx")).Should().BeFalse();
    }

    [Fact]
    public void A_wrong_input_shape_keeps_only_the_first_line_of_the_native_message()
    {
        using var network = nn.Sequential(("linear", nn.Linear(10, 2)));
        var act = () => OnnxExport.Module(network, [7], folder.Combine("x.onnx"));
        var error = act.Should().Throw<ArgumentException>().Which;
        error.ParamName.Should().Be("inputShape");
        error.Message.Should().Contain("mat1 and mat2").And.NotContain("Exception raised from").And.NotContain("\n");
    }
}
