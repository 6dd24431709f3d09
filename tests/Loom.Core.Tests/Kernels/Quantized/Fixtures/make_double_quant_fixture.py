#!/usr/bin/python3
"""Reference for NF4 double quantization (QLoRA, Dettmers et al. 2023, §3 "Double Quantization").

Written from the paper's description and bitsandbytes' quantize_4bit(compress_statistics=True) (read, not
copied): the fp32 absmax of each 64-weight NF4 block is itself quantized -- over the matrix's absmaxes in
row-major order, subtract their mean (offset), split into blocks of 256, divide each by its largest |value|
(one fp32 scale per block) and store the index of the nearest value of bitsandbytes' signed dynamic 8-bit
code (create_dynamic_map(signed=True)), ties to the lower index. Decode: code[q] * scale + offset.
The dynamic map is built exactly as bitsandbytes builds it (torch.linspace in float32).
All arithmetic that Loom does in float32 is float32 here too.

Writes (little-endian):
  dq_map.f32       256 values of the dynamic code, ascending
  dq_weights.f32   (40, 512) weights, row-major
  dq_absmax.f32    (320,) NF4 block absmaxes (fp32)
  dq_codes.u8      (320,) 8-bit codes of the absmaxes
  dq_scales.f32    (2,)   second-level scales (blocks of 256: 256 + 64)
  dq_offset.f32    (1,)   the mean absmax
  dq_dequant.f32   (40, 512) weights decoded with the double-quantized absmaxes
Run: /usr/bin/python3 make_double_quant_fixture.py (numpy, torch); seed fixed.
"""
import numpy as np
import torch

NF4 = np.array([-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
                -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
                0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
                0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0], dtype=np.float32)


def dynamic_map(signed=True, max_exponent_bits=7, total_bits=8):
    # bitsandbytes functional.create_dynamic_map, from its description: for i = 0..6 an exponent
    # 10^(-6+i) with 2^i fraction values (means of consecutive points of linspace(0.1, 1, 2^i + 1)),
    # mirrored for the sign; then 0 and 1.0; sorted.
    data = []
    non_sign_bits = total_bits - 1
    for i in range(max_exponent_bits):
        n = 2 ** (i + non_sign_bits - max_exponent_bits) + 1
        b = torch.linspace(0.1, 1, n)  # float32, as bitsandbytes
        means = (b[:-1] + b[1:]) / 2.0
        data += (10 ** (-(max_exponent_bits - 1) + i) * means).tolist()
        if signed:
            data += (-10 ** (-(max_exponent_bits - 1) + i) * means).tolist()
    data.append(0)
    data.append(1.0)
    assert len(data) == 2 ** total_bits
    data.sort()
    return np.array(data, dtype=np.float32)


def nf4_codes(x, absmax):
    inv = np.float32(1) / absmax if absmax > 0 else np.float32(0)
    v = (x * inv).astype(np.float32)
    mids = ((NF4[:-1] + NF4[1:]) * np.float32(0.5)).astype(np.float32)
    return np.searchsorted(mids, v, side="left")  # v > mid(c-1, c) moves to c; a tie stays low


def nearest(code, v):
    d = np.abs(code[None, :] - v[:, None]).astype(np.float32)
    return np.argmin(d, axis=1).astype(np.uint8)  # first minimum: ties to the lower index


def main():
    rng = np.random.default_rng(15)
    rows, cols = 40, 512
    # Rows of unequal scale (so absmaxes spread), heavy tails in some rows, one near-zero row.
    scale = np.exp(rng.normal(0, 0.6, size=(rows, 1))).astype(np.float32) * np.float32(0.02)
    w = (rng.standard_normal((rows, cols)) * scale).astype(np.float32)
    w[3] = (rng.standard_t(3, cols) * 0.05).astype(np.float32)
    w[17] *= np.float32(1e-3)
    code = dynamic_map()

    blocks = w.reshape(-1, 64)
    absmax = np.abs(blocks).max(axis=1).astype(np.float32)
    q4 = np.stack([nf4_codes(blocks[b], absmax[b]) for b in range(len(blocks))])

    offset = np.float32(np.mean(absmax.astype(np.float64)))
    centred = (absmax - offset).astype(np.float32)
    codes = np.zeros(len(absmax), dtype=np.uint8)
    scales = []
    for g in range(0, len(absmax), 256):
        c = centred[g:g + 256]
        m = np.float32(np.abs(c).max())
        inv = np.float32(1) / m if m > 0 else np.float32(0)
        codes[g:g + 256] = nearest(code, (c * inv).astype(np.float32))
        scales.append(m)
    scales = np.array(scales, dtype=np.float32)
    absmax_dq = (code[codes] * scales[np.arange(len(absmax)) // 256] + offset).astype(np.float32)
    deq = (NF4[q4] * absmax_dq[:, None]).astype(np.float32).reshape(rows, cols)

    code.tofile("dq_map.f32")
    w.tofile("dq_weights.f32")
    absmax.tofile("dq_absmax.f32")
    codes.tofile("dq_codes.u8")
    scales.tofile("dq_scales.f32")
    np.array([offset], dtype=np.float32).tofile("dq_offset.f32")
    deq.tofile("dq_dequant.f32")
    plain = (NF4[q4] * absmax[:, None]).reshape(rows, cols)
    bits = 8 * (len(absmax) * 33 + 4 * len(scales) + 4) / w.size
    print(f"absmax rel. error after double quantization: max {np.max(np.abs(absmax_dq - absmax) / absmax):.4g}")
    print(f"weights: RMSE plain nf4 {np.sqrt(np.mean((plain - w) ** 2)):.4g}, double-quant {np.sqrt(np.mean((deq - w) ** 2)):.4g}; {bits:.4f} bits/weight")


if __name__ == "__main__":
    main()
