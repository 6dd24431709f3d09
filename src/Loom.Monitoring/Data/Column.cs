namespace Loom.Monitoring.Data;

/// <summary>One column of a <see cref="Table"/>: the cells as text (null when missing) and, where a cell is a
/// number, its value.</summary>
public sealed class Column
{
    /// <summary>The column name.</summary>
    public string Name { get; }
    /// <summary>Each cell as text; null when the row lacks it.</summary>
    public string?[] Cells { get; }
    /// <summary>Each cell as a number; null when it is missing or not a number.</summary>
    public double?[] Numbers { get; }

    /// <summary>A column of <paramref name="cells"/> and their numeric values.</summary>
    public Column(string name, string?[] cells, double?[] numbers)
    {
        if (cells.Length != numbers.Length) throw new ArgumentException($"Column {name}: {cells.Length} cells but {numbers.Length} numbers.");
        Name = name;
        Cells = cells;
        Numbers = numbers;
    }

    /// <summary>Cells present.</summary>
    public int Present => Cells.Count(c => c != null);

    /// <summary>True when every present cell is a number (and at least one is present).</summary>
    public bool IsNumeric
    {
        get
        {
            int present = 0;
            for (int i = 0; i < Cells.Length; i++)
            {
                if (Cells[i] == null) continue;
                present++;
                if (Numbers[i] == null) return false;
            }
            return present > 0;
        }
    }

    /// <summary>The present numeric values in row order.</summary>
    public double[] Values(IReadOnlyList<int>? rows = null)
    {
        var list = new List<double>();
        foreach (int i in rows ?? Enumerable.Range(0, Cells.Length).ToArray())
            if (Numbers[i] is double v && !double.IsNaN(v)) list.Add(v);
        return list.ToArray();
    }

    /// <summary>The present cells as strings in row order.</summary>
    public string[] Strings(IReadOnlyList<int>? rows = null)
    {
        var list = new List<string>();
        foreach (int i in rows ?? Enumerable.Range(0, Cells.Length).ToArray())
            if (Cells[i] is string s) list.Add(s);
        return list.ToArray();
    }

    /// <summary>The kind this column looks like: numbers; text when its strings average more than three words or
    /// 24 characters; categories otherwise.</summary>
    public ColumnKind InferKind()
    {
        if (IsNumeric) return ColumnKind.Numerical;
        double words = 0, chars = 0;
        int n = 0;
        foreach (var c in Cells)
        {
            if (c == null) continue;
            n++;
            chars += c.Length;
            words += c.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
        }
        if (n == 0) return ColumnKind.Categorical;
        return words / n > 3 || chars / n > 24 ? ColumnKind.Text : ColumnKind.Categorical;
    }
}
