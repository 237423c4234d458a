namespace LatentKit;

/// <summary>
/// A data file given to a loader (<c>Dataset.FromIdx</c>, and <c>CsvDataset.Load</c> and <c>ImageFolder.Load</c> in the optional packages) or a sample read from
/// an <see cref="ISampleSource"/> is not valid: the message names the file, where the problem is (line and column, or
/// sample index) and what is wrong. Loaders never return a partial dataset: when this is thrown nothing was made.
/// (It derives from <see cref="IOException"/>: <see cref="InvalidDataException"/>, the framework's exception for bad
/// data, is sealed.)
/// </summary>
public class DatasetFormatException : IOException
{
    /// <summary>Creates the exception for <paramref name="file"/> with a description of the problem and where it is.</summary>
    /// <param name="file">The file (or source name) that is wrong.</param>
    /// <param name="problem">What is wrong, as a sentence.</param>
    /// <param name="line">The 1-based line of the problem, if it has one.</param>
    /// <param name="column">The 1-based column of the problem, if it has one.</param>
    /// <param name="sampleIndex">The 0-based sample of the problem, if it has one.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public DatasetFormatException(string file, string problem, int? line = null, int? column = null, int? sampleIndex = null, Exception? innerException = null)
        : base(Format(file, problem, line, column, sampleIndex), innerException)
    {
        File = file;
        Problem = problem;
        Line = line;
        Column = column;
        SampleIndex = sampleIndex;
    }

    /// <summary>The file (or source name) that is wrong.</summary>
    public string File { get; }

    /// <summary>What is wrong, without the place.</summary>
    public string Problem { get; }

    /// <summary>The 1-based line of the problem (text files), or <see langword="null"/>.</summary>
    public int? Line { get; }

    /// <summary>The 1-based column of the problem (text files), or <see langword="null"/>.</summary>
    public int? Column { get; }

    /// <summary>The 0-based index of the sample with the problem, or <see langword="null"/>.</summary>
    public int? SampleIndex { get; }

    private static string Format(string file, string problem, int? line, int? column, int? sampleIndex)
    {
        var place = string.Join(", ", new[]
        {
            line is { } l ? $"line {l}" : null,
            column is { } c ? $"column {c}" : null,
            sampleIndex is { } s ? $"sample {s}" : null,
        }.Where(p => p is not null));
        return place.Length == 0 ? $"Data file '{file}': {problem}" : $"Data file '{file}', {place}: {problem}";
    }
}
