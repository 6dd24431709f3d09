# Makes the quantization fixtures Loom's BlockQuantizer is checked against (tests never run Python).
#
#   /usr/bin/python3 make_quant_fixture.py /path/to/llama.cpp/gguf-py
#
# References, all from llama.cpp commit c392e5094deaf2d1a7c18683214f007fad3fe42b:
#  - Q8_0 and Q4_0: gguf-py's numpy quantize/dequantize (gguf/quants.py, "bit-exact with ggml-quants.c").
#  - Q4_K and Q6_K: gguf-py has only their dequantizers, so quantize_row_q4_K_ref and
#    quantize_row_q6_K_ref (ggml/src/ggml-quants.c, with make_qkx2_quants / make_qx_quants and
#    nearest_int) are ported below in numpy float32 scalar arithmetic, statement for statement; the
#    blocks they make are decoded by gguf-py's dequantize.
#  - NF4: the 16 NormalFloat levels of bitsandbytes (functional.py, QLoRA Appendix E), nearest level
#    by midpoint thresholds, blocks of 64 with a float32 absmax (Loom's NF4 block layout).
#
# Output (little-endian): rows.f32 (ROWS × N float32 inputs), <fmt>.blocks (the reference blocks),
# <fmt>.dequant.f32 (the reference dequantization of those blocks), manifest.json.
import json, os, sys
import numpy as np

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else "/tmp/q15a")
from gguf import quants  # noqa: E402
from gguf.constants import GGMLQuantizationType as T  # noqa: E402

f32 = np.float32
N, ROWS = 512, 6

def rows():
    rng = np.random.default_rng(15)
    r = [rng.standard_normal(N) * 0.02,                       # a trained projection's scale
         rng.standard_t(3, N) * 0.05,                        # heavy tails
         rng.uniform(-1, 1, N),
         np.concatenate([np.zeros(256), rng.standard_normal(256)]),   # an all-zero super-block
         rng.standard_normal(N) * 0.02 + 0.01,               # an offset (all mins non-zero)
         rng.standard_normal(N) * 0.02]
    r[5][17] = 0.9; r[5][300] = -1.3                          # outliers
    return np.stack(r).astype(f32)

def nearest_int(v):
    val = f32(f32(v) + f32(12582912.0))
    i = int(np.array(val, dtype=f32).view(np.int32))
    return (i & 0x007fffff) - 0x00400000

def fp16(v):
    return np.float16(f32(v))

def make_qkx2_quants(n, nmax, x, weights, rmin, rdelta, nstep):
    L = np.zeros(n, np.uint8); Laux = np.zeros(n, np.uint8)
    mn = x[0]; mx = x[0]; sum_w = weights[0]; sum_x = f32(sum_w * x[0])
    for i in range(1, n):
        if x[i] < mn: mn = x[i]
        if x[i] > mx: mx = x[i]
        w = weights[i]; sum_w = f32(sum_w + w); sum_x = f32(sum_x + f32(w * x[i]))
    if mn > 0: mn = f32(0)
    if mx == mn:
        return f32(0), L, f32(-mn)
    iscale = f32(f32(nmax) / f32(mx - mn)); scale = f32(f32(1) / iscale); best_mad = f32(0)
    for i in range(n):
        l = nearest_int(f32(iscale * f32(x[i] - mn)))
        L[i] = max(0, min(nmax, l))
        diff = f32(f32(f32(scale * f32(L[i])) + mn) - x[i]); diff = f32(diff * diff)
        best_mad = f32(best_mad + f32(weights[i] * diff))
    for st in range(nstep + 1):
        iscale = f32(f32(f32(rmin + f32(rdelta * f32(st))) + f32(nmax)) / f32(mx - mn))
        sum_l = f32(0); sum_l2 = f32(0); sum_xl = f32(0)
        for i in range(n):
            l = nearest_int(f32(iscale * f32(x[i] - mn)))
            l = max(0, min(nmax, l)); Laux[i] = l; w = weights[i]
            sum_l = f32(sum_l + f32(w * f32(l)))
            sum_l2 = f32(sum_l2 + f32(f32(w * f32(l)) * f32(l)))
            sum_xl = f32(sum_xl + f32(f32(w * f32(l)) * x[i]))
        D = f32(f32(sum_w * sum_l2) - f32(sum_l * sum_l))
        if D > 0:
            this_scale = f32(f32(f32(sum_w * sum_xl) - f32(sum_x * sum_l)) / D)
            this_min = f32(f32(f32(sum_l2 * sum_x) - f32(sum_l * sum_xl)) / D)
            if this_min > 0:
                this_min = f32(0); this_scale = f32(sum_xl / sum_l2)
            mad = f32(0)
            for i in range(n):
                diff = f32(f32(f32(this_scale * f32(Laux[i])) + this_min) - x[i]); diff = f32(diff * diff)
                mad = f32(mad + f32(weights[i] * diff))
            if mad < best_mad:
                L[:] = Laux; best_mad = mad; scale = this_scale; mn = this_min
    return scale, L, f32(-mn)

