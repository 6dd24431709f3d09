#!/usr/bin/env bash
# Reproduces the pruning and low-rank table of docs/COMPRESSION.md on a small GPT-2 trained on
# WikiText-2 (valid.txt: the train split is not on this machine) and measured on test.txt.
# Run from the repository root; WT2 points at the WikiText-2 folder (README/licence inside).
set -euo pipefail
WT2=${WT2:-../shared/data/wikitext2}
EVAL_BATCHES=${EVAL_BATCHES:-0}           # 0: all of test.txt; a number: its first N×4×128 tokens
OUT=runs/compression
[ -n "${SKIP_BUILD:-}" ] || dotnet build src/Loom.Cli -c Release -v q >/dev/null
loom() { dotnet src/Loom.Cli/bin/Release/net10.0/loom.dll "$@"; }

[ -f $OUT/tokenizer/tokenizer.json ] || loom tokenizer train --input $WT2/valid.txt --vocab-size 4096 --output $OUT/tokenizer
[ -f $OUT/gpt2-wt2/model.safetensors ] || loom train --config examples/compression/wikitext2-gpt2-small.yaml
[ -f $OUT/test-shards/manifest.json ] || loom tokenize --tokenizer $OUT/tokenizer --input $WT2/test.txt --output $OUT/test-shards

evaluate() { echo "== $1"; loom eval --model "$2" --data $OUT/test-shards --max-batches "$EVAL_BATCHES"; }
evaluate dense $OUT/gpt2-wt2
for method in magnitude wanda sparsegpt; do
  for setting in "--sparsity 0.5" "--pattern 4:8" "--pattern 2:4"; do
    name=$method-$(echo "$setting" | awk '{print $2}' | tr ':' '_')
    rm -rf $OUT/$name
    loom prune --model $OUT/gpt2-wt2 --method $method $setting --calibration $WT2/valid.txt --samples 64 --output $OUT/$name
    evaluate "$method $setting" $OUT/$name
  done
done
for rank in 96 64 32; do
  rm -rf $OUT/lowrank-$rank
  loom compress lowrank --model $OUT/gpt2-wt2 --rank $rank --output $OUT/lowrank-$rank
  evaluate "low-rank r=$rank" $OUT/lowrank-$rank
done
rm -rf $OUT/lowrank-e90
loom compress lowrank --model $OUT/gpt2-wt2 --energy 0.9 --output $OUT/lowrank-e90
evaluate "low-rank energy 0.9" $OUT/lowrank-e90
