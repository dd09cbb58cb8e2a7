package tensorflow

import (
	"fmt"
	"strings"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/modelfile"
)

// check says when an operation of the table is reported.
type check uint8

const (
	// always: the op has no ordinary use in a model that is shared.
	always check = iota
	// fixedPath: the op's path inputs (opRisk.inputs) come from constants
	// in the graph rather than from the loader (a placeholder, a function
	// argument, a registered asset). Every SavedModel has SaveV2,
	// MergeV2Checkpoints and RestoreV2 fed with the checkpoint path the
	// loader supplies; those must stay silent, a hard-coded /etc/cron.d
	// must not.
	fixedPath
	// fileStream: PrintV2 whose output_stream attribute names a file
	// ("file://..."); printing to stderr or the log is ordinary.
	fileStream
	// debugURLs: tfdbg ops whose debug_urls attribute is not empty: they
	// dump tensors to file:// paths or stream them to grpc:// servers.
	debugURLs
)

// opRisk is one row of the table.
type opRisk struct {
	sev   finding.Severity
	what  string // what the op does, completing "it ..."
	check check
	// inputs are the indexes of the path inputs: for fixedPath, what
	// decides; for always, where the evidence's path comes from.
	inputs []int
}

// family groups ops of the same impact.
type family struct {
	sev   finding.Severity
	what  string
	check check
	ops   map[string][]int // op -> path inputs
}

// names makes an ops map for families whose ops take no path inputs, or
// share one.
func names(inputs []int, ops ...string) map[string][]int {
	m := make(map[string][]int, len(ops))
	for _, op := range ops {
		m[op] = inputs
	}
	return m
}

// families is the table of TensorFlow operations mlguard reports, by what
// they can do to the machine that runs the graph. Sources: TensorFlow's
// SECURITY.md ("models are programs"), the op definitions in
// tensorflow/core/ops, the TensorAbuse study of abusable ops (file read and
// write, directory listing, network), and the lists of modelscan and
// modelaudit, minus what every SavedModel contains.
var families = []family{
	// Python: the op calls a Python function registered by token in the
	// loading process (tf.py_function, tf.numpy_function): whatever Python
	// that process can reach runs with the model's inputs.
	{finding.Critical, "runs a Python function of the loading process", always,
		names(nil, "PyFunc", "PyFuncStateless", "EagerPyFunc")},
	// Arbitrary file write: path and contents are graph values, enough to
	// drop a shell profile, a cron entry or an SSH key.
	{finding.Critical, "writes a file whose name and contents the graph chooses", always,
		names([]int{0}, "WriteFile")},
	// A listening RPC server that runs the graph's functions for whoever
	// connects (tf.distribute.experimental.rpc).
	{finding.Critical, "starts an RPC server that runs graph functions for remote callers", always,
		names(nil, "RpcServer", "RpcServerStart", "RpcServerRegister")},
	// File read into a tensor: secrets become model outputs a served model
	// returns to its callers. ImmutableConst memory-maps the file named by
	// its memory_region_name attribute.
	{finding.High, "reads a file into a tensor", always,
		map[string][]int{"ReadFile": {0}, "ImmutableConst": nil}},
	// Directory listing.
	{finding.High, "lists the files matching a pattern", always,
		names([]int{0}, "MatchingFiles", "MatchingFilesDataset", "ExperimentalMatchingFilesDataset")},
	// TF1 queue readers: read whole files or their records from names
	// queued at run time.
	{finding.High, "reads files named at run time (a TF1 reader)", always,
		names(nil, "WholeFileReader", "WholeFileReaderV2", "TextLineReader", "TextLineReaderV2",
			"FixedLengthRecordReader", "FixedLengthRecordReaderV2", "TFRecordReader", "TFRecordReaderV2", "LMDBReader")},
	// Network clients: RPC calls, the tf.data service, distributed
	// snapshots, all reaching an address the graph names.
	{finding.High, "connects to a network service the graph names", always,
		names(nil, "RpcClient", "RpcCall", "DataServiceDataset", "DataServiceDatasetV2", "DataServiceDatasetV3",
			"DataServiceDatasetV4", "RegisterDataset", "RegisterDatasetV2", "DistributedSave")},
	// Datasets and lookup tables reading a fixed path. Input pipelines and
	// vocabularies are ordinary when the path comes from the caller or is a
	// registered asset; a constant path reads whatever file the model's
	// author chose on the loading machine.
	{finding.High, "reads a file at a path fixed in the graph", fixedPath, map[string][]int{
		"TextLineDataset": {0}, "TFRecordDataset": {0}, "TFRecordDatasetV2": {0},
		"FixedLengthRecordDataset": {0}, "FixedLengthRecordDatasetV2": {0},
		"CSVDataset": {0}, "CSVDatasetV2": {0}, "ExperimentalCSVDataset": {0},
		"LMDBDataset": {0}, "ExperimentalLMDBDataset": {0}, "LoadDataset": {0},
		"SqlDataset": {1}, "ExperimentalSqlDataset": {1},
		"InitializeTableFromTextFile": {1}, "InitializeTableFromTextFileV2": {1},
		"LoadAndRemapMatrix": {0},
	}},
	// Writers to a fixed path: checkpoints, datasets, snapshots, summary
	// logs. The file format is constrained, but the place is the author's
	// choice; MergeV2Checkpoints also deletes its inputs.
	{finding.High, "writes files at a path fixed in the graph", fixedPath, map[string][]int{
		"Save": {0}, "SaveSlices": {0}, "SaveV2": {0}, "MergeV2Checkpoints": {0, 1},
		"SaveDataset": {1}, "SaveDatasetV2": {1}, "SnapshotDataset": {1}, "SnapshotDatasetV2": {1},
		"CreateSummaryFileWriter": {1}, "CreateSummaryDbWriter": {1},
	}},
	// Print to a file: appends text to any path.
	{finding.High, "appends printed tensors to a file", fileStream, names(nil, "PrintV2")},
	// tfdbg: dumps tensors to files or streams them over gRPC.
	{finding.High, "sends tensor values to a debug URL (a file dump or a gRPC server)", debugURLs,
		names(nil, "DebugIdentity", "DebugIdentityV2", "DebugIdentityV3", "DebugNanCount", "DebugNumericSummary")},
}

// dangerousOps indexes families by op name.
var dangerousOps = func() map[string]opRisk {
	m := map[string]opRisk{}
	for _, f := range families {
		for op, in := range f.ops {
			m[op] = opRisk{sev: f.sev, what: f.what, check: f.check, inputs: in}
		}
	}
	return m
}()

// triggered reports whether a node's attributes make an attribute-checked
// op dangerous, with the evidence.
func (o opRisk) triggered(n *nodeDef) (bool, string) {
	switch o.check {
	case fileStream:
		s := n.attrs["output_stream"].s
		return strings.HasPrefix(s, "file://"), fmt.Sprintf("output_stream=%q", modelfile.ClipText(s))
	case debugURLs:
		var urls []string
		for _, u := range n.attrs["debug_urls"].list {
			if u != "" {
				urls = append(urls, fmt.Sprintf("%q", modelfile.ClipText(u)))
			}
		}
		return len(urls) > 0, "debug_urls=" + strings.Join(urls, ",")
	}
	return true, ""
}
