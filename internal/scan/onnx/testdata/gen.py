#!/usr/bin/env python3
"""Writes the ONNX fixtures of internal/scan/onnx with Debian's python3-onnx.

Run from this directory: /usr/bin/python3 gen.py
Benign models (benign_*.onnx) must scan clean; malicious ones (malicious_*.onnx)
each carry one thing the scanner must report. Nothing here is ever loaded with
external data resolved: the malicious locations point at files that must not be read.
"""
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


if __name__ == "__main__":
    main()
