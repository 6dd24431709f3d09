// A table of rows read from JSONL, CSV, a plain file of numbers or the server's request log: columns by name in
// first-seen order, and optionally a time per row (for windows and time series).
namespace Loom.Monitoring.Data;

/// <summary>Rows with named columns and optional times.</summary>
public sealed class Table
{
    private readonly Dictionary<string, Column> _byName;

    /// <summary>Where the rows came from (for messages).</summary>
    public string Source { get; }
    /// <summary>The columns in first-seen order.</summary>
    public IReadOnlyList<Column> Columns { get; }
    /// <summary>The number of rows.</summary>
    public int RowCount { get; }
    /// <summary>A time per row, or null when the source has none.</summary>
    public DateTimeOffset?[]? Times { get; }

    /// <summary>A table over <paramref name="columns"/>, each with <paramref name="rowCount"/> cells.</summary>
    public Table(string source, IReadOnlyList<Column> columns, int rowCount, DateTimeOffset?[]? times = null)
    {
        foreach (var c in columns)
            if (c.Cells.Length != rowCount) throw new ArgumentException($"{source}: column {c.Name} has {c.Cells.Length} cells for {rowCount} rows.");
        Source = source;
        Columns = columns;
        RowCount = rowCount;
        Times = times;
        _byName = columns.ToDictionary(c => c.Name, StringComparer.Ordinal);
    }

    /// <summary>The column named <paramref name="name"/>, or null.</summary>
    public Column? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>The rows whose time lies in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    public Table Slice(DateTimeOffset from, DateTimeOffset to)
    {
        if (Times is null) throw new InvalidOperationException($"{Source} has no time column, so it cannot be cut into time windows; add a time field or use --time-column.");
        var rows = new List<int>();
        for (int i = 0; i < RowCount; i++) if (Times[i] is DateTimeOffset t && t >= from && t < to) rows.Add(i);
        return Select(rows, $"{Source} [{from:O}, {to:O})");
    }

    /// <summary>The rows at <paramref name="rows"/>, in that order.</summary>
    public Table Select(IReadOnlyList<int> rows, string? source = null)
    {
        var cols = Columns.Select(c => new Column(c.Name, rows.Select(r => c.Cells[r]).ToArray(), rows.Select(r => c.Numbers[r]).ToArray())).ToList();
        return new Table(source ?? Source, cols, rows.Count, Times is null ? null : rows.Select(r => Times[r]).ToArray());
    }
}
