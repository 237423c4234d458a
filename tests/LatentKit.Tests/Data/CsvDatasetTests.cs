using LatentKit.Csv;
using LatentKit.Tests.Support;

namespace LatentKit.Tests.Data;

public sealed class CsvDatasetTests : IDisposable
{
    private readonly TempDirectory folder = new();

    public void Dispose() => folder.Dispose();

    private string Write(string text, string name = "data.csv")
    {
        var path = folder.Combine(name);
        File.WriteAllText(path, text);
        return path;
    }

    private static float[] Values(Dataset data)
    {
        using var batch = data.GetBatches(1000).Single();
        return batch.Samples.data<float>().ToArray();
    }

    [Fact]
    public void A_file_with_a_header_and_integer_labels_loads()
    {
        var path = Write("a,b,label,c\n1,2.5,1,-3\n\"4\",5e-1,0,6\n\n7,8,2,9\n");

        var data = CsvDataset.Load(path, new CsvLoadOptions { LabelColumn = "label" });

        data.Name.Should().Be("data.csv");
        data.Count.Should().Be(3);
        data.SampleShape.Should().Equal(3);
        data.ValueRange.Should().Be(SampleRange.Unbounded);
        data.ClassCount.Should().Be(3);
        data.ClassNames.Should().Equal("0", "1", "2");
        Enumerable.Range(0, 3).Select(data.GetLabel).Should().Equal(1, 0, 2);
        Values(data).Should().Equal(1, 2.5f, -3, 4, 0.5f, 6, 7, 8, 9);
    }

    [Fact]
    public void String_labels_become_sorted_class_names_and_given_names_keep_their_order()
    {
        var path = Write("x;y;kind\n1;2;dog\n3;4;cat\n5;6;\"eel, long\"\n7;8;cat\n");
        var sorted = CsvDataset.Load(path, new CsvLoadOptions { Separator = ';', LabelColumnIndex = 2 });
        sorted.ClassNames.Should().Equal("cat", "dog", "eel, long");
        Enumerable.Range(0, 4).Select(sorted.GetLabel).Should().Equal(1, 0, 2, 0);

        var given = CsvDataset.Load(path, new CsvLoadOptions { Separator = ';', LabelColumn = "kind", ClassNames = ["eel, long", "dog", "cat", "fox"] });
        given.ClassCount.Should().Be(4);
        Enumerable.Range(0, 4).Select(given.GetLabel).Should().Equal(1, 2, 0, 2);
        given.CountPerClass().Should().Equal(1, 1, 2, 0);
    }

    [Fact]
    public void An_unlabelled_file_without_header_loads_as_images_and_trains()
    {
        var random = new Random(4);
        var lines = Enumerable.Range(0, 24).Select(_ => string.Join(",", Enumerable.Range(0, 784).Select(_ => random.NextDouble().ToString("R", System.Globalization.CultureInfo.InvariantCulture))));
        var path = Write(string.Join("\r\n", lines));

        var data = CsvDataset.Load(path, new CsvLoadOptions { HasHeader = false, SampleShape = [1, 28, 28], ValueRange = SampleRange.ZeroToOne });

        data.HasLabels.Should().BeFalse();
        data.Count.Should().Be(24);
        data.SampleShape.Should().Equal(1, 28, 28);
        data.ValueRange.Should().Be(SampleRange.ZeroToOne);
        using var model = SmallModels.Build(AutoencoderKind.Dense);
        model.Train(data, new TrainingOptions { Epochs = 1, BatchSize = 8, ValidationFraction = null }, new TrainingRun { Threads = 1 }).Epochs.Should().ContainSingle();
    }

