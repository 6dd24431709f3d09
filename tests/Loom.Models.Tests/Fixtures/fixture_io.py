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
