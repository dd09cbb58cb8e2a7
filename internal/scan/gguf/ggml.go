package gguf

import (
	"fmt"
	"math"
	"math/bits"
)

// ggmlType is a tensor type: blockSize elements are stored in typeSize
// bytes. The table follows ggml's type_traits (ggml/src/ggml.c) and block
// layouts (ggml/src/ggml-common.h); removed types (4, 5, 31-33, 36-38) are
// absent, as llama.cpp refuses them.
type ggmlType struct {
	name                string
	blockSize, typeSize uint64
}

const qkK = 256 // QK_K, the super-block of the k-quants

var ggmlTypes = map[uint32]ggmlType{
	0:  {"F32", 1, 4},
	1:  {"F16", 1, 2},
	2:  {"Q4_0", 32, 2 + 16},
	3:  {"Q4_1", 32, 2 + 2 + 16},
	6:  {"Q5_0", 32, 2 + 4 + 16},
	7:  {"Q5_1", 32, 2 + 2 + 4 + 16},
	8:  {"Q8_0", 32, 2 + 32},
	9:  {"Q8_1", 32, 2 + 2 + 32},
	10: {"Q2_K", qkK, 2 + 2 + qkK/16 + qkK/4},
	11: {"Q3_K", qkK, 2 + qkK/4 + qkK/8 + 12},
	12: {"Q4_K", qkK, 2 + 2 + 12 + qkK/2},
	13: {"Q5_K", qkK, 2 + 2 + 12 + qkK/2 + qkK/8},
	14: {"Q6_K", qkK, 2 + qkK/16 + 3*qkK/4},
	15: {"Q8_K", qkK, 4 + qkK + qkK/16*2},
	16: {"IQ2_XXS", qkK, 2 + qkK/8*2},
	17: {"IQ2_XS", qkK, 2 + qkK/8*2 + qkK/32},
	18: {"IQ3_XXS", qkK, 2 + 3*(qkK/8)},
	19: {"IQ1_S", qkK, 2 + qkK/8 + qkK/16},
	20: {"IQ4_NL", 32, 2 + 16},
	21: {"IQ3_S", qkK, 2 + 13*(qkK/32) + qkK/64},
	22: {"IQ2_S", qkK, 2 + qkK/4 + qkK/16},
	23: {"IQ4_XS", qkK, 2 + 2 + qkK/64 + qkK/2},
	24: {"I8", 1, 1},
	25: {"I16", 1, 2},
	26: {"I32", 1, 4},
	27: {"I64", 1, 8},
	28: {"F64", 1, 8},
	29: {"IQ1_M", qkK, qkK/8 + qkK/16 + qkK/32},
	30: {"BF16", 1, 2},
	34: {"TQ1_0", qkK, 2 + qkK/64 + (qkK-4*qkK/64)/5},
	35: {"TQ2_0", qkK, 2 + qkK/4},
	39: {"MXFP4", 32, 1 + 16},
	40: {"NVFP4", 64, 64/16 + 64/2},
	41: {"Q1_0", 128, 2 + 128/8},
	42: {"Q2_0", 64, 2 + 64/4},
}

// dominantType names the tensor type holding the most elements ("F16",
// "Q4_K"); ties go to the lower type number, unknown types are "type(N)".
func dominantType(byType map[uint32]uint64) string {
	best, found := uint32(0), false
	for t, n := range byType {
		if n == 0 {
			continue
		}
		if !found || n > byType[best] || n == byType[best] && t < best {
			best, found = t, true
		}
	}
	if !found {
		return ""
	}
	if g, ok := ggmlTypes[best]; ok {
		return g.name
	}
	return fmt.Sprintf("type(%d)", best)
}

// satAdd adds without wrapping.
func satAdd(a, b uint64) uint64 {
	if s, carry := bits.Add64(a, b, 0); carry == 0 {
		return s
	}
	return math.MaxUint64
}
