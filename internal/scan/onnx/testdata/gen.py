#!/usr/bin/env python3
"""Writes the ONNX fixtures of internal/scan/onnx with Debian's python3-onnx.

Run from this directory: /usr/bin/python3 gen.py
Benign models (benign_*.onnx) must scan clean; malicious ones (malicious_*.onnx)
each carry one thing the scanner must report. Nothing here is ever loaded with
external data resolved: the malicious locations point at files that must not be read.

It also writes modelinfo.json: what the onnx library reads in each fixture
(producer, inputs and outputs, majority initializer data type, parameter
count), the expectations of the Go tests.
"""
import glob
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnx.external_data_helper import set_external_data

OPSET = [helper.make_opsetid("", 13)]


def save(model, name, check=True):
    if check:
        onnx.checker.check_model(model)
    with open(name, "wb") as f:
        f.write(model.SerializeToString())


def model(graph, opsets=OPSET, **kw):
    m = helper.make_model(graph, opset_imports=opsets, producer_name="mlguard-gen", producer_version="1", **kw)
    m.ir_version = 8
    return m


def init(name, shape, seed=0):
    rng = np.random.default_rng(seed)
    return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)


def external(tensor, location):
    """Moves a tensor's bytes out: the file keeps only the location entry."""
    set_external_data(tensor, location, offset=0, length=len(tensor.raw_data))
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    return tensor


def mlp():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h1"], name="fc1"),
        helper.make_node("Add", ["h1", "b1"], ["h2"], name="bias1"),
        helper.make_node("Relu", ["h2"], ["h3"], name="relu1"),
        helper.make_node("MatMul", ["h3", "w2"], ["h4"], name="fc2"),
        helper.make_node("Add", ["h4", "b2"], ["y"], name="bias2"),
    ]
    inits = [init("w1", (16, 32), 1), init("b1", (32,), 2), init("w2", (32, 4), 3), init("b2", (4,), 4)]
    return helper.make_graph(nodes, "mlp", [x], [y], inits)


def control_flow(body_extra=None):
    """An If whose branches hold constants, and a Loop whose body holds an If."""
    cond = helper.make_tensor_value_info("cond", TensorProto.BOOL, [])
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    z = helper.make_tensor_value_info("z", TensorProto.FLOAT, [2])

    def branch(name, value):
        out = helper.make_tensor_value_info(name + "_out", TensorProto.FLOAT, [2])
        c = helper.make_node("Constant", [], [name + "_out"], name=name + "_const",
                             value=numpy_helper.from_array(np.array(value, dtype=np.float32)))
        return helper.make_graph([c], name, [], [out])

    if_node = helper.make_node("If", ["cond"], ["sel"], name="choose",
                               then_branch=branch("then", [1, 2]), else_branch=branch("else", [3, 4]))
    add = helper.make_node("Add", ["x", "sel"], ["y"], name="add")

    # Loop body: (iter, cond, carried) -> (cond, carried)
    it = helper.make_tensor_value_info("i", TensorProto.INT64, [])
    cin = helper.make_tensor_value_info("c_in", TensorProto.BOOL, [])
    vin = helper.make_tensor_value_info("v_in", TensorProto.FLOAT, [2])
    cout = helper.make_tensor_value_info("c_out", TensorProto.BOOL, [])
    vout = helper.make_tensor_value_info("v_out", TensorProto.FLOAT, [2])
    inner_if = helper.make_node("If", ["c_in"], ["delta"], name="inner_choose",
                                then_branch=branch("inner_then", [1, 1]), else_branch=branch("inner_else", [0, 0]))
    body_nodes = [
        helper.make_node("Identity", ["c_in"], ["c_out"], name="keep_going"),
        inner_if,
        helper.make_node("Add", ["v_in", "delta"], ["v_out"], name="accumulate"),
    ]
    body_inits = []
    if body_extra is not None:
        nodes, inits = body_extra()
        body_nodes = body_nodes[:-1] + nodes
        body_inits = inits
    body = helper.make_graph(body_nodes, "loop_body", [it, cin, vin], [cout, vout], body_inits)
    trip = helper.make_node("Constant", [], ["trip"], name="trip",
                            value=numpy_helper.from_array(np.array(3, dtype=np.int64)))
    loop = helper.make_node("Loop", ["trip", "cond", "y"], ["z"], name="repeat", body=body)
    return helper.make_graph([if_node, add, trip, loop], "control_flow", [cond, x], [z])


