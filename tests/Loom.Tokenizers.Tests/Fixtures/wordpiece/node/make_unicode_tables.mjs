// Probes Hugging Face's BERT normalizer and pre-tokenizer (npm tokenizers, the Rust library's Node
// binding) on every Unicode scalar value and writes:
//   ../unicode_sweep.txt  — what HF does to each code point alone (ranges of equal behaviour), which
//                           BertCharactersTests checks Loom against, code point by code point;
//   src/Loom.Tokenizers/Normalizer/BertUnicodeTables.cs — HF's character classes as range tables.
// Why tables: HF's classes come from the unicode_categories crate (an old Unicode version: U+166D is
// still punctuation, 140 newer punctuation marks are not; unassigned code points are NOT "other") and
// Rust's std lowercase (a newer Unicode than .NET's). Matching HF id for id means using HF's tables.
//   cd tests/Loom.Tokenizers.Tests/Fixtures/wordpiece/node && npm install && node make_unicode_tables.mjs
import { createRequire } from "module";
import fs from "fs";
const require = createRequire(import.meta.url);
const t = require("tokenizers");
const version = JSON.parse(fs.readFileSync(new URL("./node_modules/tokenizers/package.json", import.meta.url))).version;

const clean = t.bertNormalizer({ cleanText: true, handleChineseChars: false, stripAccents: false, lowercase: false });
const lower = t.bertNormalizer({ cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: true });
const strip = t.bertNormalizer({ cleanText: false, handleChineseChars: false, stripAccents: true, lowercase: false });
const cjk = t.bertNormalizer({ cleanText: false, handleChineseChars: true, stripAccents: false, lowercase: false });
const pre = t.bertPreTokenizer();
const hex = (s) => [...s].map((x) => x.codePointAt(0).toString(16)).join(",");

const removed = [], punct = [], lowerMap = [], stripMap = [];
const sweep = [];
let run = null;
for (let cp = 0; cp <= 0x10ffff; cp++) {
  if (cp >= 0xd800 && cp <= 0xdfff) continue;
  const c = String.fromCodePoint(cp);
  const r = [];
  const cl = clean.normalizeString(c);
  if (cl === "") { r.push("removed"); if (cp !== 0 && cp !== 0xfffd) removed.push(cp); }
  else if (cl === " " && c !== " ") r.push("space");
  const lo = lower.normalizeString(c);
  if (lo !== c) { r.push("lower=" + hex(lo)); if ([...lo].length === 1) lowerMap.push([cp, lo.codePointAt(0)]); }
  const st = strip.normalizeString(c);
  if (st !== c) {
    r.push("strip=" + hex(st));
    // Hangul syllables decompose algorithmically (Unicode 3.12); the normalizer computes them.
    if (cp < 0xac00 || cp > 0xd7a3) stripMap.push([cp, st]);
  }
  if (cjk.normalizeString(c) !== c) r.push("cjk");
  const p = pre.preTokenizeString("x" + c + "x");
  if (p.length === 3) { r.push("punct"); if (cp >= 0x80) punct.push(cp); }
  else if (p.length === 2) r.push("ws");
  const label = r.join(" ");
  if (run && run.label === label && run.end === cp - 1) run.end = cp;
  else { if (run && run.label) sweep.push(run); run = { start: cp, end: cp, label }; }
}
if (run && run.label) sweep.push(run);
fs.writeFileSync("../unicode_sweep.txt",
  `# HF BERT normalizer/pre-tokenizer behaviour per code point, npm tokenizers@${version}; start end (hex, inclusive) labels; unlisted = unchanged\n` +
  sweep.map((s) => `${s.start.toString(16)} ${s.end.toString(16)} ${s.label}`).join("\n") + "\n");

