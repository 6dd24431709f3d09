// Python's datetime.strftime in the C locale, for HF's strftime_now(format) global (Llama 3.1/3.2 print
// "Today Date: 26 Jul 2024" with "%d %b %Y"). Supports %a %A %b %B %c %d %e %f %H %I %j %m %M %p %S %u
// %w %y %Y %Z %z %% and glibc's "-" flag (%-d); an unknown directive is copied as is, as glibc does.
using System.Globalization;
using System.Text;

namespace Loom.Inference.Templates;

internal static class PythonStrftime
{
    public static string Format(DateTimeOffset t, string format)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c != '%' || i + 1 >= format.Length) { sb.Append(c); continue; }
            char d = format[++i];
            bool noPad = false;
            if (d == '-' && i + 1 < format.Length) { noPad = true; d = format[++i]; }
            string Two(int v) => noPad ? v.ToString(CultureInfo.InvariantCulture) : v.ToString("00", CultureInfo.InvariantCulture);
            switch (d)
            {
                case 'a': sb.Append(t.ToString("ddd", CultureInfo.InvariantCulture)); break;
                case 'A': sb.Append(t.ToString("dddd", CultureInfo.InvariantCulture)); break;
                case 'b': case 'h': sb.Append(t.ToString("MMM", CultureInfo.InvariantCulture)); break;
                case 'B': sb.Append(t.ToString("MMMM", CultureInfo.InvariantCulture)); break;
                case 'c': sb.Append(t.ToString("ddd MMM ", CultureInfo.InvariantCulture)).Append(t.Day.ToString(CultureInfo.InvariantCulture).PadLeft(2)).Append(t.ToString(" HH:mm:ss yyyy", CultureInfo.InvariantCulture)); break;
                case 'd': sb.Append(Two(t.Day)); break;
                case 'e': sb.Append(noPad ? t.Day.ToString(CultureInfo.InvariantCulture) : t.Day.ToString(CultureInfo.InvariantCulture).PadLeft(2)); break;
                case 'f': sb.Append((t.Ticks % TimeSpan.TicksPerSecond / 10).ToString("000000", CultureInfo.InvariantCulture)); break;
                case 'H': sb.Append(Two(t.Hour)); break;
                case 'I': sb.Append(Two(t.Hour % 12 == 0 ? 12 : t.Hour % 12)); break;
                case 'j': sb.Append(noPad ? t.DayOfYear.ToString(CultureInfo.InvariantCulture) : t.DayOfYear.ToString("000", CultureInfo.InvariantCulture)); break;
                case 'm': sb.Append(Two(t.Month)); break;
                case 'M': sb.Append(Two(t.Minute)); break;
                case 'p': sb.Append(t.Hour < 12 ? "AM" : "PM"); break;
                case 'S': sb.Append(Two(t.Second)); break;
                case 'u': sb.Append(t.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)t.DayOfWeek); break;
                case 'w': sb.Append((int)t.DayOfWeek); break;
                case 'y': sb.Append(Two(t.Year % 100)); break;
                case 'Y': sb.Append(t.Year.ToString(CultureInfo.InvariantCulture)); break;
                case 'Z': break; // naive datetime.now(): %Z is empty
                case 'z': break;
                case '%': sb.Append('%'); break;
                default: sb.Append('%'); if (noPad) sb.Append('-'); sb.Append(d); break;
            }
        }
        return sb.ToString();
    }
}
