package hdf5

import (
	"flag"
	"os"
	"testing"
)

// TestMain lowers the fuzzer's budget for minimizing each new input from
// Go's 60 s to 5 s unless -fuzzminimizetime is given: the minimizer is
// quadratic in an input's length, and even the kilobyte seeds would have a
// short fuzz run (CI gives each target 30 s) spend itself minimizing.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "test.fuzzminimizetime" {
			set = true
		}
	})
	if !set {
		if err := flag.Set("test.fuzzminimizetime", "5s"); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}