function ranges(cps) {
  const out = [];
  for (const cp of cps) {
    if (out.length && out[out.length - 1][1] === cp - 1) out[out.length - 1][1] = cp;
    else out.push([cp, cp]);
  }
  return out;
}
const fmt = (rs) => rs.map(([a, b]) => `0x${a.toString(16).toUpperCase()}, 0x${b.toString(16).toUpperCase()},`).reduce((lines, x) => {
  if (!lines.length || lines[lines.length - 1].length > 100) lines.push("        " + x); else lines[lines.length - 1] += " " + x;
  return lines;
}, []).join("\n");
// U+0130 lowercases to two code points ("i̇"); the normalizer handles it by name.
const lowerPairs = lowerMap.map(([a, b]) => `0x${a.toString(16).toUpperCase()}, 0x${b.toString(16).toUpperCase()},`).reduce((lines, x) => {
  if (!lines.length || lines[lines.length - 1].length > 100) lines.push("        " + x); else lines[lines.length - 1] += " " + x;
  return lines;
}, []).join("\n");

const chunk = (items) => items.reduce((lines, x) => {
  if (!lines.length || lines[lines.length - 1].length > 100) lines.push("        " + x); else lines[lines.length - 1] += " " + x;
  return lines;
}, []).join("\n");
const stripOffsets = [0];
for (const [, st] of stripMap) stripOffsets.push(stripOffsets[stripOffsets.length - 1] + st.length);
const joined = stripMap.map(([, st]) => st).join("");
const esc = (str) => [...str].map((ch) => { const u = []; for (let i = 0; i < ch.length; i++) u.push("\\u" + ch.charCodeAt(i).toString(16).toUpperCase().padStart(4, "0")); return u.join(""); }).join("");
const stripText = [];
for (let i = 0; i < joined.length; i += 24) {
  let end = Math.min(i + 24, joined.length);
  stripText.push(`        "${[...joined.slice(i, end)].map((ch) => ch.charCodeAt(0) < 0x7f && ch !== '"' && ch !== "\\" ? ch : esc(ch)).join("")}"`);
}
const stripTextJoined = stripText.join(" +\n") + ";";
const cs = `// <auto-generated> by tests/Loom.Tokenizers.Tests/Fixtures/wordpiece/node/make_unicode_tables.mjs from
// npm tokenizers@${version} (Hugging Face's Rust library). Do not edit by hand: rerun the script.
// HF's BERT character classes as sorted inclusive ranges [start0, end0, start1, end1, ...] of code
// points, and its lowercase mapping as pairs [from0, to0, ...]; see the script for why they are tables.
namespace Loom.Tokenizers.Normalizer;

internal static class BertUnicodeTables
{
    /// <summary>Non-ASCII code points clean_text removes (HF's "other": Cc, Cf, Co, Cs of its Unicode version).</summary>
    public static ReadOnlySpan<int> Other =>
    [
${fmt(ranges(removed.filter((c) => c >= 0x80)))}
    ];

    /// <summary>Non-ASCII code points the BERT pre-tokenizer isolates as punctuation.</summary>
    public static ReadOnlySpan<int> Punctuation =>
    [
${fmt(ranges(punct))}
    ];

    /// <summary>Code points strip_accents changes (NFD, then nonspacing marks dropped), sorted; Hangul syllables excluded.</summary>
    public static ReadOnlySpan<int> StripKeys =>
    [
${chunk(stripMap.map(([a]) => `0x${a.toString(16).toUpperCase()},`))}
    ];

    /// <summary>Where each StripKeys entry's replacement starts in <see cref="StripText"/> (one extra entry: the end).</summary>
    public static ReadOnlySpan<int> StripOffsets =>
    [
${chunk(stripOffsets.map((o) => `${o},`))}
    ];

    /// <summary>The replacements of StripKeys, concatenated (UTF-16).</summary>
    public const string StripText =
${stripTextJoined}

    /// <summary>Single code point lowercase mappings (from, to), sorted by from.</summary>
    public static ReadOnlySpan<int> Lowercase =>
    [
${lowerPairs}
    ];
}
`;
fs.writeFileSync("../../../../../src/Loom.Tokenizers/Normalizer/BertUnicodeTables.cs", cs);
console.log(`sweep ${sweep.length} ranges; other ${removed.length}, punct ${punct.length}, strip ${stripMap.length}, lower ${lowerMap.length}`);