def constant_external(location):
    """Loop body nodes whose Constant reads its value from external data."""
    def extra():
        t = external(numpy_helper.from_array(np.zeros(2, dtype=np.float32), "stolen"), location)
        c = helper.make_node("Constant", [], ["leak"], name="leak_const", value=t)
        add = helper.make_node("Add", ["v_in", "leak"], ["v_out"], name="accumulate")
        return [c, add], []
    return extra


def local_function(body_domain="", body_op="Relu", body_const=None):
    """A model-local function custom.local.MyRelu called from the graph."""
    nodes = []
    if body_const is not None:
        nodes.append(helper.make_node("Constant", [], ["k"], value=body_const))
        nodes.append(helper.make_node("Add", ["a", "k"], ["a2"]))
        nodes.append(helper.make_node(body_op, ["a2"], ["b"], domain=body_domain))
    else:
        nodes.append(helper.make_node(body_op, ["a"], ["b"], domain=body_domain))
    opsets = [helper.make_opsetid("", 13)]
    if body_domain:
        opsets.append(helper.make_opsetid(body_domain, 1))
    fn = helper.make_function("custom.local", "MyRelu", ["a"], ["b"], nodes, opsets)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    call = helper.make_node("MyRelu", ["x"], ["y"], name="call", domain="custom.local")
    g = helper.make_graph([call], "uses_function", [x], [y])
    m = model(g, OPSET + [helper.make_opsetid("custom.local", 1)] + ([helper.make_opsetid(body_domain, 1)] if body_domain else []),
              functions=[fn])
    return m


def llm_io():
    """A decoder's interface: input_ids and attention_mask INT64 [batch, sequence],
    logits FLOAT [batch, sequence, 32000] (made by ConstantOfShape, so no
    vocabulary-sized weight), and hidden_states with an unnamed dimension."""
    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"])
    mask = helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"])
    logits = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "sequence", 32000])
    hidden = helper.make_tensor_value_info("hidden_states", TensorProto.FLOAT, ["batch", None, 8])
    nodes = [
        helper.make_node("Gather", ["embed", "input_ids"], ["h"], name="embed_tokens"),
        helper.make_node("Cast", ["attention_mask"], ["m"], name="mask_float", to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["m", "last_axis"], ["m3"], name="mask_unsqueeze"),
        helper.make_node("Mul", ["h", "m3"], ["hidden_states"], name="apply_mask"),
        helper.make_node("MatMul", ["hidden_states", "proj"], ["p"], name="project"),
        helper.make_node("Shape", ["input_ids"], ["bs"], name="batch_seq"),
        helper.make_node("Concat", ["bs", "vocab"], ["logits_shape"], name="logits_shape", axis=0),
        helper.make_node("ConstantOfShape", ["logits_shape"], ["zeros"], name="zeros",
                         value=numpy_helper.from_array(np.zeros(1, dtype=np.float32))),
        helper.make_node("Add", ["zeros", "p"], ["logits"], name="logits"),
    ]
    inits = [
        init("embed", (64, 8), 5),
        init("proj", (8, 1), 6),
        numpy_helper.from_array(np.array([-1], dtype=np.int64), "last_axis"),
        numpy_helper.from_array(np.array([32000], dtype=np.int64), "vocab"),
    ]
    return helper.make_graph(nodes, "decoder", [ids, mask], [logits, hidden], inits)


def ir3_inputs():
    """The MLP as exporters wrote it before IR version 4: every initializer is
    also a graph input (the real input, x, sits among them), and the producer
    has no version."""
    g = mlp()
    weights = [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in g.initializer]
    x = g.input[0]
    del g.input[:]
    g.input.extend([weights[0], weights[1], x, weights[2], weights[3]])
    g.name = "mlp_ir3"
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 8)], producer_name="mlguard-gen")
    m.ir_version = 3
    return m


