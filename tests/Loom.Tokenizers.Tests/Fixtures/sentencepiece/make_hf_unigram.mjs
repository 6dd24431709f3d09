// Makes t5_hf.jsonl.gz: the ids Hugging Face's own tokenizer.json implementation (npm tokenizers@0.23.2,
// the Rust library's Node binding, Apache-2.0) gives for every line of sentences.jsonl with
// t5_tokenizer.json.gz (the t5style SentencePiece model converted as transformers' T5Converter does), with
// and without special tokens. The C# test checks Loom's tokenizer.json Unigram pipeline against these.
//   (cd ../../../../bench/node-hf && npm install) && node make_hf_unigram.mjs
import { createRequire } from "module";
import fs from "fs";
import os from "os";
import path from "path";
import zlib from "zlib";
const require = createRequire(import.meta.url);
const { Tokenizer } = require("../../../../bench/node-hf/node_modules/tokenizers");

const tmp = path.join(os.tmpdir(), "loom_t5_tokenizer.json");
fs.writeFileSync(tmp, zlib.gunzipSync(fs.readFileSync("t5_tokenizer.json.gz")));
const tok = Tokenizer.fromFile(tmp);
const texts = fs.readFileSync("sentences.jsonl", "utf8").split("\n").filter((l) => l).map((l) => JSON.parse(l).text);
const out = [];
for (const text of texts) {
  const plain = await tok.encode(text, null, { addSpecialTokens: false });
  const special = await tok.encode(text, null, { addSpecialTokens: true });
  out.push(JSON.stringify({ text, ids: plain.getIds(), ids_special: special.getIds(), source: "tokenizers@0.23.2 (npm)" }));
}
fs.writeFileSync("t5_hf.jsonl.gz", zlib.gzipSync(out.join("\n") + "\n", { level: 9 }));
console.log(`${texts.length} sentences`);
