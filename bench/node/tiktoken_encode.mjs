// Anchor for the `tokenizer` suite: npm tiktoken (the WASM build of OpenAI's Rust core) encoding
// the same documents, one call per document, with encode_ordinary. Prints one JSON line.
import { get_encoding } from "tiktoken";
import fs from "fs";

const [, , encodingName, docsPath] = process.argv;
const docs = fs.readFileSync(docsPath, "utf8").split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l));
const enc = get_encoding(encodingName);
let bytes = 0;
for (const d of docs) bytes += Buffer.byteLength(d, "utf8");
for (const d of docs.slice(0, 500)) enc.encode_ordinary(d); // warm-up
let tokens = 0;
const t0 = process.hrtime.bigint();
for (const d of docs) tokens += enc.encode_ordinary(d).length;
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
enc.free();
console.log(JSON.stringify({ seconds, bytes, tokens, mbps: bytes / seconds / 1e6 }));