def quantize_q4_K(x):
    out = bytearray()
    for b in range(len(x) // 256):
        xb = x[256 * b:256 * (b + 1)]
        L = np.zeros(256, np.uint8); scales = [f32(0)] * 8; mins = [f32(0)] * 8
        max_scale = f32(0); max_min = f32(0)
        for j in range(8):
            xj = xb[32 * j:32 * j + 32]
            sum_x2 = f32(0)
            for l in range(32): sum_x2 = f32(sum_x2 + f32(xj[l] * xj[l]))
            av_x = f32(np.sqrt(f32(sum_x2 / f32(32))))
            weights = np.array([f32(av_x + abs(xj[l])) for l in range(32)], f32)
            s, Lj, m = make_qkx2_quants(32, 15, xj, weights, f32(-1.0), f32(0.1), 20)
            scales[j] = s; mins[j] = m; L[32 * j:32 * j + 32] = Lj
            if s > max_scale: max_scale = s
            if m > max_min: max_min = m
        inv_scale = f32(f32(63) / max_scale) if max_scale > 0 else f32(0)
        inv_min = f32(f32(63) / max_min) if max_min > 0 else f32(0)
        sc = [0] * 12
        for j in range(8):
            ls = min(63, nearest_int(f32(inv_scale * scales[j])) & 0xFF)
            lm = min(63, nearest_int(f32(inv_min * mins[j])) & 0xFF)
            if j < 4:
                sc[j] = ls; sc[j + 4] = lm
            else:
                sc[j + 4] = (ls & 0xF) | ((lm & 0xF) << 4)
                sc[j - 4] |= (ls >> 4) << 6
                sc[j] |= (lm >> 4) << 6
        d = fp16(f32(max_scale / f32(63))); dmin = fp16(f32(max_min / f32(63)))
        for j in range(8):
            if j < 4: s_, m_ = sc[j] & 63, sc[j + 4] & 63
            else: s_, m_ = (sc[j + 4] & 0xF) | ((sc[j - 4] >> 6) << 4), (sc[j + 4] >> 4) | ((sc[j] >> 6) << 4)
            dd = f32(f32(d) * f32(s_))
            if dd == 0: continue
            dm = f32(f32(dmin) * f32(m_))
            for ii in range(32):
                l = nearest_int(f32(f32(xb[32 * j + ii] + dm) / dd))
                L[32 * j + ii] = max(0, min(15, l))
        qs = bytearray(128)
        for g in range(4):
            for l in range(32): qs[32 * g + l] = int(L[64 * g + l]) | (int(L[64 * g + l + 32]) << 4)
        out += np.array([d, dmin], np.float16).tobytes() + bytes(sc) + bytes(qs)
    return np.frombuffer(bytes(out), np.uint8)

def make_qx_quants(n, nmax, x):
    L = np.zeros(n, np.int8)
    mx = f32(0); amax = f32(0)
    for i in range(n):
        ax = abs(x[i])
        if ax > amax: amax = ax; mx = x[i]
    if amax < f32(1e-15):
        return f32(0), L
    iscale = f32(f32(-nmax) / mx)
    sumlx = f32(0); suml2 = f32(0)
    for i in range(n):
        l = nearest_int(f32(iscale * x[i])); l = max(-nmax, min(nmax - 1, l)); L[i] = l + nmax
        w = f32(x[i] * x[i])
        sumlx = f32(sumlx + f32(f32(w * x[i]) * f32(l)))
        suml2 = f32(suml2 + f32(f32(w * f32(l)) * f32(l)))
    scale = f32(sumlx / suml2) if suml2 != 0 else f32(0)
    best = f32(scale * sumlx)
    for st in range(-9, 10):
        if st == 0: continue
        iscale = f32(f32(-(f32(nmax) + f32(f32(0.1) * f32(st)))) / mx)
        sumlx = f32(0); suml2 = f32(0)
        for i in range(n):
            l = nearest_int(f32(iscale * x[i])); l = max(-nmax, min(nmax - 1, l))
            w = f32(x[i] * x[i])
            sumlx = f32(sumlx + f32(f32(w * x[i]) * f32(l)))
            suml2 = f32(suml2 + f32(f32(w * f32(l)) * f32(l)))
        if suml2 > 0 and f32(sumlx * sumlx) > f32(best * suml2):
            for i in range(n):
                l = nearest_int(f32(iscale * x[i])); L[i] = nmax + max(-nmax, min(nmax - 1, l))
            scale = f32(sumlx / suml2); best = f32(scale * sumlx)
    return scale, L

def quantize_q6_K(x):
    out = bytearray()
    for b in range(len(x) // 256):
        xb = x[256 * b:256 * (b + 1)]
        L = np.zeros(256, np.int8); scales = [f32(0)] * 16
        max_scale = f32(0); max_abs = f32(0)
        for ib in range(16):
            s, Lb = make_qx_quants(16, 32, xb[16 * ib:16 * ib + 16])
            scales[ib] = s; L[16 * ib:16 * ib + 16] = Lb
            if abs(s) > max_abs: max_abs = abs(s); max_scale = s
        if max_abs < f32(1e-15):
            out += bytes(210); continue
        iscale = f32(f32(-128) / max_scale)
        d = fp16(f32(f32(1) / iscale))
        sc = [min(127, nearest_int(f32(iscale * scales[ib]))) for ib in range(16)]
        for j in range(16):
            dd = f32(f32(d) * f32(sc[j]))
            if dd == 0: continue
            for ii in range(16):
                l = nearest_int(f32(xb[16 * j + ii] / dd)); L[16 * j + ii] = max(-32, min(31, l)) + 32
        ql = bytearray(128); qh = bytearray(64)
        for h in range(2):
            j = 128 * h
            for l in range(32):
                a, b_, c, e = (int(L[j + l + k]) for k in (0, 32, 64, 96))
                ql[64 * h + l] = (a & 0xF) | ((c & 0xF) << 4)
                ql[64 * h + l + 32] = (b_ & 0xF) | ((e & 0xF) << 4)
                qh[32 * h + l] = (a >> 4) | ((b_ >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6)
        out += bytes(ql) + bytes(qh) + np.array(sc, np.int8).tobytes() + np.array([d], np.float16).tobytes()
    return np.frombuffer(bytes(out), np.uint8)

NF4 = np.array([-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
                -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
                0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
                0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0], f32)

def quantize_nf4(x):
    out = bytearray()
    mids = f32((NF4[:-1] + NF4[1:]) * f32(0.5))
    for b in range(len(x) // 64):
        xb = x[64 * b:64 * b + 64]
        amax = f32(np.max(np.abs(xb)))
        inv = f32(f32(1) / amax) if amax > 0 else f32(0)
        codes = [int(np.sum(f32(v * inv) > mids)) for v in xb]
        out += np.array([amax], f32).tobytes() + bytes(codes[j] | (codes[j + 32] << 4) for j in range(32))
    return np.frombuffer(bytes(out), np.uint8)

def dequantize_nf4(blocks):
    blocks = blocks.reshape(-1, 36)
    amax = blocks[:, :4].copy().view(f32)
    qs = blocks[:, 4:]
    codes = np.concatenate([qs & 0xF, qs >> 4], axis=1)
    return (NF4[codes] * amax).reshape(-1).astype(f32)

def main():
    here = os.path.dirname(os.path.abspath(__file__))
    x = rows()
    x.tofile(os.path.join(here, "rows.f32"))
    formats = {
        "q8_0": (lambda r: quants.quantize(r, T.Q8_0).reshape(-1), lambda b: quants.dequantize(b, T.Q8_0)),
        "q4_0": (lambda r: quants.quantize(r, T.Q4_0).reshape(-1), lambda b: quants.dequantize(b, T.Q4_0)),
        "q4_k": (quantize_q4_K, lambda b: quants.dequantize(b, T.Q4_K)),
        "q6_k": (quantize_q6_K, lambda b: quants.dequantize(b, T.Q6_K)),
        "nf4": (quantize_nf4, dequantize_nf4),
    }
    manifest = {"rows": ROWS, "n": N, "llama_cpp_commit": "c392e5094deaf2d1a7c18683214f007fad3fe42b", "formats": {}}
    for name, (q, dq) in formats.items():
        blocks = np.concatenate([q(x[r]) for r in range(ROWS)]).astype(np.uint8)
        deq = np.asarray(dq(blocks), dtype=f32).reshape(-1)
        assert deq.size == ROWS * N, (name, deq.size)
        blocks.tofile(os.path.join(here, f"{name}.blocks"))
        deq.tofile(os.path.join(here, f"{name}.dequant.f32"))
        err = float(np.sqrt(np.mean((deq - x.reshape(-1)) ** 2)))
        manifest["formats"][name] = {"bytes": int(blocks.size), "rmse": err}
        print(name, blocks.size, "bytes, rmse", err)
    with open(os.path.join(here, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)

if __name__ == "__main__":
    main()
