#!/usr/bin/env bash
# Reproduces the pruning and low-rank table of docs/COMPRESSION.md on a small GPT-2 trained on
# WikiText-2 (valid.txt: the train split is not on this machine) and measured on test.txt.
# Run from the repository root; WT2 points at the WikiText-2 folder (README/licence inside).
#   examples/compression/run-table.sh [prune|lowrank|all]
set -euo pipefail
PART=${1:-all}
WT2=${WT2:-../shared/data/wikitext2}
EVAL_BATCHES=${EVAL_BATCHES:-64}          # windows of 4×128 test tokens per eval; 0: all of test.txt
OUT=runs/compression
[ -n "${SKIP_BUILD:-}" ] || dotnet build src/Loom.Cli -c Release -v q >/dev/null
loom() { dotnet src/Loom.Cli/bin/Release/net10.0/loom.dll "$@"; }

[ -f $OUT/tokenizer/tokenizer.json ] || loom tokenizer train --input $WT2/valid.txt --vocab-size 4096 --output $OUT/tokenizer
[ -f $OUT/gpt2-wt2/model.safetensors ] || loom train --config examples/compression/wikitext2-gpt2-small.yaml
[ -f $OUT/test-shards/manifest.json ] || loom tokenize --tokenizer $OUT/tokenizer --input $WT2/test.txt --output $OUT/test-shards

evaluate() { echo "== $1"; loom eval --model "$2" --data $OUT/test-shards --max-batches "$EVAL_BATCHES"; }
if [ "$PART" != lowrank ]; then
  evaluate dense $OUT/gpt2-wt2
  for run in "sparsegpt --sparsity 0.5" "wanda --sparsity 0.5" "magnitude --sparsity 0.5" \
             "sparsegpt --pattern 4:8" "sparsegpt --pattern 2:4" "wanda --pattern 4:8" "wanda --pattern 2:4" \
             "magnitude --pattern 4:8" "magnitude --pattern 2:4"; do
    set -- $run
    name=$1-$(echo "$3" | tr ':' '_')
    rm -rf $OUT/$name
    loom prune --model $OUT/gpt2-wt2 --method $1 $2 $3 --calibration $WT2/valid.txt --samples 64 --output $OUT/$name
    evaluate "$run" $OUT/$name
  done
fi
if [ "$PART" != prune ]; then
  for r in "--rank 64" "--rank 32" "--energy 0.9" "--rank 96"; do
    name=lowrank-$(echo "$r" | awk '{print $2}')
    rm -rf $OUT/$name
    loom compress lowrank --model $OUT/gpt2-wt2 $r --output $OUT/$name
    evaluate "low-rank $r" $OUT/$name
  done
fi
