#!/usr/bin/python3
"""Makes the small project that the ML-BOM golden and end-to-end tests
describe: a PyTorch checkpoint, a Hugging Face style safetensors folder with
a model card, an ONNX classifier, a GGUF file, and a requirements.txt with a
package-lock.json. Run with Debian's python3-torch, python3-onnx and
python3-numpy: /usr/bin/python3 testdata/bomproject/make_fixtures.py
The output is deterministic; every file stays a few KB."""
import hashlib
import json
import os
import shutil
import struct

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def out(*parts):
    p = os.path.join(HERE, *parts)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


# 1. A PyTorch state dict in the zip format: a 2-layer MLP, 4*8+8 + 8*2+2 = 58 parameters.
torch.manual_seed(0)
mlp = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
torch.save(mlp.state_dict(), out("pytorch", "mlp.pt"))

# 2. A Hugging Face style folder: config.json, safetensors weights written by
# hand to the format's spec (8-byte little-endian header length, JSON header,
# data), a tokenizer config, a model card, and the download metadata that
# huggingface_hub keeps (.cache/huggingface/download/<file>.metadata).
tensors = {
    "embed.weight": (np.arange(32 * 16).reshape(32, 16) / 512).astype(np.float16),
    "lm_head.weight": np.ones((32, 16), dtype=np.float16),
    "norm.weight": np.ones((16,), dtype=np.float32),
}
header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
for name in sorted(tensors):
    a = tensors[name]
    b = a.tobytes()
    header[name] = {"dtype": {"float16": "F16", "float32": "F32"}[str(a.dtype)], "shape": list(a.shape),
                    "data_offsets": [offset, offset + len(b)]}
    offset += len(b)
    blobs.append(b)
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * (-len(h) % 8)
weights = struct.pack("<Q", len(h)) + h + b"".join(blobs)
with open(out("hf-model", "model.safetensors"), "wb") as f:
    f.write(weights)
with open(out("hf-model", "config.json"), "w") as f:
    json.dump({"_name_or_path": "mlguard-test/tiny-llama", "architectures": ["LlamaForCausalLM"],
               "model_type": "llama", "hidden_size": 16, "vocab_size": 32, "torch_dtype": "float16",
               "transformers_version": "4.44.0"}, f, indent=2)
    f.write("\n")
with open(out("hf-model", "tokenizer_config.json"), "w") as f:
    json.dump({"bos_token": "<s>", "eos_token": "</s>", "model_max_length": 2048}, f, indent=2)
    f.write("\n")
with open(out("hf-model", "README.md"), "w") as f:
    f.write("""---
license: apache-2.0
language:
- en
pipeline_tag: text-generation
library_name: transformers
tags:
- llama
- test-fixture
datasets:
- mlguard-test/tiny-corpus
base_model: mlguard-test/tiny-base
model-index:
- name: tiny-llama
  results:
  - task:
      type: text-generation
      name: Text Generation
    dataset:
      name: Tiny Eval
      type: mlguard-test/tiny-eval
      split: test
    metrics:
    - type: accuracy
      value: 0.42
      name: Accuracy
---

# tiny-llama

A 1,040-parameter test model for mlguard's ML-BOM tests.

## Intended uses

Exercising SBOM tooling; it generates nothing useful.

## Limitations

It was never trained on anything meaningful.

## Bias, Risks, and Limitations

The weights are constants, so it has no learned bias, and no use beyond tests.
""")
with open(out("hf-model", ".cache", "huggingface", "download", "model.safetensors.metadata"), "w") as f:
    # The etag of a Git LFS file is the SHA-256 of its content.
    f.write("0123456789abcdef0123456789abcdef01234567\n\"%s\"\n1700000000.0\n" % hashlib.sha256(weights).hexdigest())

# 3. An ONNX classifier with a symbolic batch dimension: input "features"
# FLOAT [batch, 4], output "scores" FLOAT [batch, 3], 4*3+3 = 15 parameters.
w = numpy_helper.from_array(np.full((4, 3), 0.5, dtype=np.float32), "W")
bias = numpy_helper.from_array(np.zeros((3,), dtype=np.float32), "B")
graph = helper.make_graph(
    [helper.make_node("Gemm", ["features", "W", "B"], ["scores"])], "classifier",
    [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 4])],
    [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", 3])],
    [w, bias])
model = helper.make_model(graph, producer_name="mlguard-fixtures", producer_version="1.0",
                          opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, out("classifier.onnx"))

# 4. A GGUF file: the GGUF scanner's own small Qwen2 fixture.
shutil.copyfile(os.path.join(REPO, "internal", "scan", "gguf", "testdata", "benign", "qwen2-v2.gguf"),
                out("gguf", "qwen2.gguf"))

# 5. Manifests: a pinned requirements.txt and an npm lock file (lockfileVersion 3).
with open(out("requirements.txt"), "w") as f:
    f.write("torch==2.3.1\nnumpy==1.26.4\nrequests>=2.31\n")
lock = {
    "name": "bom-fixture", "version": "1.0.0", "lockfileVersion": 3, "requires": True,
    "packages": {
        "": {"name": "bom-fixture", "version": "1.0.0", "dependencies": {"express": "4.19.2"}},
        "node_modules/express": {"version": "4.19.2",
                                 "resolved": "https://registry.npmjs.org/express/-/express-4.19.2.tgz",
                                 "integrity": "sha512-5T6nhjsT+EOMzuck8JjBHARTHfMht0POzlA60WV2pMD3gyXw2LZnZ+ueGdNxG+0calOJcWKbpFcuzLZ91YWq9Q==",
                                 "license": "MIT", "dependencies": {"cookie": "0.6.0"}},
        "node_modules/cookie": {"version": "0.6.0",
                                "resolved": "https://registry.npmjs.org/cookie/-/cookie-0.6.0.tgz",
                                "integrity": "sha512-U71cyTamuh1CRNCfpGY6jLaoLMZr0Vyq7ZhkZmRj2xAGUO9fw7vEhA+EwjWZZR0z2k9rZjBIEiOmTvJpeEqA2w==",
                                "license": "MIT"},
    },
}
with open(out("web", "package-lock.json"), "w") as f:
    json.dump(lock, f, indent=2)
    f.write("\n")
with open(out("web", "package.json"), "w") as f:
    json.dump({"name": "bom-fixture", "version": "1.0.0", "dependencies": {"express": "4.19.2"}}, f, indent=2)
    f.write("\n")
print("made the bomproject fixtures")
