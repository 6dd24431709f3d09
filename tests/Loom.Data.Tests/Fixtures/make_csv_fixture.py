# Writes the CSV fixtures of CorpusReaderTests and what Python's csv module reads from them.
# Run with Debian's python3 (standard library only): /usr/bin/python3 make_csv_fixture.py
#   csv_wellformed.csv            RFC 4180 records: commas, doubled quotes, multi-line quoted fields
#                                  (blank lines inside them too), CRLF and LF line ends, empty fields
#   csv_wellformed.expected.json  [[line, id, text], ...] as csv.reader reads it (line = where the record starts)
#   csv_unbalanced.csv            the same rows with one row whose quote never closes
#   csv_unbalanced.expected.json  {"bad_line": n, "rows": csv.reader's rows of the file without that one line}
import csv, io, json

rows = [
    ["1", "plain text"],
    ["2", "with, a comma"],
    ["3", 'a "quoted" word'],
    ["4", "two\nlines"],
    ["5", "a paragraph\n\nafter a blank line"],
    ["6", ""],
    ["7", "trailing spaces   "],
    ["8", 'ends with a quote"'],
    ["9", "crlf\r\ninside"],
    ["10", "last one"],
]

def write(rows, line_end):
    out = io.StringIO()
    w = csv.writer(out, lineterminator=line_end, quoting=csv.QUOTE_MINIMAL)
    w.writerow(["id", "text"])
    w.writerows(rows)
    return out.getvalue()

def read(text):
    # Records as csv.reader sees them, with the physical line each starts on (1-based, header = line 1).
    result = []
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    for record in reader:
        if record and reader.line_num > 1:
            result.append([start, record[0], record[1]])
        start = reader.line_num + 1
    return result

good = write(rows, "\r\n")
with open("csv_wellformed.csv", "w", newline="", encoding="utf-8") as f:
    f.write(good)
with open("csv_wellformed.expected.json", "w", encoding="utf-8") as f:
    json.dump(read(good), f, ensure_ascii=False, indent=0)

# Row 3 loses its closing quote: `3,"a ""quoted"" word` -> `3,"a ""quoted"" word` without the final quote.
lines = write(rows, "\n").split("\n")
bad_index = next(i for i, l in enumerate(lines) if l.startswith("3,"))
lines[bad_index] = '3,"an unclosed quote, and then the rest of the file'
broken = "\n".join(lines)
with open("csv_unbalanced.csv", "w", newline="", encoding="utf-8") as f:
    f.write(broken)
without = "\n".join(l for i, l in enumerate(lines) if i != bad_index)
expected_rows = read(without)
# Lines after the removed one are one further down in the broken file.
for r in expected_rows:
    if r[0] > bad_index:
        r[0] += 1
with open("csv_unbalanced.expected.json", "w", encoding="utf-8") as f:
    json.dump({"bad_line": bad_index + 1, "rows": expected_rows}, f, ensure_ascii=False, indent=0)
