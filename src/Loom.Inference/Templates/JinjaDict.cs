// A Python dict as templates see it: insertion-ordered (json.dumps and items() keep that order), keys
// compared with Python's equality for the key types JSON gives (strings, ints).
namespace Loom.Inference.Templates;

internal sealed class JinjaDict : OrderedDictionary<object, object?>
{
    public JinjaDict() : base(KeyComparer.Instance) { }

    private sealed class KeyComparer : IEqualityComparer<object>
    {
        public static readonly KeyComparer Instance = new();

        public new bool Equals(object? x, object? y) => JinjaValues.PyEquals(x, y);

        public int GetHashCode(object obj) => obj switch
        {
            string s => s.GetHashCode(StringComparison.Ordinal),
            long l => l.GetHashCode(),
            bool b => (b ? 1L : 0L).GetHashCode(),
            double d when d == Math.Floor(d) && Math.Abs(d) < 9e18 => ((long)d).GetHashCode(),
            _ => obj.GetHashCode(),
        };
    }
}
