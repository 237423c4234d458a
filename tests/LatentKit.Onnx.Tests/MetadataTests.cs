using System.Text.Json;
using LatentKit.Onnx.Tests.Support;
using LatentKit.Tests.Support;
using Onnx;

namespace LatentKit.Onnx.Tests;

/// <summary>What the files say about themselves: opset, names, metadata; and the export options' checks.</summary>
public sealed class MetadataTests : IDisposable
{
    private readonly TempDirectory folder = new();

    [Fact]
    public void A_classifier_file_carries_version_normalisation_class_names_and_opset()
    {
        using var autoencoder = Autoencoders.Convolutional().WithChannels(4, 8).WithLatentSize(49).WithSeed(1).Build();
        using var classifier = LatentClassifier.For(autoencoder).WithSeed(2).Build();
        var info = OnnxExport.Classifier(classifier, folder.Combine("c.onnx"), new OnnxExportOptions { Metadata = new Dictionary<string, string> { ["owner"] = "tests" } });

        using var session = Ort.Open(info.Path);
        var metadata = session.ModelMetadata.CustomMetadataMap;
        metadata[OnnxMetadataKeys.Version].Should().Be(LatentKitInfo.Version);
        metadata[OnnxMetadataKeys.Graph].Should().Be("classifier");
        metadata[OnnxMetadataKeys.ModelKind].Should().Be("Convolutional");
        metadata[OnnxMetadataKeys.LatentSize].Should().Be("49");
        metadata[OnnxMetadataKeys.InputShape].Should().Be("1,28,28");
        metadata[OnnxMetadataKeys.InputNormalization].Should().Be(OnnxExport.PixelNormalization);
        JsonSerializer.Deserialize<string[]>(metadata[OnnxMetadataKeys.ClassNames]).Should().Equal("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");
        metadata["owner"].Should().Be("tests");
        info.Metadata.Should().BeEquivalentTo(metadata);
        session.ModelMetadata.ProducerName.Should().Be("LatentKit");
        session.InputMetadata[OnnxNames.Images].Dimensions.Should().Equal(-1, 1, 28, 28);
        session.InputMetadata[OnnxNames.Images].SymbolicDimensions[0].Should().Be("batch");

        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(info.Path));
        model.OpsetImport.Single().Version.Should().Be(OnnxExport.Opset).And.Be(17);
        model.IrVersion.Should().Be(OnnxExport.IrVersion);
    }

    [Fact]
    public void Class_names_and_normalisation_given_in_the_options_are_stored()
    {
        using var classifier = LatentClassifier.ForPixels().WithSeed(2).Build();
        string[] names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];
        var info = OnnxExport.Classifier(classifier, folder.Combine("c.onnx"), new OnnxExportOptions { ClassNames = names, InputNormalization = "bytes / 255" });

        JsonSerializer.Deserialize<string[]>(info.Metadata[OnnxMetadataKeys.ClassNames]).Should().Equal(names);
        info.Metadata[OnnxMetadataKeys.InputNormalization].Should().Be("bytes / 255");
        info.Metadata[OnnxMetadataKeys.ModelKind].Should().Be("Pixels");
    }

    [Fact]
    public void Encoder_metadata_has_no_class_names_and_decoder_input_is_codes()
    {
        using var model = Autoencoders.Variational().WithHiddenLayers(16).WithLatentSize(4).WithSeed(1).Build();
        var encoder = OnnxExport.Encoder(model, folder.Combine("e.onnx"));
        var decoder = OnnxExport.Decoder(model, folder.Combine("d.onnx"));

        encoder.Metadata.Should().NotContainKey(OnnxMetadataKeys.ClassNames);
        encoder.Metadata[OnnxMetadataKeys.Graph].Should().Be("encoder");
        encoder.Metadata[OnnxMetadataKeys.ModelKind].Should().Be("Variational");
        decoder.Metadata[OnnxMetadataKeys.InputNormalization].Should().StartWith("none: latent codes");
        decoder.Inputs.Single().ToString().Should().Be("codes: float32 [batch, 4]");
    }

    [Theory]
    [InlineData("count", "ClassNames has 2 names but the classifier has 10 outputs")]
    [InlineData("empty", "ClassNames[1] is empty")]
    [InlineData("reserved", "Metadata key 'latentkit.version' starts with 'latentkit.'")]
    [InlineData("normalisation", "InputNormalization is empty")]
    public void Invalid_options_are_refused_naming_the_setting(string which, string message)
    {
        using var classifier = LatentClassifier.ForPixels().WithSeed(2).Build();
        var options = which switch
        {
            "count" => new OnnxExportOptions { ClassNames = ["a", "b"] },
            "empty" => new OnnxExportOptions { ClassNames = ["a", " ", "c", "d", "e", "f", "g", "h", "i", "j"] },
            "reserved" => new OnnxExportOptions { Metadata = new Dictionary<string, string> { [OnnxMetadataKeys.Version] = "9" } },
            _ => new OnnxExportOptions { InputNormalization = "" },
        };

        var act = () => OnnxExport.Classifier(classifier, folder.Combine("c.onnx"), options);

        var error = act.Should().Throw<ArgumentException>().Which;
        error.ParamName.Should().Be("options");
        error.Message.Should().Contain(message);
        File.Exists(folder.Combine("c.onnx")).Should().BeFalse();
    }

    [Fact]
    public void Class_names_for_a_graph_without_classes_are_refused()
    {
        using var model = Autoencoders.Dense().WithHiddenLayers(16).WithLatentSize(4).WithSeed(1).Build();

        var act = () => OnnxExport.Encoder(model, folder.Combine("e.onnx"), new OnnxExportOptions { ClassNames = ["a"] });

        act.Should().Throw<ArgumentException>().WithMessage("*only classifiers take class names*");
    }

    [Fact]
    public void Exporting_replaces_an_existing_file()
    {
        using var model = Autoencoders.Dense().WithHiddenLayers(16).WithLatentSize(4).WithSeed(1).Build();
        var path = folder.Combine("e.onnx");
        File.WriteAllText(path, "old");

        OnnxExport.Encoder(model, path);

        ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph.Output.Single().Name.Should().Be(OnnxNames.Codes);
        Directory.GetFiles(folder.Path).Should().ContainSingle();
    }

    public void Dispose() => folder.Dispose();
}
