#!/usr/bin/env bash
# GGUF fixtures written by llama.cpp's own llama-quantize (snapshot c392e509, built by
# ../shared/anchors/build-llamacpp.sh into /tmp/anchors/llama.cpp), from the converter-made files of
# make_gguf_fixture.py. Run from the repo root after that script.
set -euo pipefail
q=${LLAMA_QUANTIZE:-/tmp/anchors/llama.cpp/build/bin/llama-quantize}
d=tests/Loom.Models.Tests/Fixtures/gguf
"$q" "$d/gpt2_tiny.gguf" "$d/gpt2_tiny_q4_0_llama-quantize.gguf" Q4_0 1
"$q" "$d/llama_tiny.gguf" "$d/llama_tiny_q8_0_llama-quantize.gguf" Q8_0 1
