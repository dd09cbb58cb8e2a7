#!/usr/bin/python3
"""Generate the model-file fixtures under testdata/models/{benign,malicious}.

Run with the Debian interpreter (it has python3-torch, python3-numpy,
python3-joblib and python3-sklearn installed):

    /usr/bin/python3 testdata/models/make_fixtures.py            # (re)generate everything + README.md
    /usr/bin/python3 testdata/models/make_fixtures.py --inspect F # static report of one file

Safety: the "malicious" fixtures are built from helper classes whose
__reduce__ returns a dangerous callable (os.system, builtins.exec, ...).
They are only ever *dumped*. Nothing in this script unpickles or loads any
fixture: the --inspect mode and the README generator only walk pickle opcodes
with pickletools.genops and a tiny symbolic stack (no find_class, no import
of the referenced globals, no calls).

Determinism: fixed RNG seeds, PYTHONHASHSEED=0 and TZ=UTC (the script
re-executes itself to set them), a frozen clock while the Python zipfile
module writes archives (np.savez*, nested_zip.zip), gzip mtime=0 and
fixed tar/zip member times. Known remaining non-determinism is listed in
README.md (torch legacy format storage keys are memory addresses).
"""

import hashlib
import io
import os
import sys

FIXED_EPOCH = 1704067200  # 2024-01-01T00:00:00Z
FIXED_DATE_TIME = (2024, 1, 1, 0, 0, 0)

