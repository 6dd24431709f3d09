#!/usr/bin/python3
"""Reference values for Loom's T5 span corruption (tests/Loom.Training.Tests/Seq2Seq/SpanCorruptionTests.cs).

The algorithm is Hugging Face's examples/flax/language-modeling/run_t5_mlm_flax.py
(compute_input_and_target_lengths, DataCollatorForFlaxT5MLM.random_spans_noise_mask,
create_sentinel_ids, filter_input_ids), itself a port of T5's
t5.data.preprocessors.random_spans_noise_mask (Raffel et al. 2020, section 3.1.4). It is
re-implemented here with numpy from that description (no code copied); its only randomness is
np.random.shuffle, which C# cannot reproduce, so the fixture holds:
  1. lengths: compute_input_and_target_lengths over a grid of settings (deterministic);
  2. fills:   token ids + a numpy-drawn mask -> the collator's input_ids and labels (deterministic
              given the mask), sentinels counting down from len(tokenizer) - 1, EOS appended;
  3. stats:   over N masks per setting, the frequency with which each position is noise and the
              histogram of noise-span lengths; C# compares its own masks with binomial bounds.

Run: /usr/bin/python3 make_span_fixture.py  (writes span_fixture.json next to this file)
"""
import json
import os

import numpy as np


def tokens_to_lengths(tokens_length, noise_density, mean_noise_span_length):
    num_noise_tokens = int(round(tokens_length * noise_density))
    num_nonnoise_tokens = tokens_length - num_noise_tokens
    num_noise_spans = int(round(num_noise_tokens / mean_noise_span_length))
    # inputs: the non-noise tokens, one sentinel per span, EOS; targets: noise tokens, sentinels, EOS
    return num_nonnoise_tokens + num_noise_spans + 1, num_noise_tokens + num_noise_spans + 1


def compute_input_and_target_lengths(inputs_length, noise_density, mean_noise_span_length):
    tokens_length = inputs_length
    while tokens_to_lengths(tokens_length + 1, noise_density, mean_noise_span_length)[0] <= inputs_length:
        tokens_length += 1
    _, targets_length = tokens_to_lengths(tokens_length, noise_density, mean_noise_span_length)
    if noise_density == 0.5 and targets_length > inputs_length:
        tokens_length -= 1
        targets_length -= 1
    return tokens_length, targets_length


def random_segmentation(num_items, num_segments, rng):
    first = np.arange(num_items - 1) < (num_segments - 1)
    rng.shuffle(first)
    first = np.pad(first, [[1, 0]])
    segment_id = np.cumsum(first)
    _, lengths = np.unique(segment_id, return_counts=True)
    return lengths


def random_spans_noise_mask(length, noise_density, mean_noise_span_length, rng):
    num_noise_tokens = int(np.round(length * noise_density))
    num_nonnoise_tokens = length - num_noise_tokens
    num_noise_tokens = min(max(num_noise_tokens, 1), length - 1)
    num_noise_spans = int(np.round(min(num_noise_tokens, num_nonnoise_tokens) / mean_noise_span_length))
    num_noise_spans = max(num_noise_spans, 1)
    num_nonnoise_tokens = length - num_noise_tokens
    noise = random_segmentation(num_noise_tokens, num_noise_spans, rng)
    nonnoise = random_segmentation(num_nonnoise_tokens, num_noise_spans, rng)
    interleaved = np.reshape(np.stack([nonnoise, noise], axis=1), [num_noise_spans * 2])
    starts = np.cumsum(interleaved)[:-1]
    indicator = np.zeros((length,), dtype=np.int8)
    indicator[starts] = True
    span_num = np.cumsum(indicator)
    return np.equal(span_num % 2, 1)


def create_sentinel_ids(mask_indices, vocab_len):
    start = mask_indices - np.roll(mask_indices, 1, axis=-1) * mask_indices
    start[:, 0] = mask_indices[:, 0]
    sentinel = np.where(start != 0, np.cumsum(start, axis=-1), start)
    sentinel = np.where(sentinel != 0, vocab_len - sentinel, 0)
    sentinel -= mask_indices - start
    return sentinel


def filter_input_ids(input_ids, sentinel_ids, eos):
    full = np.where(sentinel_ids != 0, sentinel_ids, input_ids)
    kept = full[full >= 0].reshape((input_ids.shape[0], -1))
    return np.concatenate([kept, np.full((input_ids.shape[0], 1), eos, dtype=np.int64)], axis=-1)


def main():
    out = {"source": "numpy re-implementation of HF run_t5_mlm_flax.py DataCollatorForFlaxT5MLM (see make_span_fixture.py)"}

    grid = []
    for inputs_length in [8, 16, 32, 64, 100, 128, 256, 512, 568, 1024]:
        for density, mean in [(0.15, 3.0), (0.3, 3.0), (0.5, 3.0), (0.15, 8.0), (0.5, 1.0)]:
            tokens, targets = compute_input_and_target_lengths(inputs_length, density, mean)
            grid.append({"inputs_length": inputs_length, "noise_density": density, "mean_noise_span_length": mean,
                         "tokens_length": tokens, "targets_length": targets})
    out["lengths"] = grid

    rng = np.random.default_rng(20261202)
    vocab_len, eos = 120, 1
    fills = []
    for length, density, mean in [(10, 0.15, 3.0), (20, 0.15, 3.0), (37, 0.15, 3.0), (64, 0.3, 2.0), (114, 0.15, 3.0), (40, 0.5, 3.0)]:
        for _ in range(3):
            ids = rng.integers(2, 100, size=length)
            mask = random_spans_noise_mask(length, density, mean, rng)
            m = mask[None, :].astype(np.int8)
            inputs = filter_input_ids(ids[None, :], create_sentinel_ids(m, vocab_len), eos)[0]
            labels = filter_input_ids(ids[None, :], create_sentinel_ids((~mask[None, :]).astype(np.int8), vocab_len), eos)[0]
            fills.append({"ids": ids.tolist(), "mask": mask.astype(int).tolist(), "vocab_len": vocab_len, "eos": eos,
                          "noise_density": density, "mean_noise_span_length": mean,
                          "input_ids": inputs.tolist(), "labels": labels.tolist()})
    out["fills"] = fills

    stats = []
    n = 100000
    for length, density, mean in [(114, 0.15, 3.0), (30, 0.15, 3.0), (50, 0.5, 3.0)]:
        pos = np.zeros(length, dtype=np.int64)
        spans = np.zeros(length + 1, dtype=np.int64)
        counts = set()
        for _ in range(n):
            mask = random_spans_noise_mask(length, density, mean, rng)
            pos += mask
            # lengths of the maximal runs of noise
            padded = np.concatenate([[0], mask.astype(np.int8), [0]])
            d = np.diff(padded)
            starts, ends = np.where(d == 1)[0], np.where(d == -1)[0]
            for s, e in zip(starts, ends):
                spans[e - s] += 1
            counts.add((int(mask.sum()), len(starts)))
        assert len(counts) == 1, counts  # noise count and span count are fixed by the length
        (noise, span_count), = counts
        stats.append({"length": length, "noise_density": density, "mean_noise_span_length": mean, "samples": n,
                      "noise_tokens": noise, "noise_spans": span_count,
                      "position_noise_frequency": (pos / n).tolist(),
                      "span_length_frequency": (spans / spans.sum()).tolist()})
    out["stats"] = stats

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "span_fixture.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
