using System.Globalization;
using nietras.SeparatedValues;

namespace LatentKit.Csv;

/// <summary>Loads a CSV file of numbers as a LatentKit <see cref="Dataset"/> (the optional package LatentKit.Csv, reading with the Sep library).</summary>
public static class CsvDataset
{
    /// <summary>
    /// A dataset from a CSV file of numbers (read with the Sep library): one sample per row, every cell a finite number
    /// (invariant culture: <c>.</c> is the decimal point; quoted cells are unquoted), and an optional label column holding
    /// integer class indices or class names (see <see cref="CsvLoadOptions.ClassNames"/>). Empty lines are skipped.
    /// The file is read once, row by row, checking as it goes (at most <see cref="Dataset.MaxSampleCount"/> rows and
    /// <see cref="Dataset.MaxSampleSize"/> values per row, and no more values in all than one .NET array holds); any problem
    /// throws a <see cref="DatasetFormatException"/> with the file, line and column, and nothing partial is returned.
    /// The samples are held in memory as float32 (4 bytes per value).
    /// </summary>
    /// <param name="path">The CSV file.</param>
    /// <param name="options">Header, separator, label column, class names, sample shape, value range (default: header, comma, no labels).</param>
    /// <exception cref="DatasetFormatException">
    /// A cell is not a number or not finite (or outside [0, 1] when asked), a row has a different number of cells, the
    /// label column is missing, a label is empty, negative or outside the class names, the header repeats a column name
    /// (the message names at most 10 of its positions), the file has no data rows, or a limit is exceeded.
    /// </exception>
    /// <exception cref="FileNotFoundException">The file does not exist, or the path is a folder.</exception>
    /// <exception cref="ArgumentException">The options contradict each other (for example a label column by name without a header) or are invalid (an unknown <see cref="CsvLoadOptions.ValueRange"/>, a <see cref="CsvLoadOptions.SampleShape"/> dimension below 1, empty or repeated <see cref="CsvLoadOptions.ClassNames"/>); checked before the file is read.</exception>
    public static Dataset Load(string path, CsvLoadOptions? options = null)
    {
        options ??= new CsvLoadOptions();
        CheckCsvOptions(options);
        using var stream = OpenForReading(path);
        var name = Path.GetFileName(path);
        try
        {
            using var reader = Sep.Reader(o => o with
            {
                Sep = new Sep(options.Separator),
                // The header is read as the first row here, not by Sep: Sep's message for a repeated column name lists
                // every position (257 MB for a million), LatentKit's names the first few.
                HasHeader = false,
                DisableColCountCheck = true,
                Unescape = true,
                CultureInfo = CultureInfo.InvariantCulture,
            }).From(stream);
            return ReadCsv(reader, path, name, options);
        }
        catch (DatasetFormatException)
        {
            throw;
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException or ArgumentException)
        {
            throw new DatasetFormatException(path, $"cannot be read as CSV: {e.Message}", innerException: e);
        }
    }