if __name__ == "__main__" and (os.environ.get("PYTHONHASHSEED") != "0"
                               or os.environ.get("TZ") != "UTC"):
    env = dict(os.environ, PYTHONHASHSEED="0", TZ="UTC",
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import bz2
import gzip
import lzma
import pickle
import pickletools
import struct
import tarfile
import time
import zipfile
import zlib
from contextlib import contextmanager

HERE = os.path.dirname(os.path.abspath(__file__))
BENIGN = os.path.join(HERE, "benign")
MALICIOUS = os.path.join(HERE, "malicious")


# ---------------------------------------------------------------------------
# Payload helper classes. Only pickled, never unpickled.
# ---------------------------------------------------------------------------

class ReduceTo:
    """Pickles as `func(*args)`; the class itself never appears in the pickle."""

    def __init__(self, func, args):
        self.func = func
        self.args = args

    def __reduce__(self):
        return (self.func, self.args)


def payload_os_system():
    import os as _os
    return ReduceTo(_os.system, ("echo pwned",))


def payload_exec():
    import builtins
    return ReduceTo(builtins.exec, ("print('pwned')",))


def payload_eval():
    import builtins
    return ReduceTo(builtins.eval, ("print('pwned')",))


def payload_popen():
    import subprocess
    return ReduceTo(subprocess.Popen, (["id"],))


def payload_runpy():
    import runpy
    return ReduceTo(runpy._run_code, ("print('pwned')", {}))


def payload_import_os():
    import importlib
    return ReduceTo(importlib.import_module, ("os",))


# ---------------------------------------------------------------------------
# Determinism helpers
# ---------------------------------------------------------------------------

@contextmanager
def frozen_clock():
    """Freeze time.time() while the stdlib zipfile module stamps members."""
    real = time.time
    time.time = lambda: float(FIXED_EPOCH)
    try:
        yield
    finally:
        time.time = real


def seed_everything():
    import random
    import numpy as np
    import torch
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    torch.set_num_threads(1)


# ---------------------------------------------------------------------------
# Generators
# ---------------------------------------------------------------------------

MANIFEST = []  # (relpath, made_with, expectation)


def record(path, made_with, expect):
    MANIFEST.append((os.path.relpath(path, HERE), made_with, expect))


def B(name):
    return os.path.join(BENIGN, name)


def M(name):
    return os.path.join(MALICIOUS, name)


def small_torch_model():
    import torch
    from torch import nn

    class Small(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)
            self.bn = nn.BatchNorm1d(3)

        def forward(self, x):
            return self.bn(self.fc(x))

    torch.manual_seed(0)
    return Small()


TINY_SOURCE = """\
import torch
from torch import nn


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)
        self.scale = 2.0

    def forward(self, x):
        return torch.relu(self.fc(x)) * self.scale + torch.tensor([0.5, -0.5])
"""


def tiny_scriptable_class():
    import linecache
    import types
    fname = "tiny_model.py"
    mod = types.ModuleType("tiny_model")
    mod.__file__ = fname
    sys.modules["tiny_model"] = mod
    linecache.cache[fname] = (len(TINY_SOURCE), None, TINY_SOURCE.splitlines(True), fname)
    exec(compile(TINY_SOURCE, fname, "exec"), mod.__dict__)
    return mod.Tiny


def gen_torch():
    import torch
    from torch import nn

    model = small_torch_model()
    sd = model.state_dict()

    p = B("torch_state_dict.pt")
    torch.save(sd, p)
    record(p, "torch.save(model.state_dict()) -- Linear(4,3)+BatchNorm1d(3), zip format, pickle protocol 2",
           "benign: no high/critical")

    # full training checkpoint after one Adam step
    model = small_torch_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    torch.manual_seed(1)
    x = torch.randn(8, 4)
    y = torch.randn(8, 3)
    model.train()
    loss = nn.functional.mse_loss(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    ckpt = {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "epoch": 3,
        "loss": 0.5,
        "args": {"lr": 1e-3, "batch_size": 8, "hidden": [4, 3], "arch": "small",
                 "betas": (0.9, 0.999), "amp": False, "seed": 0},
    }
    p = B("torch_checkpoint.pt")
    torch.save(ckpt, p)
    record(p, "torch.save({model, optimizer(Adam, 1 step), epoch, loss, args}) -- zip format",
           "benign: no high/critical")

    p = B("torch_legacy.pt")
    torch.save(sd, p, _use_new_zipfile_serialization=False)
    record(p, "torch.save(state_dict, _use_new_zipfile_serialization=False) -- legacy stacked-pickle format",
           "benign: no high/critical")

    # quantized tensors
    try:
        torch.manual_seed(2)
        w = torch.randn(3, 4)
        qt = torch.quantize_per_tensor(w, scale=0.05, zero_point=0, dtype=torch.qint8)
        qc = torch.quantize_per_channel(w, scales=torch.tensor([0.05, 0.04, 0.03], dtype=torch.double),
                                        zero_points=torch.tensor([0, 0, 0]), axis=0,
                                        dtype=torch.qint8)
        qsd = {"fc.weight_q": qt, "fc.weight_qc": qc, "fc.bias": torch.zeros(3),
               "scale": 0.05, "zero_point": 0}
        p = B("torch_int8_quant.pt")
        torch.save(qsd, p)
        record(p, "torch.save of quantize_per_tensor / quantize_per_channel qint8 tensors -- zip format",
               "benign: no high/critical")
    except Exception as e:  # pragma: no cover
        print("skipping torch_int8_quant.pt:", e)

    # A tensor pickled with plain pickle: torch.storage._load_from_bytes gets a
    # whole nested torch.save file, larger than what a scanner keeps in memory.
    p = B("torch_pickled_tensor.pkl")
    with open(p, "wb") as f:
        pickle.dump({"w": torch.arange(20000, dtype=torch.float32)}, f, protocol=2)
    record(p, "pickle.dump({'w': torch tensor of 20000 floats}) -- nested torch.save zip of ~80 KB",
           "benign: no finding")

    # TorchScript. The module source is compiled from a string under a fixed,
    # relative file name so that the archive's *.debug_pkl (which records the
    # source file name) does not depend on where the repo is checked out.
    Tiny = tiny_scriptable_class()
    torch.manual_seed(3)
    scripted = torch.jit.script(Tiny())
    p = B("torchscript.pt")
    torch.jit.save(scripted, p)
    record(p, "torch.jit.save(torch.jit.script(Tiny())) -- TorchScript zip archive",
           "benign: no high/critical")

    # ---- malicious torch ----
    p = M("torch_reduce_os_system.pt")
    torch.save({"state_dict": sd, "callback": payload_os_system()}, p)
    record(p, "torch.save({state_dict, callback: obj with __reduce__ -> os.system('echo pwned')}) -- zip format",
           "MALICIOUS (critical): data.pkl calls posix.system (os.system)")

    p = M("torch_legacy_exec.pt")
    torch.save({"state_dict": sd, "hook": payload_exec()}, p,
               _use_new_zipfile_serialization=False)
    record(p, "torch.save(..., _use_new_zipfile_serialization=False) with obj reducing to builtins.exec",
           "MALICIOUS (critical): 4th pickle calls builtins.exec (written as __builtin__.exec)")


def gen_numpy():
    import numpy as np
    rng = np.random.default_rng(0)

    a = rng.standard_normal((3, 4)).astype(np.float32)
    p = B("numpy_array.npy")
    np.save(p, a)
    record(p, "np.save(float32 3x4)", "benign: no findings (no pickle at all)")

    arrs = {"weights": rng.standard_normal((4, 4)).astype(np.float32),
            "labels": np.arange(10, dtype=np.int64)}
    with frozen_clock():
        p = B("numpy_arrays.npz")
        np.savez_compressed(p, **arrs)
        record(p, "np.savez_compressed(weights float32 4x4, labels int64[10])",
               "benign: no findings (zip of .npy, no pickle)")
        p = B("numpy_plain.npz")
        np.savez(p, **arrs)
        record(p, "np.savez(weights, labels) -- stored (uncompressed) zip",
               "benign: no findings (zip of .npy, no pickle)")

    d = {"a": rng.standard_normal((2, 3)).astype(np.float32),
         "b": np.arange(6, dtype=np.int64),
         "c": np.array([True, False, True]),
         "s": np.float64(1.5)}
    for proto in (2, 5):
        p = B(f"numpy_pickle_p{proto}.pkl")
        with open(p, "wb") as f:
            pickle.dump(d, f, protocol=proto)
        record(p, f"pickle.dump(dict of numpy arrays + numpy float64 scalar, protocol={proto})",
               "benign: no high/critical (numpy reconstruct globals only)")

    # ---- malicious ----
    obj = np.empty(3, dtype=object)
    obj[0] = 1
    obj[1] = "label"
    obj[2] = payload_popen()
    p = M("numpy_object_payload.npy")
    np.save(p, obj, allow_pickle=True)
    record(p, "np.save(object array [1, 'label', obj reducing to subprocess.Popen(['id'])], allow_pickle=True)",
           "MALICIOUS (critical): pickle after the .npy header calls subprocess.Popen")


def plain_data():
    shared = [1, 2, 3]
    return {
        "int": 42,
        "neg": -7,
        "int2": 65535,
        "int4": 2 ** 31 - 1,
        "big": 2 ** 100,
        "bigneg": -(2 ** 70),
        "float": 3.14159,
        "inf": float("inf"),
        "str": "h\u00e9llo \u2713",
        "ascii": "plain",
        "bytes": b"\x00\x01binary\xff",
        "empty_bytes": b"",
        "bytearray": bytearray(b"abc"),
        "none": None,
        "true": True,
        "false": False,
        "list": [1, 2, [3, 4], []],
        "tuple": (1, "a", (2.5,), ()),
        "t1": (1,),
        "t2": (1, 2),
        "t3": (1, 2, 3),
        "set": {1, 2, 3},
        "empty_set": set(),
        "frozenset": frozenset({"x", "y"}),
        "nested": {"a": {"b": [{"c": None}]}},
        "shared1": shared,
        "shared2": shared,
        "empty_dict": {},
    }


def gen_plain_pickles():
    import collections
    import datetime
    import decimal

    data = plain_data()
    for proto in range(6):
        p = B(f"plain_data_p{proto}.pkl")
        with open(p, "wb") as f:
            pickle.dump(data, f, protocol=proto)
        record(p, f"pickle.dump(nested builtin data, protocol={proto})",
               "benign: no findings")

    dd = collections.defaultdict(list)
    dd["a"].append(1)
    dd["b"].extend([2, 3])
    colls = {
        "ordered": collections.OrderedDict([("x", 1), ("y", 2)]),
        "defaultdict": dd,
        "counter": collections.Counter("abracadabra"),
        "deque": collections.deque([1, 2, 3], maxlen=5),
        "datetime": datetime.datetime(2024, 1, 2, 3, 4, 5, 678),
        "datetime_tz": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
        "date": datetime.date(2024, 1, 2),
        "time": datetime.time(12, 30),
        "timedelta": datetime.timedelta(days=1, seconds=2),
        "decimal": decimal.Decimal("3.14"),
        "complex": complex(1, -2),
        "range": range(0, 10, 2),
        "slice": slice(1, 5, None),
    }
    p = B("collections.pkl")
    with open(p, "wb") as f:
        pickle.dump(colls, f, protocol=4)
    record(p, "pickle.dump(OrderedDict, defaultdict(list), Counter, deque, datetime/date/time/timedelta/"
              "timezone, Decimal, complex, range, slice; protocol=4)",
           "benign: no high/critical")
    p = B("collections_p2.pkl")
    with open(p, "wb") as f:
        pickle.dump(colls, f, protocol=2)
    record(p, "same as collections.pkl with protocol=2 (GLOBAL opcodes; __builtin__.* names, range as __builtin__.xrange, _codecs.encode)",
           "benign: no high/critical")

    # ---- malicious plain pickles ----
    payload = [payload_runpy(), payload_import_os()]
    for proto in (0, 5):
        p = M(f"pickle_runpy_p{proto}.pkl")
        with open(p, "wb") as f:
            pickle.dump({"config": {"lr": 0.1}, "payload": payload}, f, protocol=proto)
        record(p, f"pickle.dump({{config, payload: [runpy._run_code(...), importlib.import_module('os')]}}, "
                  f"protocol={proto})",
               "MALICIOUS (critical): calls runpy._run_code and importlib.import_module")

    # Extra: the classic hand-written protocol-0 payload (not produced by a library)
    p = M("pickle_os_system_handwritten.pkl")
    with open(p, "wb") as f:
        f.write(b"cos\nsystem\n(S'echo pwned'\ntR.")
    record(p, "hand-written bytes: cos\\nsystem\\n(S'echo pwned'\\ntR. (what exploit kits write; "
              "note the module is 'os', not 'posix')",
           "MALICIOUS (critical): GLOBAL os.system + REDUCE")


def sklearn_data():
    import numpy as np
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)
    return X, y


def gen_sklearn():
    import joblib
    import numpy as np
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = sklearn_data()
    pipe = Pipeline([("scaler", StandardScaler()), ("clf", LogisticRegression(random_state=0))])
    pipe.fit(X, y)
    p = B("sklearn_model.pkl")
    with open(p, "wb") as f:
        pickle.dump(pipe, f, protocol=4)
    record(p, "pickle.dump(Pipeline(StandardScaler, LogisticRegression) fitted on 20x4, protocol=4)",
           "benign: no high/critical")

    forest = RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0)
    forest.fit(X, y)
    p = B("sklearn_forest.joblib")
    joblib.dump(forest, p)
    record(p, "joblib.dump(RandomForestClassifier(n_estimators=3, max_depth=3)) -- uncompressed, "
              "arrays inline (NumpyArrayWrapper)", "benign: no high/critical")
    for name in ("zlib", "gzip", "bz2", "lzma", "xz"):
        suffix = "gz" if name == "gzip" else name
        p = B(f"sklearn_forest_{suffix}.joblib")
        joblib.dump(forest, p, compress=(name, 3))
        record(p, f"joblib.dump(same forest, compress=('{name}', 3))", "benign: no high/critical")

    # Estimators whose pickles use Cython reducers, tree newObj helpers, numpy
    # scalar types, scipy sparse matrices, ufuncs and scorer functions.
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder
    from sklearn.model_selection import GridSearchCV
    hgb = HistGradientBoostingClassifier(max_iter=3, max_depth=2, random_state=0).fit(X, y)
    knn = KNeighborsClassifier(n_neighbors=2, algorithm="kd_tree").fit(X, y)
    tfidf = TfidfVectorizer().fit(["a cat sat", "a dog ran", "the bird flew"])
    tfidf_matrix = tfidf.transform(["a cat ran"])
    log1p = FunctionTransformer(np.log1p).fit(np.abs(X))
    onehot = OneHotEncoder().fit([["red"], ["blue"]])
    grid = GridSearchCV(LogisticRegression(max_iter=50), {"C": [0.5, 1.0]}, cv=2).fit(X, y)
    p = B("sklearn_more.pkl")
    with open(p, "wb") as f:
        pickle.dump({"hgb": hgb, "knn": knn, "tfidf": tfidf, "tfidf_matrix": tfidf_matrix, "log1p": log1p,
                     "onehot": onehot, "grid": grid}, f, protocol=4)
    record(p, "pickle.dump(dict of HistGradientBoosting, KNeighbors(kd_tree), TfidfVectorizer, its sparse matrix, "
              "FunctionTransformer(np.log1p), OneHotEncoder, GridSearchCV), protocol 4", "benign: no finding")

    arrays = {
        "f64": np.arange(12, dtype=np.float64).reshape(3, 4) / 7.0,
        "i32": np.arange(5, dtype=np.int32),
        "fortran_f32": np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)),
        "strings": np.array(["cat", "dog", "bird"], dtype=object),
        "unicode": np.array(["ab", "cde"]),  # <U3
        "empty": np.zeros((0, 3), dtype=np.float64),
        "scalar": np.float64(2.5),
        "meta": {"name": "arrays", "version": 1},
    }
    p = B("joblib_arrays.joblib")
    joblib.dump(arrays, p)
    record(p, "joblib.dump(dict: float64 3x4, int32[5], F-order float32 2x3, object array of str, <U3 array, "
              "empty (0,3), np.float64 scalar, plain dict) -- uncompressed",
           "benign: no high/critical")

    # ---- malicious joblib ----
    est = {
        "__class__": "LogisticRegression",
        "coef_": np.array([[0.5, -0.25, 0.125, 1.0]]),
        "intercept_": np.array([0.1]),
        "classes_": np.array([0, 1]),
    }
    bad = {"estimator": est, "post_load": payload_eval()}
    p = M("joblib_eval.joblib")
    joblib.dump(bad, p)
    record(p, "joblib.dump({estimator-like dict with inline arrays, post_load: obj reducing to builtins.eval})",
           "MALICIOUS (critical): builtins.eval call AFTER the inline array bytes")
    p = M("joblib_eval_xz.joblib")
    joblib.dump(bad, p, compress=("xz", 3))
    record(p, "same as joblib_eval.joblib with compress=('xz', 3)",
           "MALICIOUS (critical): builtins.eval inside the xz stream")