def fp16():
    """Half-precision weights with a float32 bias and a float32 sparse
    initializer that is also declared as a graph input; a scalar output."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT16, ["N", 32])
    sb_in = helper.make_tensor_value_info("sparse_bias", TensorProto.FLOAT, [32])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 32])
    total = helper.make_tensor_value_info("total", TensorProto.FLOAT, [])
    rng = np.random.default_rng(7)
    w = numpy_helper.from_array(rng.standard_normal((32, 32)).astype(np.float16), "w")
    b = init("b", (32,), 8)
    sb = helper.make_sparse_tensor(
        numpy_helper.from_array(np.array([1, 2, 3, 4], dtype=np.float32), "sparse_bias"),
        numpy_helper.from_array(np.array([0, 5, 17, 31], dtype=np.int64), "sparse_bias_indices"),
        [32])
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["h16"], name="fc"),
        helper.make_node("Cast", ["h16"], ["h"], name="to_float", to=TensorProto.FLOAT),
        helper.make_node("Add", ["h", "b"], ["h2"], name="bias"),
        helper.make_node("Add", ["h2", "sparse_bias"], ["y"], name="sparse_bias_add"),
        helper.make_node("ReduceSum", ["y"], ["total"], name="total", keepdims=0),
    ]
    g = helper.make_graph(nodes, "half", [x, sb_in], [y, total], [w, b], sparse_initializer=[sb])
    return model(g)


def classifier():
    """A scikit-learn style classifier: a ZipMap output of type
    sequence(map(INT64, FLOAT)), an optional input and a scalar output. (onnx
    1.12's checker wants a shape on every graph tensor, so an unknown rank is
    tested with synthetic models in the Go tests.)"""
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 4])
    opt = helper.make_value_info("maybe", helper.make_optional_type_proto(
        helper.make_tensor_type_proto(TensorProto.FLOAT, [4])))
    label = helper.make_tensor_value_info("output_label", TensorProto.INT64, ["N"])
    probs = onnx.TypeProto()
    probs.sequence_type.elem_type.map_type.key_type = TensorProto.INT64
    probs.sequence_type.elem_type.map_type.value_type.tensor_type.elem_type = TensorProto.FLOAT
    prob = helper.make_value_info("output_probability", probs)
    has = helper.make_tensor_value_info("has_maybe", TensorProto.BOOL, [])
    nodes = [
        helper.make_node("LinearClassifier", ["X"], ["output_label", "scores"], name="linear", domain="ai.onnx.ml",
                         classlabels_ints=[0, 1, 2], coefficients=[0.1 * i for i in range(12)],
                         intercepts=[0.0, 0.5, 1.0], post_transform="SOFTMAX"),
        helper.make_node("ZipMap", ["scores"], ["output_probability"], name="zipmap", domain="ai.onnx.ml",
                         classlabels_int64s=[0, 1, 2]),
        helper.make_node("OptionalHasElement", ["maybe"], ["has_maybe"], name="has_maybe"),
    ]
    g = helper.make_graph(nodes, "classifier", [x, opt], [label, prob, has])
    return model(g, [helper.make_opsetid("", 15), helper.make_opsetid("ai.onnx.ml", 1)])


# What the onnx library reads in a fixture: the Go scanner's expectations.

def dtype_name(n):
    try:
        return TensorProto.DataType.Name(n)
    except ValueError:
        return "DataType(%d)" % n


def dim_text(d):
    which = d.WhichOneof("value")
    if which == "dim_value":
        return str(d.dim_value)
    if which == "dim_param" and d.dim_param:
        return d.dim_param
    return "?"


def type_text(tp):
    """(dtype, shape) of a TypeProto, spelled as the scanner documents."""
    kind = tp.WhichOneof("value")
    if kind in ("tensor_type", "sparse_tensor_type"):
        t = getattr(tp, kind)
        shape = [dim_text(d) for d in t.shape.dim] if t.HasField("shape") else None
        name = dtype_name(t.elem_type)
        return (name if kind == "tensor_type" else "sparse_tensor(%s)" % name), shape
    if kind in ("sequence_type", "optional_type"):
        t = getattr(tp, kind)
        inner = (type_text(t.elem_type)[0] or "?") if t.HasField("elem_type") else "?"
        return "%s(%s)" % (kind[:-len("_type")], inner), None
    if kind == "map_type":
        value = (type_text(tp.map_type.value_type)[0] or "?") if tp.map_type.HasField("value_type") else "?"
        return "map(%s,%s)" % (dtype_name(tp.map_type.key_type), value), None
    if kind == "opaque_type":
        return "opaque", None
    return "", None


def value_text(vi):
    dtype, shape = type_text(vi.type) if vi.HasField("type") else ("", None)
    out = {"name": vi.name}
    if dtype:
        out["dtype"] = dtype
    out["shape"] = shape
    return out


def graphs(m):
    """Every graph of a model: the main one, training graphs, and the graphs
    in node attributes (of graphs and functions), at any depth."""
    def nested(nodes):
        for n in nodes:
            for a in n.attribute:
                subs = ([a.g] if a.HasField("g") else []) + list(a.graphs)
                for g in subs:
                    yield g
                    yield from nested(g.node)
    yield m.graph
    yield from nested(m.graph.node)
    for t in m.training_info:
        for g in (t.initialization, t.algorithm):
            yield g
            yield from nested(g.node)
    for f in m.functions:
        yield from nested(f.node)


def model_info(path):
    m = onnx.load(path, load_external_data=False)
    producer = (m.producer_name + " " + m.producer_version).strip()
    g = m.graph
    arch = g.name
    by_type = {}
    for gr in graphs(m):
        for t in list(gr.initializer) + [s.values for s in gr.sparse_initializer]:
            n = int(np.prod(t.dims, dtype=np.int64))
            by_type[t.data_type] = by_type.get(t.data_type, 0) + n
    params = sum(by_type.values())
    weighted = sorted((-n, t) for t, n in by_type.items() if t != TensorProto.UNDEFINED and n > 0)
    initializers = {t.name for t in g.initializer} | {s.values.name for s in g.sparse_initializer}
    info = {
        "architecture": arch,
        "parameters": params,
        "dtype": dtype_name(weighted[0][1]) if weighted else "",
        "producer": producer,
        "inputs": [value_text(vi) for vi in g.input if vi.name not in initializers],
        "outputs": [value_text(vi) for vi in g.output],
    }
    return {k: v for k, v in info.items() if v}


def main():
    save(model(mlp()), "benign_mlp.onnx")
    save(model(control_flow()), "benign_control_flow.onnx")

    # Safe external data: a sibling file and a file in a subfolder (written
    # first: the checker opens them).
    g = mlp()
    with open("benign_external.onnx.data", "wb") as f:
        f.write(g.initializer[0].raw_data)
    os.makedirs("weights", exist_ok=True)
    with open("weights/w2.bin", "wb") as f:
        f.write(g.initializer[2].raw_data)
    external(g.initializer[0], "benign_external.onnx.data")
    external(g.initializer[2], "weights/w2.bin")
    save(model(g), "benign_external.onnx")

    # An ONNX Runtime contrib operator (com.microsoft), as optimised exports have.
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])
    gelu = helper.make_node("Gelu", ["x"], ["y"], name="gelu", domain="com.microsoft")
    save(model(helper.make_graph([gelu], "contrib", [x], [y]), OPSET + [helper.make_opsetid("com.microsoft", 1)]),
         "benign_contrib.onnx")

    save(local_function(), "benign_function.onnx")

    # Inputs, outputs and data types for the report.
    save(model(llm_io()), "benign_llm_io.onnx")
    save(ir3_inputs(), "benign_ir3_inputs.onnx")
    save(fp16(), "benign_fp16.onnx")
    save(classifier(), "benign_classifier.onnx")

    # Malicious.
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    evil = helper.make_node("EvilOp", ["x"], ["y"], name="evil", domain="com.evil.ops")
    save(model(helper.make_graph([evil], "custom", [x], [y]), OPSET + [helper.make_opsetid("com.evil.ops", 1)]),
         "malicious_custom_op.onnx", check=False)

    for name, loc in [("malicious_ext_traversal.onnx", "../../etc/passwd"),
                      ("malicious_ext_absolute.onnx", "/etc/shadow"),
                      ("malicious_ext_subdir.onnx", "weights/../../../home/user/.aws/credentials"),
                      ("malicious_ext_ort_mem.onnx", "*/_ORT_MEM_ADDR_/*")]:
        g = mlp()
        external(g.initializer[0], loc)
        save(model(g), name, check=False)

    save(model(control_flow(constant_external("../../../root/.ssh/id_rsa"))), "malicious_loop_body_ext.onnx", check=False)

    save(local_function(body_domain="com.evil.ops", body_op="Exfiltrate"), "malicious_function_custom_op.onnx", check=False)
    leak = external(numpy_helper.from_array(np.zeros(2, dtype=np.float32), "k"), "/proc/self/environ")
    save(local_function(body_const=leak), "malicious_function_ext.onnx", check=False)

    # One fixture a line.
    lines = ["%s: %s" % (json.dumps(p), json.dumps(model_info(p), sort_keys=True)) for p in sorted(glob.glob("*.onnx"))]
    with open("modelinfo.json", "w") as f:
        f.write("{\n" + ",\n".join(lines) + "\n}\n")


if __name__ == "__main__":
    main()