    /// <summary>Opens the file, or says which one is missing (as the core's file loaders do).</summary>
    private static FileStream OpenForReading(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            // The core's rule (its FilePaths.FileProblem is internal to it): a folder is named as one.
            var problem = Directory.Exists(path) ? "is a folder, not a file: give the path of the file itself." : "does not exist.";
            throw new FileNotFoundException($"Data file '{path}' {problem}", path);
        }

        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
    }

    private static void CheckCsvOptions(CsvLoadOptions options)
    {
        if (options.LabelColumn is not null && options.LabelColumnIndex is not null)
        {
            throw new ArgumentException("CsvLoadOptions: give LabelColumn (a name) or LabelColumnIndex, not both.", nameof(options));
        }

        if (options.LabelColumn is not null && !options.HasHeader)
        {
            throw new ArgumentException($"CsvLoadOptions.LabelColumn = '{options.LabelColumn}' names a column, but HasHeader is false; give LabelColumnIndex instead.", nameof(options));
        }

        if (options.LabelColumnIndex is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.LabelColumnIndex, "CsvLoadOptions.LabelColumnIndex must not be negative.");
        }

        if (options.ClassNames is not null && options.LabelColumn is null && options.LabelColumnIndex is null)
        {
            throw new ArgumentException("CsvLoadOptions.ClassNames were given without a label column.", nameof(options));
        }

        if (options.Separator is '"' or '\r' or '\n')
        {
            throw new ArgumentException($"CsvLoadOptions.Separator cannot be a quote or a line break.", nameof(options));
        }

        // The value range, the sample shape and the class names follow the core's rules for datasets (those of
        // Dataset.FromSamples and Dataset.FromSource): each is checked by describing an empty dataset with it, so an
        // invalid one is refused here, before the file is read, as an ArgumentException naming the option.
        CheckWithCoreRule(nameof(CsvLoadOptions.ValueRange), options.ValueRange.ToString(), () => Dataset.FromSamples([], [1], options.ValueRange, nameof(CsvLoadOptions)));
        if (options.SampleShape is { } shape)
        {
            CheckWithCoreRule(nameof(CsvLoadOptions.SampleShape), $"[{string.Join(", ", shape)}]", () => Dataset.FromSamples([], shape, SampleRange.Unbounded, nameof(CsvLoadOptions)));
        }

        if (options.ClassNames is { } names)
        {
            CheckWithCoreRule(nameof(CsvLoadOptions.ClassNames), $"[{string.Join(", ", names.Take(10).Select(n => $"'{n}'"))}{(names.Count > 10 ? ", ..." : string.Empty)}]", () => Dataset.FromSamples([], [1], [], names.Count, names, SampleRange.Unbounded, nameof(CsvLoadOptions)));
        }
    }

    private static void CheckWithCoreRule(string option, string value, Action describe)
    {
        try
        {
            describe();
        }
        catch (ArgumentException e)
        {
            var reason = e.Message.Split('\n')[0];
            var suffix = e.ParamName is null ? -1 : reason.LastIndexOf($" (Parameter '{e.ParamName}')", StringComparison.Ordinal);
            throw new ArgumentException($"CsvLoadOptions.{option} {value} is invalid: {(suffix >= 0 ? reason[..suffix] : reason)}", "options", e);
        }
    }

    private static Dataset ReadCsv(SepReader reader, string path, string name, CsvLoadOptions options)
    {
        var width = -1;
        var labelColumn = -1;
        var headerPending = options.HasHeader;

        var values = new float[1024];
        long valueCount = 0;
        var rows = 0;
        var labelIndices = new List<int>();
        var labelTexts = new Dictionary<string, int>(StringComparer.Ordinal);
        var labelNames = new List<(string Text, int Line, int Column)>();
        int[]? shape = null;
        var sampleSize = 0;
        var firstRow = true;
        string[]? header = null;
        foreach (var row in reader)
        {
            // Sep reads every row here (the header too, see Load) and reports the first row as starting where it ends
            // (line 2 for a one-line row); that row starts at line 1.
            var line = firstRow ? 1 : row.LineNumberFrom;
            firstRow = false;
            if (row.Span.Length == 0)
            {
                continue;
            }

            if (headerPending)
            {
                headerPending = false;
                header = new string[row.ColCount];
                for (var c = 0; c < header.Length; c++)
                {
                    header[c] = row[c].ToString();
                }

                CheckHeader(header, path, line);
                width = header.Length;
                labelColumn = FindLabelColumn(header, width, path, options);
                continue;
            }

            if (width < 0)
            {
                width = row.ColCount;
                labelColumn = FindLabelColumn(null, width, path, options);
            }

            if (row.ColCount != width)
            {
                throw new DatasetFormatException(path, $"the row has {row.ColCount} cells, but {(options.HasHeader ? "the header has" : "the first row has")} {width}; every row needs the same number of cells.", line, Math.Min(row.ColCount, width) + 1);
            }

            if (shape is null)
            {
                sampleSize = width - (labelColumn >= 0 ? 1 : 0);
                shape = CsvShape(sampleSize, path, line, options);
            }

            if (rows == Dataset.MaxSampleCount)
            {
                throw new DatasetFormatException(path, $"has more than Dataset.MaxSampleCount ({Dataset.MaxSampleCount}) data rows.", line);
            }

            if (valueCount + sampleSize > Array.MaxLength)
            {
                throw new DatasetFormatException(path, $"holds more values than one .NET array can ({Array.MaxLength}); split the file or give the samples through Dataset.FromSource.", line);
            }

            if (valueCount + sampleSize > values.Length)
            {
                Array.Resize(ref values, (int)Math.Min(Array.MaxLength, Math.Max(valueCount + sampleSize, (long)values.Length * 2)));
            }

            for (var c = 0; c < width; c++)
            {
                var cell = row[c].Span;
                if (c == labelColumn)
                {
                    labelIndices.Add(ReadLabelCell(cell, path, line, c + 1, options, labelTexts, labelNames));
                    continue;
                }

                if (!float.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                {
                    throw new DatasetFormatException(path, $"the cell '{Shorten(cell)}' is not a number.{LabelColumnHint(header, c, options)}", line, c + 1);
                }

                if (!float.IsFinite(v) || (options.ValueRange == SampleRange.ZeroToOne && (v < 0 || v > 1)))
                {
                    throw new DatasetFormatException(path, $"the value '{Shorten(cell)}' is {(float.IsFinite(v) ? "outside [0, 1] (CsvLoadOptions.ValueRange is ZeroToOne)" : "not finite as a float32")}.", line, c + 1);
                }

                values[valueCount++] = v;
            }

            rows++;
        }

        if (headerPending)
        {
            throw new DatasetFormatException(path, "is empty: no header and no data rows.", line: 1);
        }

        if (rows == 0)
        {
            throw new DatasetFormatException(path, options.HasHeader ? "has a header but no data rows." : "is empty: no data rows.", options.HasHeader ? 2 : 1);
        }

        // Every value and label was checked above; Dataset.FromSamples copies the values once (as the final trim did before).
        var samples = values.AsSpan(0, (int)valueCount);
        if (labelColumn < 0)
        {
            return Dataset.FromSamples(samples, shape!, options.ValueRange, name);
        }

        var (labels, classCount, classNames) = ResolveCsvLabels(labelIndices, labelNames, path, options);
        return Dataset.FromSamples(samples, shape!, labels, classCount, classNames, options.ValueRange, name);
    }

    /// <summary>Without a label column set: which setting would read a text column as labels (the column's name when there is a header).</summary>
    private static string LabelColumnHint(string[]? header, int column, CsvLoadOptions options)
    {
        if (options.LabelColumn is not null || options.LabelColumnIndex is not null)
        {
            return string.Empty;
        }

        return header is not null && column < header.Length
            ? $" If column '{Shorten(header[column])}' holds labels, set CsvLoadOptions.LabelColumn = \"{Shorten(header[column])}\"."
            : $" If column {column + 1} holds labels, set CsvLoadOptions.LabelColumnIndex = {column}.";
    }

    /// <summary>A header read as one column that holds another common separator: the file is probably separated by it.</summary>
    private static string SeparatorHint(IReadOnlyList<string> header, CsvLoadOptions options)
    {
        if (header.Count != 1)
        {
            return string.Empty;
        }

        foreach (var candidate in new[] { ';', '\t', '|', ',' })
        {
            if (candidate != options.Separator && header[0].Contains(candidate, StringComparison.Ordinal))
            {
                var shown = candidate == '\t' ? "'\\t'" : $"'{candidate}'";
                return $" The header looks separated by {shown}: set CsvLoadOptions.Separator = {shown}.";
            }
        }

        return string.Empty;
    }

    /// <summary>Refuses a header that repeats a column name, naming the first repeated name and at most <see cref="MaxListedPositions"/> of its positions.</summary>
    private static void CheckHeader(string[] header, string path, int line)
    {
        if (header.Length > Dataset.MaxSampleSize + 1)
        {
            throw new DatasetFormatException(path, $"the header's {header.Length:N0} columns are more than Dataset.MaxSampleSize ({Dataset.MaxSampleSize}) values and a label.", line);
        }

        var first = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var c = 0; c < header.Length; c++)
        {
            if (first.TryAdd(header[c], c))
            {
                continue;
            }

            var name = header[c];
            var positions = Enumerable.Range(0, header.Length).Where(i => string.Equals(header[i], name, StringComparison.Ordinal)).ToArray();
            var listed = string.Join(", ", positions.Take(MaxListedPositions).Select(i => (i + 1).ToString(CultureInfo.InvariantCulture)));
            var more = positions.Length > MaxListedPositions ? $" and {positions.Length - MaxListedPositions:N0} more" : string.Empty;
            throw new DatasetFormatException(path, $"the header names column '{Shorten(name)}' {positions.Length:N0} times (columns {listed}{more}); every column needs its own name.", line, positions[1] + 1);
        }
    }

    /// <summary>The most positions a message lists.</summary>
    private const int MaxListedPositions = 10;

    private static int FindLabelColumn(IReadOnlyList<string>? header, int width, string path, CsvLoadOptions options)
    {
        if (options.LabelColumn is { } column)
        {
            var index = header!.ToList().IndexOf(column);
            if (index < 0)
            {
                throw new DatasetFormatException(path, $"has no column '{column}' (CsvLoadOptions.LabelColumn); its columns are {string.Join(", ", header!.Take(20).Select(h => $"'{h}'"))}{(header!.Count > 20 ? ", ..." : string.Empty)}.{SeparatorHint(header, options)}", line: 1);
            }

            return index;
        }

        if (options.LabelColumnIndex is { } at && at >= width)
        {
            throw new DatasetFormatException(path, $"has {width} columns, so the label column index {at} (CsvLoadOptions.LabelColumnIndex) is missing.", line: 1);
        }

        if (width > Dataset.MaxSampleSize + 1)
        {
            throw new DatasetFormatException(path, $"rows of {width} cells hold more than Dataset.MaxSampleSize ({Dataset.MaxSampleSize}) values.", line: 1);
        }

        return options.LabelColumnIndex ?? -1;
    }

    private static int[] CsvShape(int sampleSize, string path, int line, CsvLoadOptions options)
    {
        if (sampleSize < 1)
        {
            throw new DatasetFormatException(path, "the rows hold no value columns besides the label.", line);
        }

        if (options.SampleShape is null)
        {
            return [sampleSize];
        }

        var shape = options.SampleShape.ToArray();
        var needed = (int)shape.Aggregate(1L, (product, d) => product * d);
        if (needed != sampleSize || shape.Any(d => d < 1))
        {
            throw new DatasetFormatException(path, $"rows hold {sampleSize} values, but CsvLoadOptions.SampleShape [{string.Join(", ", shape)}] needs {needed}.", line);
        }

        return shape;
    }

    /// <summary>A label cell: a class name (when names are given or collected) or an integer; returns its class (or, for collected names, the name's first-seen number).</summary>
    private static int ReadLabelCell(ReadOnlySpan<char> cell, string path, int line, int column, CsvLoadOptions options, Dictionary<string, int> texts, List<(string Text, int Line, int Column)> names)
    {
        cell = cell.Trim();
        if (cell.IsEmpty)
        {
            throw new DatasetFormatException(path, "the label cell is empty.", line, column);
        }

        if (options.ClassNames is { } given)
        {
            for (var i = 0; i < given.Count; i++)
            {
                if (cell.SequenceEqual(given[i]))
                {
                    return i;
                }
            }

            if (int.TryParse(cell, NumberStyles.Integer, CultureInfo.InvariantCulture, out var index) && index >= 0 && index < given.Count)
            {
                return index;
            }

            throw new DatasetFormatException(path, $"the label '{Shorten(cell)}' is neither one of the {given.Count} class names nor a class index 0..{given.Count - 1}.", line, column);
        }

        // Collect every distinct text with the line and column of its first use; decided at the end (all integers or names).
        var text = cell.ToString();
        if (!texts.TryGetValue(text, out var number))
        {
            if (texts.Count == Dataset.MaxClassCount)
            {
                throw new DatasetFormatException(path, $"the label column holds more than Dataset.MaxClassCount ({Dataset.MaxClassCount}) distinct labels.", line, column);
            }

            number = texts.Count;
            texts.Add(text, number);
            names.Add((text, line, column));
        }

        return number;
    }

    private static (int[] Labels, int ClassCount, IReadOnlyList<string>? ClassNames) ResolveCsvLabels(List<int> rowLabels, List<(string Text, int Line, int Column)> distinct, string path, CsvLoadOptions options)
    {
        if (options.ClassNames is { } given)
        {
            return (rowLabels.ToArray(), given.Count, given);
        }

        // Integer texts (digits with an optional sign, of any length) are class indices, any other text a name; a
        // column of both is refused rather than guessed (a '0' beside 'cat', or a '1.5', is a data error more often
        // than a class called '0').
        var firstIndex = distinct.FindIndex(d => IsIntegerText(d.Text));
        var firstName = distinct.FindIndex(d => !IsIntegerText(d.Text));
        if (firstIndex >= 0 && firstName >= 0)
        {
            var (index, indexLine, _) = distinct[firstIndex];
            var (name, nameLine, nameColumn) = distinct[firstName];
            throw new DatasetFormatException(
                path,
                $"the label column mixes class indices (such as '{Shorten(index)}', line {indexLine}) and names (such as '{Shorten(name)}', line {nameLine}); use indices only or names only, or give every class name in CsvLoadOptions.ClassNames.",
                nameLine,
                nameColumn);
        }

        if (firstName < 0)
        {
            var integers = new int[distinct.Count];
            for (var i = 0; i < distinct.Count; i++)
            {
                if (!long.TryParse(distinct[i].Text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < 0 || value >= Dataset.MaxClassCount)
                {
                    var (text, line, column) = distinct[i];
                    throw new DatasetFormatException(path, $"the label {Shorten(text)} is outside 0..{Dataset.MaxClassCount - 1}; integer labels are class indices.", line, column);
                }

                integers[i] = (int)value;
            }

            var classCount = integers.Max() + 1;
            return (rowLabels.Select(l => integers[l]).ToArray(), classCount, null);
        }

        var sorted = distinct.Select(d => d.Text).Order(StringComparer.Ordinal).ToArray();
        var classOf = new int[distinct.Count];
        for (var i = 0; i < distinct.Count; i++)
        {
            classOf[i] = Array.BinarySearch(sorted, distinct[i].Text, StringComparer.Ordinal);
        }

        return (rowLabels.Select(l => classOf[l]).ToArray(), sorted.Length, sorted);
    }

    /// <summary>Digits with an optional leading sign: a class index however large (a larger one is refused as out of range, not read as a name).</summary>
    private static bool IsIntegerText(string text)
    {
        var digits = text.AsSpan(text.Length > 0 && text[0] is '+' or '-' ? 1 : 0);
        return !digits.IsEmpty && !digits.ContainsAnyExceptInRange('0', '9');
    }

    private static string Shorten(ReadOnlySpan<char> cell) => cell.Length <= 40 ? cell.ToString() : string.Concat(cell[..40], "...");
}
