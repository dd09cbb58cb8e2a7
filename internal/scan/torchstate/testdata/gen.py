#!/usr/bin/env python3
"""Writes the PyTorch checkpoints of this directory with torch itself, and
expected.json with what torch says about each: the parameter count
(sum of numel over the model's parameters, shared ones once), the number of
parameter tensors, and the dtype holding most parameters.

Run with a Python that has torch (Debian's python3-torch will do), from
anywhere:

    /usr/bin/python3 internal/scan/torchstate/testdata/gen.py

The models are a few layers wide, so each file is a few KB. Seeds are
fixed, but the weights do not matter to the tests: only the pickles'
structure is read.
"""
import argparse
import json
import os

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


def seq():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))


class Tied(nn.Module):
    """An embedding whose weight the output layer reuses, as language models do."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.hidden = nn.Linear(4, 4)
        self.out = nn.Linear(4, 10, bias=False)
        self.out.weight = self.emb.weight


def facts(params):
    """What torch says: count, tensors and main dtype of unique parameters."""
    unique, seen = [], set()
    for p in params:
        if id(p) not in seen:
            seen.add(id(p))
            unique.append(p)
    by_dtype = {}
    for p in unique:
        name = str(p.dtype).replace("torch.", "")
        by_dtype[name] = by_dtype.get(name, 0) + p.numel()
    dtype = sorted(by_dtype.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    return {"parameters": sum(p.numel() for p in unique), "tensors": len(unique), "dtype": dtype}


def main():
    expected = {}

    def save(name, obj, params, legacy=False, **kw):
        path = os.path.join(HERE, name)
        torch.save(obj, path, _use_new_zipfile_serialization=not legacy, **kw)
        entry = facts(params)
        entry["format"] = "legacy" if legacy else "zip"
        expected[name] = entry

    m = seq()
    save("seq_zip.pt", m.state_dict(), m.parameters())
    save("seq_legacy.pt", m.state_dict(), m.parameters(), legacy=True)
    save("seq_proto4_zip.pt", m.state_dict(), m.parameters(), pickle_protocol=4)

    # A training checkpoint: Adam's state after one step holds tensors
    # (exp_avg, exp_avg_sq) as large as the model, which are not parameters.
    m = seq()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    m(torch.randn(3, 4)).sum().backward()
    opt.step()
    ckpt = {"epoch": 3, "state_dict": m.state_dict(), "optimizer": opt.state_dict()}
    save("checkpoint_zip.pt", ckpt, m.parameters())
    save("checkpoint_legacy.pt", ckpt, m.parameters(), legacy=True)

    # Mostly bfloat16, with a float32 LayerNorm.
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(8, 16), nn.LayerNorm(16))
    m[0].to(torch.bfloat16)
    save("bf16_zip.pt", m.state_dict(), m.parameters())

    # Tied weights: the state dict names the shared weight twice (two
    # detached tensors on one storage); torch counts it once.
    torch.manual_seed(0)
    m = Tied()
    save("tied_zip.pt", m.state_dict(), m.parameters())
    # keep_vars=True pickles the Parameter objects themselves
    # (_rebuild_parameter), the shared one once and then by reference.
    save("tied_params_legacy.pt", m.state_dict(keep_vars=True), m.parameters(), legacy=True)

    # A state dict carrying the training arguments as an argparse.Namespace.
    m = seq()
    sd = m.state_dict()
    sd["args"] = argparse.Namespace(lr=0.1, layers=2, name="tiny")
    save("args_zip.pt", sd, m.parameters())

    # A whole module pickled (torch.save(model)): module classes by
    # reference, parameters in their _parameters OrderedDicts.
    m = seq()
    save("module_zip.pt", m, m.parameters())

    # A quantized tensor (_rebuild_qtensor).
    torch.manual_seed(0)
    q = torch.quantize_per_tensor(torch.randn(4, 6), 0.1, 10, torch.qint8)
    save("qint8_zip.pt", {"weight": q}, [q])

    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
