using LatentKit.Samples.Common.Results;
using LatentKit.Samples.ResultTable.CommandLine;
using LatentKit.Samples.ResultTable.Report;
using Spectre.Console.Testing;

namespace LatentKit.Samples.Tests.ResultTable;

public class ResultTableFormatterTests
{
    // Made-up figures that exercise the formatting; not results of any run.
    private static readonly ScenarioOutcome Dense = new(1, "dense, ReLU", 0.08123, null, 0.9012, 0.087, 0.89, true, 20, 10, TimeSpan.FromSeconds(3725));
    private static readonly ScenarioOutcome Variational = new(4, "variational", 0.1, 0.0321, 0.88, 0.050, 0.91, false, 30, 10, TimeSpan.FromSeconds(59));

    [Fact]
    public void Cells_show_three_decimals_the_kl_term_and_the_wall_time()
    {
        ResultTableFormatter.Cells(Dense).Should().Equal("1", "dense, ReLU", "0.081", "0.901", "0.087", "0.890", "20/10", "1:02:05", "✓ yes");
        ResultTableFormatter.Cells(Variational).Should().Equal(
            "4", "variational", "0.100 (KL 0.032)", "0.880", "0.050 (another quantity?)", "0.910", "30/10", "0:00:59", "✗ no");
    }

    [Fact]
    public void Meeting_the_reference_needs_the_accuracy_and_a_comparable_loss()
    {
        Dense.MeetsReference.Should().BeTrue();
        (Dense with { AutoencoderLoss = 0.09 }).MeetsReference.Should().BeFalse("the loss is above the original's");
        (Dense with { ClassifierAccuracy = 0.85 }).MeetsReference.Should().BeFalse("the accuracy is below the original's");
        (Variational with { ClassifierAccuracy = 0.95, AutoencoderLoss = 0.2 }).MeetsReference.Should().BeTrue("the VAE's loss is not compared");
        Variational.LossMeetsOriginal.Should().BeNull();
    }

    [Fact]
    public void Markdown_has_a_header_a_separator_and_one_line_per_scenario()
    {
        var lines = ResultTableFormatter.ToMarkdown([Dense, Variational]).TrimEnd('\n').Split('\n');

        lines.Should().HaveCount(4);
        lines[0].Should().StartWith("|  #  | scenario").And.Contain("| autoencoder loss |").And.EndWith("| meets original |");
        lines[1].Should().StartWith("| :-: | :---");
        lines[2].Should().Contain("| dense, ReLU |").And.Contain("1:02:05");
        lines[3].Should().Contain("0.100 (KL 0.032)");
        lines.Select(l => l.Length).Distinct().Should().ContainSingle("columns are padded to one width");
    }

    [Fact]
    public void The_console_table_shows_every_row()
    {
        var console = new TestConsole().Width(200);

        console.Write(ResultTableFormatter.ToConsoleTable([Dense, Variational]));

        console.Output.Should().Contain("dense, ReLU").And.Contain("variational").And.Contain("0.100 (KL 0.032)").And.Contain("meets original");
    }

    [Fact]
    public void The_results_document_serialises_settings_environment_and_scenarios()
    {
        var document = new ResultsDocument(
            new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero),
            new ResultTableSettings { Scenarios = [1, 4], Quick = true },
            RunEnvironment.Capture(),
            [Dense, Variational]);

        var json = JsonResultsWriter.Serialize(document);

        json.Should().Contain("\"scenarios\": [").And.Contain("\"quick\": true").And.Contain("\"torchSharpVersion\": \"0.107.0\"");
        json.Should().Contain("\"autoencoderLoss\": 0.08123").And.Contain("\"klDivergence\": 0.0321").And.Contain("\"meetsReference\": true");
        json.Should().Contain("\"wallTime\": \"01:02:05\"");
    }
}
