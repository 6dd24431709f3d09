// End-to-end anchor for `loom tokenizer encode` in the `tokenizer` suite: npm tiktoken (the WASM
// build of OpenAI's Rust core) reading a JSONL file, encoding each record's "text" field with
// encode() (special-token text is an error, as the CLI's default), and writing one JSON array of
// ids per line to stdout: the same input, work and output as the CLI, so the files compare equal.
import { get_encoding } from "tiktoken";
import fs from "fs";

const [, , encodingName, jsonlPath] = process.argv;
const enc = get_encoding(encodingName);
const out = fs.openSync("/dev/stdout", "w");
let chunk = [];
let size = 0;
for (const line of fs.readFileSync(jsonlPath, "utf8").split("\n")) {
  if (line.length === 0) continue;
  const ids = enc.encode(JSON.parse(line).text);
  const s = "[" + ids.join(",") + "]\n";
  chunk.push(s);
  size += s.length;
  if (size >= 1 << 20) { fs.writeSync(out, chunk.join("")); chunk = []; size = 0; }
}
if (chunk.length > 0) fs.writeSync(out, chunk.join(""));
enc.free();
