// Anchor for bench/Loom.Bench/Suites/WordPieceSuite.cs: Hugging Face's own WordPiece (npm tokenizers,
// the Rust library), one thread (RAYON_NUM_THREADS=1 set by the caller).
//   node wordpiece.mjs train CORPUS.txt         → trains WordPieceTrainer defaults (vocab 30000), prints seconds
//   node wordpiece.mjs encode VOCAB.txt DOCS.jsonl → BertTokenizerFast pipeline, prints MB/s, token count and id sum
import { createRequire } from "module";
import fs from "fs";
const require = createRequire(import.meta.url);
const t = require("tokenizers");
const [mode, a, b] = process.argv.slice(2);
if (mode === "train") {
  const tok = new t.Tokenizer(t.WordPiece.empty());
  tok.setNormalizer(t.bertNormalizer({}));
  tok.setPreTokenizer(t.bertPreTokenizer());
  const start = process.hrtime.bigint();
  tok.train([a]);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(JSON.stringify({ seconds, vocab: tok.getVocabSize(true) }));
} else {
  const lines = fs.readFileSync(a, "utf8").split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const vocab = Object.fromEntries(lines.map((tok, i) => [tok, i]));
  const tok = new t.Tokenizer(t.WordPiece.init(vocab, { unkToken: "[UNK]" }));
  tok.setNormalizer(t.bertNormalizer({}));
  tok.setPreTokenizer(t.bertPreTokenizer());
  tok.setPostProcessor(t.templateProcessing("[CLS]:0 $A:0 [SEP]:0", "[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1", [["[CLS]", vocab["[CLS]"]], ["[SEP]", vocab["[SEP]"]]]));
  tok.addSpecialTokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]);
  const docs = fs.readFileSync(b, "utf8").split("\n").filter((l) => l).map((l) => JSON.parse(l));
  const bytes = docs.reduce((s, d) => s + Buffer.byteLength(d, "utf8"), 0);
  let tokens = 0, idSum = 0;
  const run = async () => {
    for (let i = 0; i < docs.length; i += 256) {
      for (const e of await tok.encodeBatch(docs.slice(i, i + 256))) { const ids = e.getIds(); tokens += ids.length; for (const id of ids) idSum += id; }
    }
  };
  await run(); // warm-up
  tokens = 0; idSum = 0;
  const start = process.hrtime.bigint();
  await run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(JSON.stringify({ mbps: bytes / seconds / 1e6, tokens, id_sum: idSum }));
}
