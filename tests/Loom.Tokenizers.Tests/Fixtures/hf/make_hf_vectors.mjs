// Makes hf_vectors.jsonl: for each tokenizer.json that Loom wrote (loom_*.tokenizer.json), the ids
// that Hugging Face's own implementation of tokenizer.json (npm @huggingface/tokenizers, the
// library behind transformers.js) produces for a set of texts. The C# test checks Loom's ids
// equal these, i.e. a tokenizer trained by Loom behaves the same when opened by HF.
//   cd tests/Loom.Tokenizers.Tests/Fixtures/hf && npm install && node make_hf_vectors.mjs
import { Tokenizer } from "@huggingface/tokenizers";
import fs from "fs";

const texts = [
  "hello world",
  "The quick brown fox jumps over the lazy dog.",
  "  leading spaces, trailing   \n\nnewlines\r\n\ttabs",
  "Numbers: 1234567 3.14159 and 2026-11-22.",
  "can't won't they're I'll we've she'd",
  "naïve café — 東京 😀 👨‍👩‍👧",
  "story one<|endoftext|>story two",
  fs.readFileSync("../bpe_training/address.txt", "utf8"),
  fs.readFileSync("../bpe_training/german.txt", "utf8"),
  fs.readFileSync("../bpe_training/tinystories_sample.txt", "utf8"),
];

const out = [];
for (const file of fs.readdirSync(".").filter((f) => f.startsWith("loom_") && f.endsWith(".tokenizer.json")).sort()) {
  const tokenizer = new Tokenizer(JSON.parse(fs.readFileSync(file, "utf8")), {});
  for (const text of texts) {
    const ids = tokenizer.encode(text, { add_special_tokens: false }).ids;
    out.push(JSON.stringify({ tokenizer: file, text, ids, source: "@huggingface/tokenizers@0.2.0" }));
  }
}
fs.writeFileSync("hf_vectors.jsonl", out.join("\n") + "\n");
console.log(`wrote ${out.length} vectors`);
