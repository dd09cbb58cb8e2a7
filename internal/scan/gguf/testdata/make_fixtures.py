#!/usr/bin/env python3
"""Writes the GGUF fixtures of this directory byte by byte, following the
GGUF specification (ggml/docs/gguf.md) and llama.cpp's reader (gguf.cpp):

    magic "GGUF", uint32 version, tensor count, metadata pair count,
    pairs (string key, uint32 type, value), tensor infos (name, uint32
    n_dims, dims, uint32 ggml type, uint64 offset), padding to
    general.alignment, tensor data.

Version 1 uses uint32 for counts, string lengths, array lengths and
dimensions; versions 2 and 3 use uint64. Big-endian files swap every number
(the magic stays "GGUF"). No gguf package is needed. The chat templates
are real ones, read from ../../jinja/testdata/benign. Run from anywhere:

    python3 internal/scan/gguf/testdata/make_fixtures.py

Tensor data is a short byte pattern: the files are a few KB each.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATES = os.path.join(HERE, "..", "..", "jinja", "testdata", "benign")

UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64, INT64, FLOAT64 = range(13)
FMT = {UINT8: "B", INT8: "b", UINT16: "H", INT16: "h", UINT32: "I", INT32: "i",
       FLOAT32: "f", BOOL: "?", UINT64: "Q", INT64: "q", FLOAT64: "d"}

# ggml type id -> (name, block size, bytes per block)
GGML = {0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 8: ("Q8_0", 32, 34),
        12: ("Q4_K", 256, 144), 14: ("Q6_K", 256, 210), 30: ("BF16", 1, 2), 39: ("MXFP4", 32, 17)}

CVE_2024_34359 = ('{% for x in ().__class__.__base__.__subclasses__() %}{% if "warning" in x.__name__ %}'
                  '{{x()._module.__builtins__[\'__import__\'](\'os\').popen("touch /tmp/retr0reg")}}'
                  '{%endif%}{% endfor %}')

CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
          "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")

# The Meta-Llama-3-8B-Instruct template.
LLAMA3 = ("{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
          "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + "
          "'<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}"
          "{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant"
          "<|end_header_id|>\\n\\n' }}{% endif %}")


def template(name):
    with open(os.path.join(TEMPLATES, name), encoding="utf-8") as f:
        return f.read()


class Writer:
    def __init__(self, version=3, big=False):
        self.version, self.e = version, ">" if big else "<"
        self.kvs, self.tensors, self.alignment = [], [], 32

    def num(self, fmt, v):
        return struct.pack(self.e + fmt, v)

    def count(self, n):
        return self.num("I" if self.version == 1 else "Q", n)

    def string(self, s):
        b = s.encode("utf-8") if isinstance(s, str) else s
        return self.count(len(b)) + b

    def value(self, typ, v):
        if typ == STRING:
            return self.string(v)
        if typ == ARRAY:
            elem, items = v
            out = self.num("I", elem) + self.count(len(items))
            return out + b"".join(self.value(elem, it) for it in items)
        return self.num(FMT[typ], v)

    def kv(self, key, typ, v, raw_type=None):
        self.kvs.append(self.string(key) + self.num("I", typ if raw_type is None else raw_type) + self.value(typ, v))
        if key == "general.alignment":
            self.alignment = v

    def tensor(self, name, dims, ggml, offset=None, nbytes=None):
        self.tensors.append((name, dims, ggml, offset, nbytes))

    def bytes(self, n_kv=None, n_tensors=None):
        out = b"GGUF" + self.num("I", self.version)
        out += self.count(len(self.tensors) if n_tensors is None else n_tensors)
        out += self.count(len(self.kvs) if n_kv is None else n_kv)
        out += b"".join(self.kvs)
        data, off = b"", 0
        for name, dims, ggml, offset, nbytes in self.tensors:
            _, blck, size = GGML.get(ggml, ("?", 1, 1))
            n = 1
            for d in dims:
                n *= d
            nb = n // blck * size if nbytes is None else nbytes
            out += self.string(name) + self.num("I", len(dims))
            out += b"".join(self.count(d) for d in dims)
            out += self.num("I", ggml) + self.num("Q", off if offset is None else offset)
            data += bytes((i * 13 + len(name)) & 0xFF for i in range(nb))
            pad = (-len(data)) % self.alignment
            data += b"\0" * pad
            off = len(data)
        if self.tensors:
            out += b"\0" * ((-len(out)) % self.alignment)
        return out + data


def llama_metadata(w, tpl=LLAMA3, extra_templates=()):
    tokens = ["<unk>", "<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
    tokens += [chr(c) for c in range(33, 127)] + ["Ġ" + chr(c) for c in range(97, 123)]
    tokens += ["Ġthe", "Ġand", "ing", "Ġto", "Ġof", "Ġa", "Ġin", "Ġis", "Ġthat", "Ġfor"] * 20
    tokens = [t if i < 128 else f"{t}{i}" for i, t in enumerate(tokens)]
    w.kv("general.architecture", STRING, "llama")
    w.kv("general.name", STRING, "Tiny Llama Fixture")
    w.kv("general.alignment", UINT32, 32)
    w.kv("llama.context_length", UINT32, 8192)
    w.kv("llama.embedding_length", UINT32, 32)
    w.kv("llama.block_count", UINT32, 1)
    w.kv("llama.rope.freq_base", FLOAT32, 500000.0)
    w.kv("llama.attention.layer_norm_rms_epsilon", FLOAT32, 1e-5)
    w.kv("general.file_type", UINT32, 7)
    w.kv("tokenizer.ggml.model", STRING, "gpt2")
    w.kv("tokenizer.ggml.pre", STRING, "llama-bpe")
    w.kv("tokenizer.ggml.tokens", ARRAY, (STRING, tokens))
    w.kv("tokenizer.ggml.token_type", ARRAY, (INT32, [3 if t.startswith("<") and len(t) > 1 else 1 for t in tokens]))
    w.kv("tokenizer.ggml.scores", ARRAY, (FLOAT32, [-float(i) for i in range(len(tokens))]))
    w.kv("tokenizer.ggml.merges", ARRAY, (STRING, ["Ġ t", "Ġ a", "h e", "i n", "Ġt he"]))
    w.kv("tokenizer.ggml.bos_token_id", UINT32, 1)
    w.kv("tokenizer.ggml.eos_token_id", UINT32, 5)
    w.kv("tokenizer.ggml.add_bos_token", BOOL, True)
    if tpl is not None:
        w.kv("tokenizer.chat_template", STRING, tpl)
    for name, t in extra_templates:
        w.kv("tokenizer.chat_template." + name, STRING, t)


def llama_tensors(w):
    w.tensor("token_embd.weight", [32, 8], 8)       # Q8_0
    w.tensor("blk.0.attn_norm.weight", [32], 0)    # F32
    w.tensor("blk.0.attn_q.weight", [256, 2], 12)  # Q4_K
    w.tensor("blk.0.ffn_down.weight", [32, 4], 39) # MXFP4
    w.tensor("output_norm.weight", [32], 30)       # BF16
    w.tensor("output.weight", [32, 8], 2)          # Q4_0


def write(rel, b):
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(b)


def main():
    # --- benign -----------------------------------------------------------
    # v3 with Llama 3.1's template, a named tool_use variant (Hermes 3),
    # a tokens array, scores, merges: the shape llama.cpp's converter writes.
    w = Writer(3)
    llama_metadata(w, template("meta-llama-Llama-3.1-8B-Instruct.jinja"),
                   [("tool_use", template("NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja"))])
    llama_tensors(w)
    write("benign/llama3-v3.gguf", w.bytes())

    w = Writer(3, big=True)
    llama_metadata(w, LLAMA3)
    llama_tensors(w)
    write("benign/llama3-v3-big-endian.gguf", w.bytes())

    w = Writer(2)
    w.kv("general.architecture", STRING, "qwen2")
    w.kv("qwen2.block_count", UINT32, 1)
    w.kv("tokenizer.ggml.tokens", ARRAY, (STRING, ["<|im_start|>", "<|im_end|>", "a", "b"]))
    w.kv("tokenizer.chat_template", STRING, template("Qwen-Qwen2.5-7B-Instruct.jinja"))
    w.tensor("token_embd.weight", [32, 4], 1)
    w.tensor("output.weight", [32, 4], 0)
    write("benign/qwen2-v2.gguf", w.bytes())

    w = Writer(1)
    w.kv("general.architecture", STRING, "llama")
    w.kv("tokenizer.ggml.tokens", ARRAY, (STRING, ["<s>", "</s>", "a"]))
    w.kv("tokenizer.chat_template", STRING, CHATML)
    w.tensor("token_embd.weight", [32, 3], 0)
    write("benign/chatml-v1.gguf", w.bytes())

    # Every value type, nested arrays, a custom alignment, no tensors.
    w = Writer(3)
    w.kv("general.architecture", STRING, "bert")
    w.kv("general.alignment", UINT32, 64)
    for i, (typ, v) in enumerate([(UINT8, 255), (INT8, -1), (UINT16, 65535), (INT16, -2), (UINT32, 1 << 31),
                                  (INT32, -3), (FLOAT32, 1.5), (BOOL, False), (UINT64, 1 << 63), (INT64, -4),
                                  (FLOAT64, 2.5), (STRING, "ünïcode ✓")]):
        w.kv(f"test.scalar.{i}", typ, v)
    w.kv("test.array.empty", ARRAY, (UINT64, []))
    w.kv("test.array.nested", ARRAY, (ARRAY, [(INT16, [1, 2]), (STRING, ["x", "y"]), (ARRAY, [(BOOL, [True])])]))
    w.tensor("embeddings.weight", [64, 2], 0)
    write("benign/all-types-v3.gguf", w.bytes())

    # --- malicious --------------------------------------------------------
    w = Writer(3)
    llama_metadata(w, CVE_2024_34359)
    llama_tensors(w)
    write("malicious/cve-2024-34359.gguf", w.bytes())

    # The default template is clean; a named variant that front ends offer
    # for tool calls carries the payload.
    w = Writer(3)
    llama_metadata(w, LLAMA3, [("tool_use", LLAMA3 + "{{ cycler.__init__.__globals__.os.popen('id').read() }}")])
    llama_tensors(w)
    write("malicious/named-variant.gguf", w.bytes())

    # Two tokenizer.chat_template keys: a reader that keeps the first sees
    # Llama 3, one that keeps the last renders the payload.
    w = Writer(3)
    llama_metadata(w, LLAMA3)
    w.kv("tokenizer.chat_template", STRING, "{{ lipsum.__globals__['os'].popen('id').read() }}")
    llama_tensors(w)
    write("malicious/duplicate-template.gguf", w.bytes())

    # --- invalid ----------------------------------------------------------
    w = Writer(3)
    llama_metadata(w)
    llama_tensors(w)
    b = w.bytes()
    write("invalid/truncated.gguf", b[:b.index("Ġthe".encode()) + 40])

    w = Writer(3)
    w.kv("general.architecture", STRING, "llama")
    w.kv("bad.type", UINT32, 1, raw_type=13)
    write("invalid/unknown-value-type.gguf", w.bytes())

    w = Writer(3)
    w.kv("general.architecture", STRING, "llama")
    write("invalid/huge-count.gguf", w.bytes(n_kv=1 << 60))

    w = Writer(3)
    w.kv("general.architecture", STRING, "llama")
    w.kvs.append(w.string("general.name") + w.num("I", STRING) + w.num("Q", 1 << 62) + b"x")
    write("invalid/string-length.gguf", w.bytes())

    w = Writer(3)
    w.kv("general.architecture", STRING, "llama")
    w.tensor("a.weight", [32], 0)
    w.tensor("b.weight", [32], 0, offset=64)  # the first ends at 128: overlap
    write("invalid/overlapping-tensors.gguf", w.bytes())

    w = Writer(3)
    w.kv("general.architecture", STRING, "llama")
    w.tensor("a.weight", [4096, 4096], 0, nbytes=64)  # 64 MiB claimed, 64 bytes present
    write("invalid/data-beyond-file.gguf", w.bytes())

    w = Writer(3)
    w.kv("general.architecture", STRING, "llama")
    w.kv("tokenizer.chat_template", ARRAY, (STRING, [CHATML]))
    write("invalid/template-not-string.gguf", w.bytes())

    w = Writer(3)
    w.kv("general.architecture", STRING, "llama")
    w.tensor("a.weight", [32], 0)
    w.tensor("b.weight", [32], 99, nbytes=16)
    write("invalid/unknown-tensor-type.gguf", w.bytes())


if __name__ == "__main__":
    main()
