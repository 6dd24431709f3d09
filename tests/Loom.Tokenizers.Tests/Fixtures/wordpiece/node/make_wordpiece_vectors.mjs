// Makes the WordPiece conformance fixtures from Hugging Face's own implementation (npm tokenizers,
// the Node binding of the Rust library):
//   ../vectors.json          — for each (text, pair, configuration): ids, type ids, attention mask,
//                              special-tokens mask, tokens and offsets as HF produces them, plus decodes;
//   ../hf_tokenizer.json     — HF's own tokenizer.json for the default configuration (Loom must load it);
//   ../hf_trained_vocab.txt  — a vocabulary from HF's WordPieceTrainer (defaults) on tiny Shakespeare,
//   ../hf_training.json      — how much HF's trainer differs from itself between runs (it is not
//                              deterministic: it iterates hash maps), as the bound for Loom's trainer.
// The vocabulary encoded is ../loom_vocab/vocab.txt, the one Loom's WordPieceTrainer makes from tiny
// Shakespeare + ../multilingual.txt (WordPieceTrainerTests regenerates it with LOOM_REGENERATE_FIXTURES=1),
// so these vectors also prove HF's encoder accepts and agrees on a Loom-trained vocabulary.
// The pipeline built for vocab.txt is transformers' BertTokenizerFast (convert_slow_tokenizer.BertConverter).
// Offsets are in code points here (HF's Node binding); the C# test converts them to UTF-16.
//   cd tests/Loom.Tokenizers.Tests/Fixtures/wordpiece/node && npm install && node make_wordpiece_vectors.mjs
import { createRequire } from "module";
import fs from "fs";
const require = createRequire(import.meta.url);
const t = require("tokenizers");
const version = JSON.parse(fs.readFileSync(new URL("./node_modules/tokenizers/package.json", import.meta.url))).version;
const here = (p) => new URL(p, import.meta.url).pathname;

const vocabPath = here("../loom_vocab/vocab.txt");
const vocabLines = fs.readFileSync(vocabPath, "utf8").split("\n");
if (vocabLines[vocabLines.length - 1] === "") vocabLines.pop();
const vocab = Object.fromEntries(vocabLines.map((tok, i) => [tok, i]));
const specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

function build(config) {
  const tok = new t.Tokenizer(t.WordPiece.init(vocab, { unkToken: "[UNK]", continuingSubwordPrefix: "##", maxInputCharsPerWord: config.max_input_chars_per_word ?? 100 }));
  const n = { cleanText: config.clean_text ?? true, handleChineseChars: config.handle_chinese_chars ?? true, lowercase: config.lowercase ?? true };
  if (config.strip_accents !== undefined && config.strip_accents !== null) n.stripAccents = config.strip_accents;
  tok.setNormalizer(t.bertNormalizer(n));
  tok.setPreTokenizer(t.bertPreTokenizer());
  tok.setPostProcessor(t.templateProcessing("[CLS]:0 $A:0 [SEP]:0", "[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1", [["[CLS]", vocab["[CLS]"]], ["[SEP]", vocab["[SEP]"]]]));
  tok.setDecoder(t.wordPieceDecoder("##", true));
  tok.addSpecialTokens(specials);
  if (config.truncation) tok.setTruncation(config.truncation.max_length, { strategy: { longest_first: "LongestFirst", only_first: "OnlyFirst", only_second: "OnlySecond" }[config.truncation.strategy ?? "longest_first"], direction: config.truncation.direction ?? "right" });
  if (config.padding) tok.setPadding({ maxLength: config.padding.length, padToMultipleOf: config.padding.pad_to_multiple_of, padId: vocab["[PAD]"], padTypeId: 0, padToken: "[PAD]", direction: config.padding.direction ?? "right" });
  return tok;
}

// Check that HF rejects nothing about the default pipeline: the strip_accents=null default must equal
// HF's own default constructor (it reads as "follow lowercase").
const shakespeare = fs.readFileSync(here("../../../../../data/tinyshakespeare/input.txt"), "utf8").split("\n");
const slice = shakespeare.slice(20000, 21000);
const multilingual = fs.readFileSync(here("../multilingual.txt"), "utf8").split("\n").filter((l) => l);

