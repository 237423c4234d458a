using System.Text;

namespace LatentKit.Samples.Common.Results;

/// <summary>
/// Builds a GitHub-flavoured markdown table whose source is readable too: every column is padded to its widest
/// cell. Pipes in cells are escaped and line breaks become spaces.
/// </summary>
/// <example>
/// <code>
/// var table = new MarkdownTable(("#", ColumnAlignment.Center), ("scenario", ColumnAlignment.Left));
/// table.AddRow("1", "dense, ReLU");
/// string markdown = table.ToString();
/// </code>
/// </example>
public sealed class MarkdownTable
{
    private readonly string[] headers;
    private readonly ColumnAlignment[] alignments;
    private readonly List<string[]> rows = [];

    /// <summary>Creates a table with the given column headers and alignments.</summary>
    /// <exception cref="ArgumentException">No columns are given.</exception>
    public MarkdownTable(params (string Header, ColumnAlignment Alignment)[] columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        if (columns.Length == 0)
        {
            throw new ArgumentException("A table needs at least one column.", nameof(columns));
        }

        headers = columns.Select(c => Escape(c.Header)).ToArray();
        alignments = columns.Select(c => c.Alignment).ToArray();
    }

    /// <summary>Number of columns.</summary>
    public int ColumnCount => headers.Length;

    /// <summary>Number of rows added so far (the header not counted).</summary>
    public int RowCount => rows.Count;

    /// <summary>Adds a row; null cells are written empty.</summary>
    /// <exception cref="ArgumentException">The row does not have <see cref="ColumnCount"/> cells.</exception>
    public MarkdownTable AddRow(params string?[] cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        if (cells.Length != headers.Length)
        {
            throw new ArgumentException($"The row has {cells.Length} cells; the table has {headers.Length} columns.", nameof(cells));
        }

        rows.Add(cells.Select(c => Escape(c ?? string.Empty)).ToArray());
        return this;
    }

    /// <summary>The table as markdown, one line per row, each line ending in a newline.</summary>
    public override string ToString()
    {
        var widths = new int[headers.Length];
        for (var c = 0; c < headers.Length; c++)
        {
            // The separator needs at least three characters (":-:").
            widths[c] = Math.Max(3, Math.Max(headers[c].Length, rows.Count == 0 ? 0 : rows.Max(r => r[c].Length)));
        }

        var text = new StringBuilder();
        AppendLine(text, headers, widths);
        text.Append('|');
        for (var c = 0; c < headers.Length; c++)
        {
            text.Append(' ').Append(Separator(alignments[c], widths[c])).Append(" |");
        }

        text.Append('\n');
        foreach (var row in rows)
        {
            AppendLine(text, row, widths);
        }

        return text.ToString();
    }

    /// <summary>Escapes a cell: backslashes and pipes get a backslash, line breaks become spaces, ends are trimmed.</summary>
    public static string Escape(string cell)
    {
        ArgumentNullException.ThrowIfNull(cell);
        return cell.Replace("\\", "\\\\", StringComparison.Ordinal)
            .Replace("|", "\\|", StringComparison.Ordinal)
            .Replace("\r\n", " ", StringComparison.Ordinal)
            .Replace('\n', ' ')
            .Replace('\r', ' ')
            .Trim();
    }

    private void AppendLine(StringBuilder text, string[] cells, int[] widths)
    {
        text.Append('|');
        for (var c = 0; c < cells.Length; c++)
        {
            text.Append(' ').Append(Pad(cells[c], widths[c], alignments[c])).Append(" |");
        }

        text.Append('\n');
    }

    private static string Pad(string cell, int width, ColumnAlignment alignment)
    {
        var missing = width - cell.Length;
        return alignment switch
        {
            ColumnAlignment.Right => new string(' ', missing) + cell,
            ColumnAlignment.Center => new string(' ', missing / 2) + cell + new string(' ', missing - (missing / 2)),
            _ => cell + new string(' ', missing),
        };
    }

    private static string Separator(ColumnAlignment alignment, int width) => alignment switch
    {
        ColumnAlignment.Left => ":" + new string('-', width - 1),
        ColumnAlignment.Center => ":" + new string('-', width - 2) + ":",
        ColumnAlignment.Right => new string('-', width - 1) + ":",
        _ => throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "Unknown alignment."),
    };
}