def gen_nested():
    payload = pickle.dumps({"weights": [0.1, 0.2], "init": payload_os_system()}, protocol=4)
    tbuf = io.BytesIO()
    with tarfile.open(fileobj=tbuf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        ti = tarfile.TarInfo("model/payload.pkl")
        ti.size = len(payload)
        ti.mtime = FIXED_EPOCH
        ti.mode = 0o644
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = ""
        tf.addfile(ti, io.BytesIO(payload))
        readme = b"model bundle\n"
        ti = tarfile.TarInfo("model/README.txt")
        ti.size = len(readme)
        ti.mtime = FIXED_EPOCH
        ti.mode = 0o644
        tf.addfile(ti, io.BytesIO(readme))
    tgz = gzip.compress(tbuf.getvalue(), compresslevel=9, mtime=0)
    p = M("nested_zip.zip")
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zi = zipfile.ZipInfo("bundle/model.tar.gz", date_time=FIXED_DATE_TIME)
        zi.compress_type = zipfile.ZIP_STORED
        zf.writestr(zi, tgz)
        zi = zipfile.ZipInfo("bundle/info.txt", date_time=FIXED_DATE_TIME)
        zi.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(zi, b"nothing to see here\n")
    record(p, "zipfile: bundle/model.tar.gz (tarfile+gzip) -> model/payload.pkl (protocol 4, os.system)",
           "MALICIOUS (critical): zip > tar.gz > payload.pkl calls posix.system")


# ---------------------------------------------------------------------------
# Static inspection (no unpickling)
# ---------------------------------------------------------------------------

class G:
    def __init__(self, module, name):
        self.module, self.name = module, name

    def __repr__(self):
        return f"{self.module}.{self.name}"


class Obj:
    def __init__(self, func, args, how):
        self.func, self.args, self.how, self.state = func, args, how, None

    def __repr__(self):
        return f"<{self.how} {self.func!r}>"


class DictV:
    def __init__(self):
        self.items = []

    def get(self, key, default=None):
        for k, v in self.items:
            if k == key:
                return v
        return default


MARK = object()

STRINGY = {"STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE",
           "SHORT_BINUNICODE", "BINUNICODE8", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8",
           "BYTEARRAY8", "INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4",
           "FLOAT", "BINFLOAT"}


def _itemsize(dtype_obj):
    """(itemsize, hasobject) from a pickled numpy.dtype: REDUCE numpy.dtype(('f8', False, True))
    followed by BUILD with the state tuple (version, byteorder, subdescr, names, fields,
    elsize, alignment, flags[, metadata]). hasobject = flags & 1 (NPY_ITEM_HASOBJECT);
    elsize (state[5]) is the byte size for U/S/V/structured dtypes, -1 for fixed-size ones."""
    if not (isinstance(dtype_obj, Obj) and isinstance(dtype_obj.args, tuple) and dtype_obj.args):
        raise ValueError(f"cannot determine dtype from {dtype_obj!r}")
    code = dtype_obj.args[0]
    state = dtype_obj.state if isinstance(dtype_obj.state, tuple) else ()
    flags = state[7] if len(state) > 7 and isinstance(state[7], int) else 0
    elsize = state[5] if len(state) > 5 and isinstance(state[5], int) else -1
    hasobject = bool(flags & 1) or code.startswith("O")
    if elsize > 0:
        return elsize, hasobject
    digits = "".join(c for c in code[1:] if c.isdigit())
    n = int(digits) if digits else 1
    if code[0] == "U":
        n *= 4
    return n, hasobject


def walk_pickle(stream, report, depth=0):
    """Walk ONE pickle stream from the current position of `stream` up to STOP.

    Fills report['globals'] (set of 'module.name'), report['calls'] (list of
    (opcode, 'module.name')), report['ops'] (set of opcode names).
    Handles joblib's NumpyArrayWrapper inline array data.
    Returns the offset just after STOP.
    """
    stack, memo = [], {}
    gen = pickletools.genops(stream)
    for op, arg, pos in gen:
        name = op.name
        report["ops"].add(name)

        def pop_mark():
            items = []
            while True:
                v = stack.pop()
                if v is MARK:
                    break
                items.append(v)
            items.reverse()
            return items

        if name in STRINGY:
            stack.append(arg)
        elif name in ("NONE",):
            stack.append(None)
        elif name == "NEWTRUE":
            stack.append(True)
        elif name == "NEWFALSE":
            stack.append(False)
        elif name == "EMPTY_DICT":
            stack.append(DictV())
        elif name in ("EMPTY_LIST",):
            stack.append([])
        elif name == "EMPTY_TUPLE":
            stack.append(())
        elif name == "EMPTY_SET":
            stack.append([])
        elif name == "MARK":
            stack.append(MARK)
        elif name == "DICT":
            items = pop_mark()
            d = DictV()
            d.items = list(zip(items[::2], items[1::2]))
            stack.append(d)
        elif name == "LIST":
            stack.append(pop_mark())
        elif name == "TUPLE":
            stack.append(tuple(pop_mark()))
        elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
            n = int(name[-1])
            t = tuple(stack[-n:])
            del stack[-n:]
            stack.append(t)
        elif name == "FROZENSET":
            stack.append(tuple(pop_mark()))
        elif name == "APPEND":
            v = stack.pop()
            if isinstance(stack[-1], list):
                stack[-1].append(v)
        elif name in ("APPENDS", "ADDITEMS"):
            items = pop_mark()
            if isinstance(stack[-1], list):
                stack[-1].extend(items)
        elif name == "SETITEM":
            v = stack.pop()
            k = stack.pop()
            if isinstance(stack[-1], DictV):
                stack[-1].items.append((k, v))
        elif name == "SETITEMS":
            items = pop_mark()
            if isinstance(stack[-1], DictV):
                stack[-1].items.extend(zip(items[::2], items[1::2]))
        elif name == "POP":
            stack.pop()
        elif name == "POP_MARK":
            pop_mark()
        elif name == "DUP":
            stack.append(stack[-1])
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[arg] = stack[-1]
        elif name == "MEMOIZE":
            memo[len(memo)] = stack[-1]
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            stack.append(memo[arg])
        elif name in ("GLOBAL", "INST"):
            module, _, qual = arg.partition(" ")
            g = G(module, qual)
            report["globals"].add(repr(g))
            if name == "INST":
                args = tuple(pop_mark())
                report["calls"].append(("INST", repr(g)))
                stack.append(Obj(g, args, "INST"))
            else:
                stack.append(g)
        elif name == "STACK_GLOBAL":
            qual = stack.pop()
            module = stack.pop()
            g = G(module, qual)
            report["globals"].add(repr(g))
            stack.append(g)
        elif name == "REDUCE":
            args = stack.pop()
            func = stack.pop()
            report["calls"].append(("REDUCE", repr(func)))
            stack.append(Obj(func, args, "REDUCE"))
        elif name == "NEWOBJ":
            args = stack.pop()
            cls = stack.pop()
            report["calls"].append(("NEWOBJ", repr(cls)))
            stack.append(Obj(cls, args, "NEWOBJ"))
        elif name == "NEWOBJ_EX":
            kwargs = stack.pop()
            args = stack.pop()
            cls = stack.pop()
            report["calls"].append(("NEWOBJ_EX", repr(cls)))
            stack.append(Obj(cls, args, "NEWOBJ_EX"))
        elif name == "OBJ":
            items = pop_mark()
            report["calls"].append(("OBJ", repr(items[0])))
            stack.append(Obj(items[0], tuple(items[1:]), "OBJ"))
        elif name == "BUILD":
            state = stack.pop()
            target = stack[-1]
            if isinstance(target, Obj):
                target.state = state
                report["calls"].append(("BUILD", repr(target.func)))
                if (isinstance(target.func, G) and target.func.module == "joblib.numpy_pickle"
                        and target.func.name == "NumpyArrayWrapper"):
                    _skip_joblib_array(stream, target, report, depth)
        elif name == "PERSID":
            stack.append(Obj(G("<persid>", "PERSID"), arg, "PERSID"))
        elif name == "BINPERSID":
            pid = stack.pop()
            report["persids"].append(pid)
            stack.append(Obj(G("<persid>", "BINPERSID"), pid, "BINPERSID"))
        elif name in ("EXT1", "EXT2", "EXT4"):
            report["globals"].add(f"<extension {arg}>")
            stack.append(G("<ext>", str(arg)))
        elif name in ("NEXT_BUFFER",):
            stack.append(None)
        elif name in ("READONLY_BUFFER",):
            pass
        elif name in ("PROTO", "FRAME"):
            if name == "PROTO":
                report.setdefault("protocols", []).append(arg)
        elif name == "STOP":
            return stream.tell()
        else:
            raise ValueError(f"unhandled opcode {name} at {pos}")
    raise ValueError("pickle without STOP")


def _skip_joblib_array(stream, wrapper, report, depth):
    st = wrapper.state
    shape = st.get("shape")
    itemsize, is_obj = _itemsize(st.get("dtype"))
    align = st.get("numpy_array_alignment_bytes", "absent")
    start = stream.tell()
    entry = {"offset": start, "shape": shape, "dtype": st.get("dtype").args[0],
             "order": st.get("order"), "align": align}
    if is_obj:
        sub = new_report()
        walk_pickle(stream, sub, depth + 1)
        entry["embedded_pickle"] = (start, stream.tell())
        report["globals"] |= sub["globals"]
        report["calls"].extend(sub["calls"])
        report["ops"] |= sub["ops"]
    else:
        if align is not None and align != "absent":
            pad = stream.read(1)[0]
            filler = stream.read(pad)
            assert filler == b"\xff" * pad, filler
            entry["padding"] = pad
        count = 1
        for d in shape:
            count *= d
        nbytes = count * itemsize
        data_start = stream.tell()
        entry["data_offset"] = data_start
        entry["nbytes"] = nbytes
        stream.seek(nbytes, io.SEEK_CUR)
    report["joblib_arrays"].append(entry)


def new_report():
    return {"globals": set(), "calls": [], "ops": set(), "persids": [], "joblib_arrays": []}


def joblib_decompress(raw):
    if raw[:2] == b"ZF":
        return "joblib-compat ZF", None
    if raw[:1] == b"\x78":
        return "zlib", zlib.decompress(raw)
    if raw[:2] == b"\x1f\x8b":
        return "gzip", gzip.decompress(raw)
    if raw[:2] == b"BZ":
        return "bz2", bz2.decompress(raw)
    if raw[:5] == b"\xfd7zXZ":
        return "xz", lzma.decompress(raw)
    if raw[:2] == b"\x5d\x00":
        return "lzma", lzma.decompress(raw, format=lzma.FORMAT_ALONE)
    return "none", raw


def inspect_bytes(raw, label, out):
    """Append (label, report) entries for every pickle found in `raw`."""
    if raw[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            for n in zf.namelist():
                data = zf.read(n)
                if (n.endswith(".pkl") or data[:1] == b"\x80" or data[:4] == b"PK\x03\x04"
                        or data[:2] == b"\x1f\x8b" or data[:6] == b"\x93NUMPY") and not n.endswith("/"):
                    if data[:1] == b"\x80" or n.endswith(".pkl"):
                        try:
                            r = new_report()
                            walk_pickle(io.BytesIO(data), r)
                            out.append((f"{label}!{n}", r))
                        except Exception as e:
                            out.append((f"{label}!{n}", {"error": str(e)}))
                    else:
                        inspect_bytes(data, f"{label}!{n}", out)
        return
    if raw[:2] == b"\x1f\x8b":
        data = gzip.decompress(raw)
        if len(data) > 262 and data[257:262] == b"ustar":
            with tarfile.open(fileobj=io.BytesIO(data)) as tf:
                for m in tf.getmembers():
                    if m.isfile():
                        inspect_bytes(tf.extractfile(m).read(), f"{label}!{m.name}", out)
            return
        inspect_bytes(data, f"{label}(gunzip)", out)
        return
    if raw[:6] == b"\x93NUMPY":
        major = raw[6]
        if major == 1:
            hlen = struct.unpack("<H", raw[8:10])[0]
            off = 10 + hlen
        else:
            hlen = struct.unpack("<I", raw[8:12])[0]
            off = 12 + hlen
        header = raw[off - hlen:off].decode("latin1")
        if "'O'" in header or "|O" in header:
            r = new_report()
            s = io.BytesIO(raw)
            s.seek(off)
            walk_pickle(s, r)
            r["npy_header"] = header.strip()
            r["pickle_offset"] = off
            out.append((label, r))
        else:
            out.append((label, {"npy_header": header.strip(), "globals": set(), "calls": []}))
        return
    # legacy torch: a sequence of pickles followed by raw storages
    kind, data = joblib_decompress(raw)
    if data is None:
        out.append((label, {"error": kind}))
        return
    if not data or chr(data[0]) not in pickletools.code2op:
        out.append((label, {"not_a_pickle": True, "globals": set(), "calls": []}))
        return
    s = io.BytesIO(data)
    idx = 0
    while s.tell() < len(data):
        if data[s.tell():s.tell() + 1] != b"\x80" and idx > 0:
            break
        r = new_report()
        start = s.tell()
        walk_pickle(s, r)
        r["span"] = (start, s.tell())
        r["compression"] = kind
        out.append((f"{label}#pickle{idx}" if idx or s.tell() < len(data) else label, r))
        idx += 1
    if s.tell() < len(data):
        out.append((f"{label}#trailer", {"trailing_bytes": len(data) - s.tell(),
                                         "globals": set(), "calls": []}))


def inspect_file(path):
    with open(path, "rb") as f:
        raw = f.read()
    out = []
    inspect_bytes(raw, os.path.basename(path), out)
    return out


def summarize_calls(report):
    calls = [c for c in report.get("calls", []) if c[0] != "BUILD"]
    seen = []
    for c in calls:
        if c not in seen:
            seen.append(c)
    return seen


def print_inspection(path):
    for label, r in inspect_file(path):
        print(f"== {label}")
        for k in ("error", "npy_header", "pickle_offset", "span", "compression", "trailing_bytes"):
            if k in r:
                print(f"   {k}: {r[k]}")
        if r.get("protocols"):
            print(f"   protocol: {r['protocols']}")
        print(f"   globals: {sorted(r.get('globals', []))}")
        print(f"   calls: {summarize_calls(r)}")
        for a in r.get("joblib_arrays", []):
            print(f"   joblib array: {a}")
        if r.get("persids"):
            print(f"   persistent ids: {len(r['persids'])} e.g. {r['persids'][0]!r}")


# ---------------------------------------------------------------------------
# README
# ---------------------------------------------------------------------------

def versions():
    import joblib
    import numpy
    import sklearn
    import torch
    return {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "joblib": joblib.__version__,
        "scikit-learn": sklearn.__version__,
        "pickle.HIGHEST_PROTOCOL": pickle.HIGHEST_PROTOCOL,
    }


DANGEROUS = {"posix.system", "os.system", "builtins.exec", "__builtin__.exec", "builtins.eval",
             "__builtin__.eval", "subprocess.Popen", "runpy._run_code", "importlib.import_module",
             "nt.system"}


def expected_opcodes(path):
    parts = []
    for label, r in inspect_file(path):
        hits = [c for c in r.get("calls", []) if c[1] in DANGEROUS]
        if not hits:
            continue
        sub = label.split("!", 1)[1] if "!" in label else (
            f"pickle #{label.split('#pickle', 1)[1]} (0-based)" if "#pickle" in label else "")
        via = "STACK_GLOBAL" if "STACK_GLOBAL" in r["ops"] else "GLOBAL"
        hs = []
        for op, g in hits:
            s = f"{via} '{g}' + {op}"
            if s not in hs:
                hs.append(s)
        parts.append((f"{sub}: " if sub else "") + "; ".join(hs))
    return " | ".join(parts)


def write_readme():
    v = versions()
    lines = []
    lines.append("# Model-file fixtures")
    lines.append("")
    lines.append("Generated by `make_fixtures.py` (run `/usr/bin/python3 testdata/models/make_fixtures.py`; "
                 "it rewrites every file and this README). Layout details for scanner authors are in "
                 "[NOTES.md](NOTES.md).")
    lines.append("")
    lines.append("## Generated with " + ", ".join(f"{k} {val}" for k, val in v.items()))
    lines.append("")
    lines.append("Every file is a real artefact written by the named library call (except "
                 "`malicious/pickle_os_system_handwritten.pkl`, which is hand-written bytes). "
                 "Malicious files were only *dumped*; their payloads were never executed or loaded. "
                 "Verification was done with `python3 -m pickletools` / `pickletools.genops` only.")
    lines.append("")
    lines.append("Reproducibility: fixed seeds, PYTHONHASHSEED=0, TZ=UTC, fixed zip/tar/gzip timestamps, TorchScript source compiled under the fixed name `tiny_model.py`. "
                 "`torch_legacy.pt` and `torch_legacy_exec.pt` are NOT byte-reproducible: torch's "
                 "legacy writer uses `str(storage._cdata)` (a memory address) as storage key, so even their sizes vary by a few bytes between runs. "
                 "Everything else is expected to be byte-identical across runs with the same library versions.")
    lines.append("")
    for section, prefix in (("benign", "benign/"), ("malicious", "malicious/")):
        lines.append(f"## {section}/")
        lines.append("")
        if section == "benign":
            lines.append("A scanner must raise **no finding at high or critical** severity for any of these.")
        else:
            lines.append("A scanner must flag **every** file here (critical). "
                         "\"Expected opcodes\" is what the pickle disassembly shows for the dangerous call.")
        lines.append("")
        if section == "benign":
            lines.append("| file | bytes | how it was made | scanner should say |")
            lines.append("|---|---:|---|---|")
        else:
            lines.append("| file | bytes | how it was made | scanner should say | expected opcodes |")
            lines.append("|---|---:|---|---|---|")
        for rel, made, expect in MANIFEST:
            if not rel.startswith(prefix):
                continue
            full = os.path.join(HERE, rel)
            size = os.path.getsize(full)
            made_md = made.replace("|", "\\|")
            if section == "benign":
                lines.append(f"| `{rel}` | {size} | {made_md} | {expect} |")
            else:
                ops = expected_opcodes(full).replace("|", "\\|")
                lines.append(f"| `{rel}` | {size} | {made_md} | {expect} | {ops} |")
        lines.append("")
    total = sum(os.path.getsize(os.path.join(HERE, r)) for r, _, _ in MANIFEST)
    lines.append(f"Total fixture payload: {total} bytes in {len(MANIFEST)} files.")
    lines.append("")
    lines.append("## sha256")
    lines.append("")
    lines.append("(`*_legacy*.pt` hashes change on every run, see above.)")
    lines.append("")
    lines.append("```")
    for rel, _, _ in MANIFEST:
        with open(os.path.join(HERE, rel), "rb") as f:
            h = hashlib.sha256(f.read()).hexdigest()
        lines.append(f"{h}  {rel}")
    lines.append("```")
    lines.append("")
    with open(os.path.join(HERE, "README.md"), "w") as f:
        f.write("\n".join(lines))


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--inspect":
        for p in sys.argv[2:]:
            print_inspection(p)
        return
    import warnings
    warnings.filterwarnings("ignore")
    seed_everything()
    for d in (BENIGN, MALICIOUS):
        os.makedirs(d, exist_ok=True)
        for n in os.listdir(d):
            os.remove(os.path.join(d, n))
    gen_torch()
    gen_numpy()
    gen_plain_pickles()
    gen_sklearn()
    gen_nested()
    write_readme()
    v = versions()
    print("versions:", v)
    for rel, _, _ in MANIFEST:
        print(f"{os.path.getsize(os.path.join(HERE, rel)):8d}  {rel}")


if __name__ == "__main__":
    main()
