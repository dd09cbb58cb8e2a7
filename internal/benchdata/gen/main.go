// Command gen writes the benchmark files to a folder: dense.pkl (about 130 MB
// of small records), tensors.pkl (1 GiB of in-band tensors) and
// torch.zip (a 1 GiB PyTorch zip). Used by scripts/bench.sh.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/mlguard/mlguard/internal/benchdata"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gen DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	if err := run(dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "dense.pkl"))
	if err != nil {
		return err
	}
	if _, err := benchdata.DensePickle(f, 130<<20); err != nil {
		return err
	}
	f.Close()
	f, err = os.Create(filepath.Join(dir, "tensors.pkl"))
	if err != nil {
		return err
	}
	if err := benchdata.TensorPickle(f, 64, 16<<20); err != nil {
		return err
	}
	f.Close()
	return benchdata.TorchZip(filepath.Join(dir, "torch.zip"), 64, 16<<20)
}
