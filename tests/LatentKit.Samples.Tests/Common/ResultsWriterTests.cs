using System.Text.Json;
using LatentKit.Samples.Common.Results;

namespace LatentKit.Samples.Tests.Common;

public class ResultsWriterTests
{
    private sealed record Sample(string Name, double Loss, double? Missing, ColumnAlignment Alignment);

    [Fact]
    public void Atomic_write_replaces_the_file_and_leaves_no_temporary_file()
    {
        using var directory = new TempDirectory();
        var path = directory.File("results.md");
        File.WriteAllText(path, "old");

        AtomicFile.WriteAllText(path, "new content");

        File.ReadAllText(path).Should().Be("new content");
        Directory.GetFiles(directory.Path).Should().ContainSingle().Which.Should().Be(path);
    }

    [Fact]
    public void Atomic_write_creates_missing_directories()
    {
        using var directory = new TempDirectory();
        var path = directory.File("a/b/c.bin");

        AtomicFile.WriteAllBytes(path, new byte[] { 1, 2, 3 });

        File.ReadAllBytes(path).Should().Equal(1, 2, 3);
    }

    [Fact]
    public void A_failed_atomic_write_keeps_the_old_file_and_removes_its_temporary_file()
    {
        using var directory = new TempDirectory();

        // The target is a directory: the final rename fails after the temporary file was written.
        var target = directory.File("taken");
        Directory.CreateDirectory(target);

        var act = () => AtomicFile.WriteAllText(target, "x");

        act.Should().Throw<IOException>();
        Directory.GetFiles(directory.Path).Should().BeEmpty("the temporary file must be deleted");
        Directory.Exists(target).Should().BeTrue();
    }

    [Fact]
    public void Json_is_indented_camel_case_with_enums_as_strings_and_nan_as_a_string()
    {
        var json = JsonResultsWriter.Serialize(new Sample("scenario 1", double.NaN, null, ColumnAlignment.Right));

        json.Should().Contain("\n  \"name\": \"scenario 1\"");
        json.Should().Contain("\"loss\": \"NaN\"");
        json.Should().Contain("\"missing\": null");
        json.Should().Contain("\"alignment\": \"right\"");
        json.Should().EndWith("}\n");
    }

    [Fact]
    public void Json_round_trips_through_a_file()
    {
        using var directory = new TempDirectory();
        var path = directory.File("results.json");
        var value = new Sample("scenario 2", 0.0791, 1.5, ColumnAlignment.Center);

        JsonResultsWriter.Write(path, value);

        JsonResultsWriter.Read<Sample>(path).Should().Be(value);
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        document.RootElement.GetProperty("loss").GetDouble().Should().Be(0.0791);
        Directory.GetFiles(directory.Path).Should().ContainSingle();
    }

    [Fact]
    public void Markdown_table_pads_columns_and_writes_the_alignment_row()
    {
        var table = new MarkdownTable(("#", ColumnAlignment.Center), ("scenario", ColumnAlignment.Left), ("loss", ColumnAlignment.Right));
        table.AddRow("1", "dense, ReLU", "0.087");
        table.AddRow("2", "conv", "0.1");

        table.ToString().Should().Be(
            "|  #  | scenario    |  loss |\n" +
            "| :-: | :---------- | ----: |\n" +
            "|  1  | dense, ReLU | 0.087 |\n" +
            "|  2  | conv        |   0.1 |\n");
        table.RowCount.Should().Be(2);
    }

    [Fact]
    public void Markdown_cells_escape_pipes_and_flatten_line_breaks()
    {
        var table = new MarkdownTable(("a|b", ColumnAlignment.Left));
        table.AddRow("x | y\nz");
        table.AddRow((string?)null);

        table.ToString().Should().Be(
            "| a\\|b     |\n" +
            "| :------- |\n" +
            "| x \\| y z |\n" +
            "|          |\n");
    }

    [Fact]
    public void A_row_with_the_wrong_number_of_cells_is_refused()
    {
        var table = new MarkdownTable(("a", ColumnAlignment.Left), ("b", ColumnAlignment.Left));

        FluentActions.Invoking(() => table.AddRow("only one")).Should().Throw<ArgumentException>().WithMessage("*1 cells*2 columns*");
    }
}
