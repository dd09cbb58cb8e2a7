#!/usr/bin/python3
"""Writes the HDF5 fixtures of internal/scan/hdf5 and, next to each, the
values a reader must find in it (<name>.json).

Run from anywhere with Debian's h5py (apt-get install python3-h5py
python3-numpy hdf5-tools):

    /usr/bin/python3 internal/scan/hdf5/testdata/make_fixtures.py

The files are made with h5py, as Keras 2 (TF 2.x) writes them, never with
Keras itself. The expected values are read back through h5py, so the JSON
records what the HDF5 library sees, not what this script meant to write.

Expected JSON: {"groups": {"/path": {"attrs": [{"name", "kind", "value"}],
"children": [sorted link names]}}}, every group reachable by hard links.
kind is one of string, strings, int, ints, float, floats, bytes (hex of the
raw element bytes) or nil (an empty dataspace). Long strings and string
lists are recorded as {"count", "sha256"} instead (see digest).
"""

import ctypes
import hashlib
import json
import os
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def libhdf5():
    """The HDF5 C library h5py is linked against, for the few calls h5py lacks."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "libhdf5" in path and "_hl" not in path:
                return ctypes.CDLL(path)
    sys.exit("libhdf5 not loaded")


def keras_model_config():
    """A Keras 2.15 Sequential config much as model.to_json() writes it."""
    def layer(class_name, config):
        return {"module": "keras.layers", "class_name": class_name,
                "config": config, "registered_name": None}

    init = {"module": "keras.initializers", "class_name": "GlorotUniform",
            "config": {"seed": None}, "registered_name": None}
    zeros = {"module": "keras.initializers", "class_name": "Zeros",
             "config": {}, "registered_name": None}
    layers = [
        {"module": "keras.layers", "class_name": "InputLayer",
         "config": {"batch_input_shape": [None, 28, 28, 1], "dtype": "float32",
                    "sparse": False, "ragged": False, "name": "conv2d_input"},
         "registered_name": None},
        layer("Conv2D", {"name": "conv2d", "trainable": True, "dtype": "float32",
                         "batch_input_shape": [None, 28, 28, 1], "filters": 8,
                         "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid",
                         "data_format": "channels_last", "dilation_rate": [1, 1],
                         "groups": 1, "activation": "relu", "use_bias": True,
                         "kernel_initializer": init, "bias_initializer": zeros,
                         "kernel_regularizer": None, "bias_regularizer": None,
                         "activity_regularizer": None, "kernel_constraint": None,
                         "bias_constraint": None}),
        layer("MaxPooling2D", {"name": "max_pooling2d", "trainable": True,
                               "dtype": "float32", "pool_size": [2, 2],
                               "padding": "valid", "strides": [2, 2],
                               "data_format": "channels_last"}),
        layer("Flatten", {"name": "flatten", "trainable": True, "dtype": "float32",
                          "data_format": "channels_last"}),
        layer("Dense", {"name": "dense", "trainable": True, "dtype": "float32",
                        "units": 10, "activation": "softmax", "use_bias": True,
                        "kernel_initializer": init, "bias_initializer": zeros,
                        "kernel_regularizer": None, "bias_regularizer": None,
                        "activity_regularizer": None, "kernel_constraint": None,
                        "bias_constraint": None}),
    ]
    cfg = {"class_name": "Sequential",
           "config": {"name": "sequential", "layers": layers},
           "keras_version": "2.15.0", "backend": "tensorflow"}
    return json.dumps(cfg)


def keras_training_config():
    return json.dumps({
        "loss": "sparse_categorical_crossentropy", "metrics": [["accuracy"]],
        "weighted_metrics": None, "loss_weights": None,
        "optimizer_config": {
            "class_name": "Custom>Adam",
            "config": {"name": "Adam", "weight_decay": None, "clipnorm": None,
                       "global_clipnorm": None, "clipvalue": None,
                       "use_ema": False, "ema_momentum": 0.99,
                       "ema_overwrite_frequency": None, "jit_compile": True,
                       "is_legacy_optimizer": False, "learning_rate": 0.001,
                       "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07,
                       "amsgrad": False}}})


KERAS_LAYERS = [
    ("conv2d", [("kernel:0", (3, 3, 1, 8)), ("bias:0", (8,))]),
    ("max_pooling2d", []),
    ("flatten", []),
    ("dense", [("kernel:0", (4, 10)), ("bias:0", (10,))]),
]


def write_layer_groups(parent, layers=KERAS_LAYERS):
    """Per-layer weight groups as Keras 2 save_weights_to_hdf5_group writes them."""
    for name, weights in layers:
        g = parent.create_group(name)
        g.attrs["weight_names"] = np.array(
            [f"{name}/{w}".encode() for w, _ in weights], dtype="S")
        for w, shape in weights:
            g.create_dataset(f"{name}/{w}", data=np.full(shape, 0.5, "f4"),
                             track_times=False)


def write_keras2(f, model_config=None, training_config=None):
    """A model.save('m.h5') file: attributes on the root, weights below."""
    f.attrs["backend"] = "tensorflow"
    f.attrs["keras_version"] = "2.15.0"
    f.attrs["model_config"] = model_config if model_config is not None else keras_model_config()
    f.attrs["training_config"] = training_config if training_config is not None else keras_training_config()
    mw = f.create_group("model_weights")
    mw.attrs["backend"] = "tensorflow"
    mw.attrs["keras_version"] = "2.15.0"
    mw.attrs["layer_names"] = np.array([n.encode() for n, _ in KERAS_LAYERS], dtype="S")
    write_layer_groups(mw)


def make_keras2(path):
    """(a) Keras 2 defaults: superblock 0, version 1 object headers, symbol tables."""
    with h5py.File(path, "w") as f:
        write_keras2(f)


def make_keras2_latest(path):
    """(b) the same with libver='latest': superblock 3, version 2 object headers, links."""
    with h5py.File(path, "w", libver="latest") as f:
        write_keras2(f)


def make_dense(path):
    """(c) dense storage: attribute info and link info messages with fractal heaps.

    More attributes than the compact maximum (8) on a version 2 object header
    move them to a fractal heap indexed by a v2 B-tree; 100 of them make the
    index two levels deep. An attribute larger than the heap's biggest managed
    object is a huge object. track_order adds the creation-order index, and
    more than 8 links make a dense group.
    """
    with h5py.File(path, "w", libver="latest") as f:
        write_keras2(f)
        for i in range(100):
            f.attrs[f"attr_{i:03d}"] = i * 3
        f.attrs["big"] = np.bytes_(b"0123456789abcdef" * 512)
        g = f.create_group("ordered", track_order=True)
        for i in range(12):
            g.attrs[f"o{i}"] = f"value {i}"
        links = f.create_group("many_links")
        for i in range(20):
            links.create_group(f"g{i:02d}")
        links["soft"] = h5py.SoftLink("/model_weights")


def fill_seed(f):
    f.attrs["keras_version"] = np.bytes_(b"2.15.0")
    f.attrs["layer_names"] = np.array([b"dense", b"dense_1"], dtype="S")
    f.attrs["n"] = np.int64(3)
    f.attrs["x"] = np.array([0.5, 1.5], "f4")
    f.create_group("dense").attrs["weight_names"] = np.array([b"dense/kernel:0"], dtype="S")


def make_seed_v0(path):
    """Seeds for the fuzzer, a few kilobytes each (Go's minimizer is quadratic
    in the input's length): no variable-length strings, whose global heap
    collections take 4 KiB at least. Superblock 0, symbol tables."""
    with h5py.File(path, "w") as f:
        fill_seed(f)


def make_seed_v3(path):
    """Superblock 3, version 2 object headers, compact attributes and links."""
    with h5py.File(path, "w", libver="latest") as f:
        fill_seed(f)


def make_seed_dense_attrs(path):
    """Dense attributes in 2 KiB: 9, one more than the compact maximum."""
    with h5py.File(path, "w", libver="latest") as f:
        for i in range(9):
            f.attrs[f"a{i}"] = np.int32(i)


def make_seed_dense_links(path):
    """Dense links in 2 KiB: 9 soft links."""
    with h5py.File(path, "w", libver="latest") as f:
        for i in range(9):
            f[f"l{i}"] = h5py.SoftLink("/x")


def make_fixed_strings(path):
    """(d) fixed-length strings: as Keras under h5py 2.x wrote model_config
    (bytes became fixed-length strings; h5py 3 makes them variable-length),
    and every padding and character set the format has. Superblock 2."""
    with h5py.File(path, "w", libver=("v108", "v108")) as f:
        f.attrs["model_config"] = np.bytes_(keras_model_config().encode())
        f.attrs["training_config"] = np.bytes_(keras_training_config().encode())
        f.attrs["keras_version"] = np.bytes_(b"2.15.0")
        f.attrs["backend"] = np.bytes_(b"tensorflow")
        f.attrs["layer_names"] = np.array([b"dense", b"dense_1", b"dropout"], dtype="S")
        gid = f.id
        for name, value, pad, cset in [
            ("nullterm", b"null terminated", h5py.h5t.STR_NULLTERM, h5py.h5t.CSET_ASCII),
            ("nullpad", b"null padded", h5py.h5t.STR_NULLPAD, h5py.h5t.CSET_ASCII),
            ("spacepad", b"space padded", h5py.h5t.STR_SPACEPAD, h5py.h5t.CSET_ASCII),
            ("utf8", "d\u00e9j\u00e0 vu \u2713".encode(), h5py.h5t.STR_NULLPAD, h5py.h5t.CSET_UTF8),
        ]:
            size = len(value) + 6
            tid = h5py.h5t.C_S1.copy()
            tid.set_size(size)
            tid.set_strpad(pad)
            tid.set_cset(cset)
            fill = b" " if pad == h5py.h5t.STR_SPACEPAD else b"\0"
            raw = np.array(value + fill * (size - len(value)), dtype=f"S{size}")
            space = h5py.h5s.create(h5py.h5s.SCALAR)
            attr = h5py.h5a.create(gid, name.encode(), tid, space)
            attr.write(raw, mtype=tid)
        strs = np.array([b"ab", b"cde", b""], dtype="S5")
        f.attrs["array_nullpad"] = strs


def make_weights_only(path, lib):
    """(e) model.save_weights('w.h5'): layer groups at the root. Keras splits an
    attribute larger than 64512 bytes into name0, name1, ...; here layer_names
    is split in two, which also pushes the root header into continuation
    blocks. Superblock 1 (a non-default indexed-storage K)."""
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    if lib.H5Pset_istore_k(ctypes.c_int64(fcpl.id), ctypes.c_uint(64)) < 0:
        sys.exit("H5Pset_istore_k failed")
    fid = h5py.h5f.create(path.encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl)
    with h5py.File(fid) as f:
        f.attrs["backend"] = "tensorflow"
        f.attrs["keras_version"] = "2.15.0"
        names = [n.encode() for n, _ in KERAS_LAYERS]
        names += [f"dense_{i}_with_a_rather_long_generated_layer_name".encode()
                  for i in range(1400)]
        data = np.array(names, dtype="S")
        limit = 64512  # keras HDF5_OBJECT_HEADER_LIMIT
        chunks = 1
        parts = np.array_split(data, chunks)
        while any(p.nbytes > limit for p in parts):
            chunks += 1
            parts = np.array_split(data, chunks)
        assert chunks > 1
        for i, part in enumerate(parts):
            f.attrs[f"layer_names{i}"] = part
        write_layer_groups(f)


def make_types(path):
    """Datatypes and dataspaces beyond strings; a 512-byte user block; superblock 2."""
    with h5py.File(path, "w", libver=("v108", "v108"), userblock_size=512) as f:
        f.attrs["int64"] = np.int64(-42)
        f.attrs["int8s"] = np.array([-1, 2, -3], "i1")
        f.attrs["uint16"] = np.uint16(65535)
        f.attrs["uint32s_be"] = np.array([1, 2, 70000], ">u4")
        f.attrs["int64_2d"] = np.arange(6, dtype="i8").reshape(2, 3)
        f.attrs["float64"] = 0.1
        f.attrs["float32s"] = np.array([1.5, -2.25, 3.0], "f4")
        f.attrs["float64_be"] = np.array([2.5], ">f8")
        f.attrs["bool"] = True
        f.attrs["bools"] = np.array([True, False, True])
        f.attrs["empty"] = h5py.Empty("f8")
        f.attrs["vlen_strs"] = ["alpha", "\u03b2eta", ""]
        f.attrs["vlen_bytes"] = np.array([b"x", b"yz"], dtype=h5py.string_dtype("ascii"))
        f.attrs["utf8"] = "na\u00efve \u2713"
        f.attrs["compound"] = np.array([(1, 2.0)], dtype=[("a", "<i4"), ("b", "<f4")])
        f.attrs["float16"] = np.float16(1.5)
        f["committed_type"] = np.dtype("<i2")
        f.attrs.create("shared_type", data=[7, -8], dtype=f["committed_type"])
        f.create_group("sub").attrs["answer"] = 42


def make_links(path, lib):
    """An old-style group with 60 soft links in a v1 B-tree of small nodes
    (group K 2, so several levels); also an external link (which makes the
    root a new-style group) and a hard link back to the root (a cycle)."""
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    # Small nodes (K 2 for both the B-tree and the symbol table nodes), so
    # that few links make a deep tree.
    if lib.H5Pset_sym_k(ctypes.c_int64(fcpl.id), ctypes.c_uint(2), ctypes.c_uint(2)) < 0:
        sys.exit("H5Pset_sym_k failed")
    fid = h5py.h5f.create(path.encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl)
    with h5py.File(fid) as f:
        old = f.create_group("symtab")
        for i in range(60):
            old[f"link{i:03d}"] = h5py.SoftLink(f"/target{i}")
        old.create_group("real").attrs["n"] = 1
        # An external link turns the root into a new-style group.
        f["ext"] = h5py.ExternalLink("other.h5", "/x")
        g = f.create_group("loop")
        g["root"] = f
        g.attrs["note"] = "hard link to /"


def make_big(path):
    """A 50 MiB contiguous dataset between metadata, written out in full;
    make_sparse keeps only the bytes around it."""
    with h5py.File(path, "w") as f:
        f.attrs["model_config"] = keras_model_config()
        f.create_dataset("weights", data=np.zeros(50 << 18, "f4"), track_times=False)
        g = f.create_group("after")
        g.attrs["where"] = "after the data"
        f.attrs["keras_version"] = "2.15.0"


def digest(kind, value):
    """Long values are recorded by count and SHA-256 (of the string's UTF-8,
    or of the elements' UTF-8 each followed by a NUL) to keep testdata small."""
    if kind == "string" and len(value) > 4096:
        return {"sha256": hashlib.sha256(value.encode()).hexdigest(), "count": len(value)}
    if kind == "strings" and len(value) > 100:
        h = hashlib.sha256()
        for v in value:
            h.update(v.encode() + b"\0")
        return {"sha256": h.hexdigest(), "count": len(value)}
    return value


def value_of(attr_id, value):
    """The expected-JSON form of an attribute as h5py reads it."""
    if isinstance(value, h5py.Empty):
        return "nil", None
    dt = attr_id.dtype
    arr = np.asarray(value)
    scalar = attr_id.shape == ()
    if h5py.check_string_dtype(dt) is not None or dt.kind in "SU" or dt.kind == "O":
        flat = [v.decode() if isinstance(v, bytes) else str(v) for v in arr.reshape(-1)]
        return ("string", flat[0]) if scalar else ("strings", flat)
    if dt.kind in "iub":
        flat = [int(v) for v in arr.reshape(-1)]
        return ("int", flat[0]) if scalar else ("ints", flat)
    if dt.kind == "f" and dt.itemsize in (4, 8):
        flat = [float(v) for v in arr.reshape(-1)]
        return ("float", flat[0]) if scalar else ("floats", flat)
    return "bytes", arr.astype(arr.dtype.newbyteorder("<")).tobytes().hex()


OVERRIDES = {
    # h5py hands back the raw bytes, trailing spaces included; the format says
    # they are padding.
    ("fixed_strings.h5", "/", "spacepad"): ("string", "space padded"),
}


def expected(path):
    name = os.path.basename(path)
    groups = {}
    seen = set()

    def walk(gpath, g):
        addr = h5py.h5o.get_info(g.id).addr
        if addr in seen:
            return
        seen.add(addr)
        attrs = []
        for an in g.attrs:
            aid = g.attrs.get_id(an)
            kind, val = value_of(aid, g.attrs[an])
            kind, val = OVERRIDES.get((name, gpath, an), (kind, val))
            val = digest(kind, val)
            attrs.append({"name": an, "kind": kind, "value": val})
        attrs.sort(key=lambda a: a["name"])
        children = sorted(g.keys())
        groups[gpath] = {"attrs": attrs, "children": children}
        for c in children:
            link = g.get(c, getlink=True)
            if isinstance(link, h5py.HardLink) and isinstance(g.get(c), h5py.Group):
                walk(gpath.rstrip("/") + "/" + c, g[c])

    with h5py.File(path, "r") as f:
        walk("/", f)
    return {"groups": groups}


def make_sparse(src, dst):
    """Keeps the file minus its one dataset's bytes, and where they were."""
    with h5py.File(src, "r") as f:
        ds = f["weights"]
        off, size = ds.id.get_offset(), ds.id.get_storage_size()
    data = open(src, "rb").read()
    assert not any(data[off:off + size]), "the hole must be zeros"
    with open(dst, "wb") as out:
        out.write(data[:off] + data[off + size:])
    return {"size": len(data), "hole_offset": off, "hole_size": size}


def main():
    lib = libhdf5()
    makers = [
        ("keras2.h5", make_keras2),
        ("keras2_latest.h5", make_keras2_latest),
        ("dense.h5", make_dense),
        ("fixed_strings.h5", make_fixed_strings),
        ("weights_only.h5", lambda p: make_weights_only(p, lib)),
        ("types.h5", make_types),
        ("links.h5", lambda p: make_links(p, lib)),
        ("seed_v0.h5", make_seed_v0),
        ("seed_v3.h5", make_seed_v3),
        ("seed_dense_attrs.h5", make_seed_dense_attrs),
        ("seed_dense_links.h5", make_seed_dense_links),
    ]
    for name, make in makers:
        path = os.path.join(HERE, name)
        make(path)
        with open(path + ".json", "w") as out:
            json.dump(expected(path), out, indent=1, sort_keys=True)
            out.write("\n")
    big = os.path.join("/tmp", "mlguard-hdf5-big.h5")
    make_big(big)
    meta = make_sparse(big, os.path.join(HERE, "big_sparse.bin"))
    meta["expected"] = expected(big)
    os.remove(big)
    with open(os.path.join(HERE, "big_sparse.json"), "w") as out:
        json.dump(meta, out, indent=1, sort_keys=True)
        out.write("\n")


if __name__ == "__main__":
    main()