    public static TheoryData<string, string, CsvLoadOptions, int?, int?, string> BadFiles => new()
    {
        { "not a number", "a,b\n1,2\n3,x7\n", new(), 3, 2, "the cell 'x7' is not a number" },
        { "quoted not a number", "a,b\n\"1,5\",2\n", new(), 2, 1, "the cell '1,5' is not a number" },
        { "ragged short", "a,b,c\n1,2,3\n4,5\n", new(), 3, 3, "the row has 2 cells, but the header has 3" },
        { "ragged long", "1,2\n3,4,5\n", new() { HasHeader = false }, 2, 3, "the row has 3 cells, but the first row has 2" },
        { "missing label column", "a,b\n1,2\n", new() { LabelColumn = "label" }, 1, null, "has no column 'label' (CsvLoadOptions.LabelColumn); its columns are 'a', 'b'" },
        { "label index outside", "a,b\n1,2\n", new() { LabelColumnIndex = 2 }, 1, null, "has 2 columns, so the label column index 2 (CsvLoadOptions.LabelColumnIndex) is missing" },
        { "label outside names", "a,l\n1,cat\n2,3\n", new() { LabelColumn = "l", ClassNames = ["cat", "dog"] }, 3, 2, "the label '3' is neither one of the 2 class names nor a class index 0..1" },
        { "negative label", "a,l\n1,0\n2,-1\n", new() { LabelColumn = "l" }, 3, 2, "the label -1 is outside 0..99999" },
        { "integer label beyond int", "a,l\n1,0\n2,99999999999\n", new() { LabelColumn = "l" }, 3, 2, "the label 99999999999 is outside 0..99999; integer labels are class indices." },
        { "indices and names", "a,l\n1,0\n2,0\n3,cat\n", new() { LabelColumn = "l" }, 4, 2, "the label column mixes class indices (such as '0', line 2) and names (such as 'cat', line 4); use indices only or names only" },
        { "a decimal label", "a,l\n1,1.5\n2,0\n", new() { LabelColumn = "l" }, 2, 2, "mixes class indices (such as '0', line 3) and names (such as '1.5', line 2)" },
        { "empty label", "a,l\n1,\n", new() { LabelColumn = "l" }, 2, 2, "the label cell is empty" },
        { "empty file", "", new(), 1, null, "is empty: no header and no data rows" },
        { "empty file no header", "", new() { HasHeader = false }, 1, null, "is empty: no data rows" },
        { "header only", "a,b\n", new(), 2, null, "has a header but no data rows" },
        { "nan", "a,b\n1,NaN\n", new(), 2, 2, "the value 'NaN' is not finite as a float32" },
        { "overflow", "a,b\n1,1e39\n", new(), 2, 2, "the value '1e39' is not finite as a float32" },
        { "range", "a,b\n0.5,1.5\n", new() { ValueRange = SampleRange.ZeroToOne }, 2, 2, "the value '1.5' is outside [0, 1]" },
        { "shape", "a,b,c\n1,2,3\n", new() { SampleShape = [2, 2] }, 2, null, "rows hold 3 values, but CsvLoadOptions.SampleShape [2, 2] needs 4" },
        { "only labels", "l\n1\n", new() { LabelColumn = "l" }, 2, null, "the rows hold no value columns besides the label" },
        { "a label column not set", "a,state\n1,idle\n", new(), 2, 2, "the cell 'idle' is not a number. If column 'state' holds labels, set CsvLoadOptions.LabelColumn = \"state\"." },
        { "first row without header", "x,2\n3,4\n", new() { HasHeader = false }, 1, 1, "the cell 'x' is not a number" },
        { "first row of two lines without header", "\"a\nb\",2\n", new() { HasHeader = false }, 1, 1, "is not a number" },
        { "third row without header", "1,2\n3,4\nx,2\n", new() { HasHeader = false }, 3, 1, "the cell 'x' is not a number" },
        { "after blank lines without header", "\n\nx,2\n", new() { HasHeader = false }, 3, 1, "the cell 'x' is not a number" },
        { "a label column not set, no header", "1,idle\n", new() { HasHeader = false }, 1, 2, "the cell 'idle' is not a number. If column 2 holds labels, set CsvLoadOptions.LabelColumnIndex = 1." },
        { "another separator", "a;b;label\n1;2;0\n", new() { LabelColumn = "label" }, 1, null, "its columns are 'a;b;label'. The header looks separated by ';': set CsvLoadOptions.Separator = ';'." },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void A_bad_file_is_refused_with_file_line_and_column(string why, string text, CsvLoadOptions options, int? line, int? column, string message)
    {
        var path = Write(text, why.Replace(' ', '-') + ".csv");
        var error = Assert.Throws<DatasetFormatException>(() => CsvDataset.Load(path, options));
        error.File.Should().Be(path, why);
        error.Line.Should().Be(line, why);
        error.Column.Should().Be(column, why);
        error.Message.Should().Contain(message, why);
        error.Message.Should().StartWith($"Data file '{path}', line {line}", why);
    }

    public static TheoryData<string, CsvLoadOptions, string> BadOptions => new()
    {
        { "both label columns", new() { LabelColumn = "a", LabelColumnIndex = 0 }, "give LabelColumn (a name) or LabelColumnIndex, not both" },
        { "name without header", new() { LabelColumn = "a", HasHeader = false }, "names a column, but HasHeader is false" },
        { "negative index", new() { LabelColumnIndex = -1 }, "must not be negative" },
        { "names without labels", new() { ClassNames = ["a"] }, "ClassNames were given without a label column" },
        { "quote separator", new() { Separator = '"' }, "cannot be a quote or a line break" },
        { "negative sample shape", new() { SampleShape = [-1, -2] }, "CsvLoadOptions.SampleShape [-1, -2]" },
        { "empty sample shape", new() { SampleShape = [] }, "CsvLoadOptions.SampleShape" },
        { "unknown value range", new() { ValueRange = (SampleRange)7 }, "CsvLoadOptions.ValueRange" },
        { "repeated class names", new() { LabelColumn = "b", ClassNames = ["x", "x"] }, "CsvLoadOptions.ClassNames" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Contradictory_options_are_refused(string why, CsvLoadOptions options, string message)
    {
        var path = Write("a,b\n1,2\n");
        var error = Assert.ThrowsAny<ArgumentException>(() => CsvDataset.Load(path, options));
        error.ParamName.Should().Be("options", why);
        error.Message.Should().Contain(message, why);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        Assert.Throws<FileNotFoundException>(() => CsvDataset.Load(folder.Combine("none.csv"))).Message.Should().Contain("none.csv' does not exist");
    }

    [Fact]
    public void A_header_with_many_repeated_column_names_gives_a_short_message()
    {
        // The audit: 1,000,000 repeated names gave a message listing every position (257 MB).
        var header = string.Join(",", Enumerable.Repeat("x", 5_000));
        var path = Write(header + "\n" + string.Join(",", Enumerable.Repeat("1", 5_000)) + "\n");

        var error = Assert.Throws<DatasetFormatException>(() => CsvDataset.Load(path));

        error.Message.Length.Should().BeLessThan(1_000);
        error.Message.Should().Contain("'x'").And.Contain("5,000 times").And.Contain("and 4,990 more");
        error.Line.Should().Be(1);
    }

    [Fact]
    public void A_folder_given_as_the_file_is_named_as_a_folder()
    {
        var act = () => CsvDataset.Load(folder.Path);
        act.Should().Throw<FileNotFoundException>().WithMessage($"*'{folder.Path}' is a folder, not a file*");
    }
}