const texts = [
  "Hello, world!",
  "",
  " ",
  "   \t\n  \r\n ",
  "HELLO World hello WORLD",
  "Héllo Wörld Ångström naïve café résumé",
  "Ça va? Ñandú ÀÉÎÕÜ àéîõü",
  "e\u0301 a\u0308 o\u0302\u0323 combining marks",
  "我爱北京天安门 and 東京タワー",
  "BERT是一个模型，它很好。",
  "𠀀𠀁 astral CJK 𪜀 text",
  "I ❤️ 🤗 tokenizers 👨‍👩‍👧 😀! 👍🏽",
  "a\u0000b\u0007c\uFFFDd e\u200Bf g\u200Dh i\uFEFFj k\u00ADl m\u2028n o\u2029p",
  "tab\there\u000Bvertical\u000Cform\u0085next\u00A0nbsp\u3000ideographic\u2003em",
  "zero\u200Bwidth\u200Cjoiner\u200Dnon\u2060joiner",
  "a".repeat(99), "a".repeat(100), "a".repeat(101), "é".repeat(100) + " short", "😀".repeat(60) + " x",
  "supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
  "!!!???...,,,;;::--((()))[[]]{{}}''\"\"``~~@@##$$%%^^&&**__++==||\\\\//<<>>",
  "«quoted» „German“ ‘single’ “double” — en–dash … ellipsis · middle ¿¡ ※ ‰ ′ ″ ‹›",
  "don't won't it's I'm we've they're y'all",
  "[CLS] [MASK] [mask] [SEP]x[UNK]y [PAD][PAD] [ CLS ]",
  "The [MASK] sat on the mat.",
  "3.14159 1,000,000 2026-12-01 $5.99 50% #hashtag @user",
  "https://example.com/path?query=value&other=1#frag user@example.org",
  "Καλημέρα κόσμε Привет мир Ёлка",
  "مرحبا بالعالم שָׁלוֹם עולם",
  "नमस्ते दुनिया हिन्दी",
  "สวัสดีครับ ประเทศไทย",
  "안녕하세요 세계 한국어",
  "İstanbul ILIK ǅemal ß ﬁne Ω ẞ ΣΑΣ",
  "ＡＢＣ１２３ fullwidth ｶﾀｶﾅ halfwidth",
  "ஸ்ரீ ক্ষ ཀྵ Devanagari क्षत्रिय",
  "\u00A0\u2000\u200A leading and trailing spaces \u3000",
  "x\u0301\u0301\u0301 stacked",
  "Private\uE000use \uDB80\uDC00 and unassigned \u0378 \u{1FAE8} new emoji",
  "ᚠᚢᚦ runes ꓐꓑ Lisu 𝕄𝕒𝕥𝕙 𝐁𝐨𝐥𝐝",
  ...multilingual,
];
const pairs = [
  ["What is BERT?", "BERT is a transformer encoder."],
  ["", "only the second"],
  ["only the first", ""],
  ["Short.", "This second sequence is much longer than the first one and keeps going on and on for a while."],
  ["This first sequence is much longer than the second one and keeps going on and on for a while.", "Short."],
  ["Both of these sequences are fairly long and will need truncating.", "The second one is also fairly long and needs some cutting as well."],
  ["Café au lait 我爱你", "naïve 😀 résumé"],
  [slice.slice(0, 6).join(" "), slice.slice(6, 9).join(" ")],
];
const configs = {
  uncased: {},
  cased: { lowercase: false },
  lower_keep_accents: { lowercase: true, strip_accents: false },
  cased_strip_accents: { lowercase: false, strip_accents: true },
  no_chinese: { handle_chinese_chars: false },
  no_clean: { clean_text: false },
  max_chars_10: { max_input_chars_per_word: 10 },
  trunc16: { truncation: { max_length: 16 } },
  trunc11_left: { truncation: { max_length: 11, direction: "left" } },
  trunc13_only_first: { truncation: { max_length: 13, strategy: "only_first" } },
  trunc13_only_second: { truncation: { max_length: 13, strategy: "only_second" } },
  trunc3: { truncation: { max_length: 3 } },
  pad24: { padding: { length: 24 } },
  pad_multiple8: { padding: { pad_to_multiple_of: 8 } },
  pad24_left_trunc20: { padding: { length: 24, direction: "left" }, truncation: { max_length: 20 } },
};

