# Shared by the make_*_fixture.py scripts: writes tensors as safetensors (the `safetensors` package
# is not in Debian): a u64 header length, a JSON header {name: {dtype, shape, data_offsets}} padded
# to 8 bytes, then the raw little-endian data in name order.
import json, struct
import torch

def save_safetensors(tensors, path, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        data = t.numpy().tobytes()
        dtype = {torch.float32: "F32", torch.int32: "I32"}[t.dtype]
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def adamw_step_losses(params, forward, ids, targets, vocab, decays, steps=10, lr=1e-2):
    """Losses of `steps` AdamW updates (lr `lr`, betas (0.9, 0.999), eps 1e-8, weight decay 0.1 on the
    tensors for which decays(name, tensor) is true, none on the rest) with global-norm clipping at 1.0."""
    import torch.nn.functional as F
    decay = [v for k, v in params.items() if decays(k, v)]
    no_decay = [v for k, v in params.items() if not decays(k, v)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=lr, betas=(0.9, 0.999), eps=1e-8, foreach=False)
    for v in params.values():
        v.grad = None
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(forward(ids).view(-1, vocab), targets.view(-1), ignore_index=-100)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(params.values()), 1.0)
        opt.step()
        losses.append(loss.item())
    return torch.tensor(losses, dtype=torch.float32)


def load_safetensors(path):
    """Reads a safetensors file of F32/I32 tensors (the inverse of save_safetensors): (tensors, metadata)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    out = {}
    for name, e in header.items():
        dtype = {"F32": torch.float32, "I32": torch.int32}[e["dtype"]]
        b, end = e["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[b:end]), dtype=dtype).reshape(e["shape"]).clone()
    return out, meta
