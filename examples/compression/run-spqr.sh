#!/usr/bin/env bash
# NF4 double quantization and SpQR-style outliers on the small WikiText-2 GPT-2 of docs/COMPRESSION.md:
# bits/weight and perplexity on the first 400 lines of test.txt (128-token windows moved by 64), for
# plain q4_0/nf4, nf4 --double-quant, and q4_0/nf4 with 0.5% and 1% fp16 outliers weighed on valid.txt.
#   examples/compression/run-spqr.sh          (MODEL=runs/compression/gpt2-wt2 by default)
set -euo pipefail
WT2=${WT2:-../shared/data/wikitext2}
MODEL=${MODEL:-runs/compression/gpt2-wt2}
OUT=${OUT:-runs/compression/spqr}
LOOM=${LOOM:-src/Loom.Cli/bin/Release/net10.0/loom.dll}
[ -n "${SKIP_BUILD:-}" ] || dotnet build src/Loom.Cli -c Release -v q >/dev/null
loom() { dotnet "$LOOM" "$@"; }
mkdir -p $OUT
head -400 $WT2/test.txt > $OUT/test400.txt
ppl() { echo "== $1"; loom eval perplexity --model "$2" --input $OUT/test400.txt --context 128 --stride 64 | tail -3; }
[ -n "${SKIP_F32:-}" ] || ppl f32 $MODEL
for run in "q4_0" "nf4" "nf4 --double-quant" \
           "q4_0 --outliers 0.005" "q4_0 --outliers 0.01" "nf4 --outliers 0.005" "nf4 --outliers 0.01" \
           "nf4 --double-quant --outliers 0.01"; do
  name=$(echo "$run" | tr -d ' -' )
  rm -rf $OUT/$name
  extra=""; case "$run" in *outliers*) extra="--calibration $WT2/valid.txt --samples 64";; esac
  ( loom quantize --model $MODEL --type $run $extra --output $OUT/$name > $OUT/$name.quantize.log 2>&1
    ppl "$run" $OUT/$name > $OUT/$name.ppl.log 2>&1 ) &
done
wait
for f in $OUT/*.quantize.log; do grep -A1 "^wrote" "$f" | tr '\n' ' '; grep "outliers (" "$f"; echo; grep -h "^==\|perplexity" "${f%.quantize.log}.ppl.log"; done