function record(enc) {
  return { ids: enc.getIds(), type_ids: enc.getTypeIds(), attention_mask: enc.getAttentionMask(), special_tokens_mask: enc.getSpecialTokensMask(), tokens: enc.getTokens(), offsets: enc.getOffsets() };
}
const vectors = [];
for (const [name, config] of Object.entries(configs)) {
  const tok = build(config);
  const single = ["uncased", "cased", "lower_keep_accents", "cased_strip_accents", "no_chinese", "no_clean", "max_chars_10"].includes(name) ? texts : texts.slice(0, 12).concat(texts.slice(20, 24));
  for (const text of single) {
    for (const add of name === "uncased" ? [true, false] : [true]) {
      try {
        const enc = await tok.encode(text, null, { addSpecialTokens: add });
        vectors.push({ config: name, text, pair: null, add_special_tokens: add, ...record(enc) });
      } catch (e) {
        vectors.push({ config: name, text, pair: null, add_special_tokens: add, error: String(e.message ?? e) });
      }
    }
  }
  for (const [a, b] of pairs) {
    try {
      const enc = await tok.encode(a, b, { addSpecialTokens: true });
      vectors.push({ config: name, text: a, pair: b, add_special_tokens: true, ...record(enc) });
    } catch (e) {
      vectors.push({ config: name, text: a, pair: b, add_special_tokens: true, error: String(e.message ?? e) });
    }
  }
}
// The real-text slice: 1000 lines of tiny Shakespeare in 50 blocks of 20 lines, default configuration.
const uncased = build({});
for (let i = 0; i < slice.length; i += 20) {
  const text = slice.slice(i, i + 20).join("\n");
  vectors.push({ config: "uncased", text, pair: null, add_special_tokens: true, ...record(await uncased.encode(text, null, { addSpecialTokens: true })) });
}
// Batches with padding to the longest.
const batches = [];
for (const name of ["uncased", "pad_multiple8", "trunc16"]) {
  const tok = build(name === "uncased" ? { padding: {} } : configs[name].padding ? configs[name] : { ...configs[name], padding: {} });
  const batch = ["Hello, world!", "A much longer sentence with several more words in it.", "", "Café 我爱你 😀"];
  const encs = await tok.encodeBatch(batch, { addSpecialTokens: true });
  batches.push({ config: name, padding_batch_longest: true, texts: batch, encodings: encs.map(record) });
}
// Decoding.
const decodes = [];
for (const text of texts.slice(0, 30).concat(multilingual)) {
  const ids = (await uncased.encode(text, null, { addSpecialTokens: true })).getIds();
  decodes.push({ ids, skip_special_tokens: true, text: await uncased.decode(ids, true) });
  decodes.push({ ids, skip_special_tokens: false, text: await uncased.decode(ids, false) });
}
fs.writeFileSync(here("../vectors.json"), JSON.stringify({ source: `npm tokenizers@${version}`, vocab: "loom_vocab/vocab.txt", vectors, batches, decodes }) + "\n");
uncased.save(here("../hf_tokenizer.json"), true);

// HF's trainer with its defaults on tiny Shakespeare, several runs.
function train() {
  const tok = new t.Tokenizer(t.WordPiece.empty());
  tok.setNormalizer(t.bertNormalizer({}));
  tok.setPreTokenizer(t.bertPreTokenizer());
  tok.train([here("../../../../../data/tinyshakespeare/input.txt")]);
  return Object.entries(tok.getVocab(true)).sort((a, b) => a[1] - b[1]).map((e) => e[0]);
}
const runs = [train(), train(), train(), train(), train()];
const sets = runs.map((r) => new Set(r));
const diff = (a, b) => [...a].filter((x) => !b.has(x)).length + [...b].filter((x) => !a.has(x)).length;
let maxDiff = 0;
for (let i = 0; i < sets.length; i++) for (let j = i + 1; j < sets.length; j++) maxDiff = Math.max(maxDiff, diff(sets[i], sets[j]));
fs.writeFileSync(here("../hf_trained_vocab.txt"), runs[0].join("\n") + "\n");
fs.writeFileSync(here("../hf_training.json"), JSON.stringify({ source: `npm tokenizers@${version}`, trainer: "WordPieceTrainer defaults (vocab_size 30000, min_frequency 0, no special tokens, ## prefix), BertNormalizer defaults, BertPreTokenizer", input: "data/tinyshakespeare/input.txt", runs: runs.length, sizes: runs.map((r) => r.length), max_symmetric_difference_between_runs: maxDiff }, null, 1) + "\n");
console.log(`${vectors.length} vectors, ${batches.length} batches, ${decodes.length} decodes; HF trainer runs differ by up to ${maxDiff} tokens`);
