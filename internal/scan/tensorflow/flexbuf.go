package tensorflow

import (
	"errors"
	"fmt"
)

// FlexBuffers types (flatbuffers/flexbuffers.h) that flex options use.
const (
	flexString = 5
	flexVector = 10
)

// flexStrings reads the custom options of a TFLite flex operator: a
// FlexBuffers vector whose first element is the TensorFlow op name and
// whose second is a serialized NodeDef (tensorflow/lite/delegates/flex/
// kernel.cc, InitializeNodeDef). Every offset is checked; any element that
// is not a string is an error.
func flexStrings(b []byte) ([]string, error) {
	n := len(b)
	if n < 3 {
		return nil, errors.New("flex options shorter than a FlexBuffers root")
	}
	// The buffer ends with the root value, its packed type and its width.
	rootWidth := int(b[n-1])
	packed := b[n-2]
	if !validWidth(rootWidth) || n-2 < rootWidth {
		return nil, fmt.Errorf("bad FlexBuffers root width %d", rootWidth)
	}
	if packed>>2 != flexVector {
		return nil, fmt.Errorf("FlexBuffers root is of type %d, not a vector", packed>>2)
	}
	rootPos := n - 2 - rootWidth
	width := 1 << (packed & 3) // the vector's element width
	vec, err := indirect(b, rootPos, rootWidth)
	if err != nil {
		return nil, err
	}
	size, err := readUint(b, vec-width, width)
	if err != nil {
		return nil, err
	}
	types := vec + int(min(size, uint64(n)))*width
	if size > uint64(n) || types+int(size) > n {
		return nil, fmt.Errorf("FlexBuffers vector of %d elements runs past the options", size)
	}
	out := make([]string, 0, size)
	for i := 0; i < int(size); i++ {
		t := b[types+i]
		if t>>2 != flexString {
			return nil, fmt.Errorf("FlexBuffers element %d is of type %d, not a string", i, t>>2)
		}
		sw := 1 << (t & 3) // the string's own width, for its length prefix
		s, err := indirect(b, vec+i*width, width)
		if err != nil {
			return nil, err
		}
		l, err := readUint(b, s-sw, sw)
		if err != nil {
			return nil, err
		}
		if l > uint64(n-s) {
			return nil, fmt.Errorf("FlexBuffers string of %d bytes runs past the options", l)
		}
		out = append(out, string(b[s:s+int(l)]))
	}
	return out, nil
}

func validWidth(w int) bool { return w == 1 || w == 2 || w == 4 || w == 8 }

// readUint reads a little-endian unsigned integer of width bytes at off.
func readUint(b []byte, off, width int) (uint64, error) {
	if !validWidth(width) || off < 0 || off+width > len(b) {
		return 0, fmt.Errorf("FlexBuffers value at %d outside the options", off)
	}
	var v uint64
	for i := width - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[off+i])
	}
	return v, nil
}

// indirect follows the backward offset of width bytes stored at off.
func indirect(b []byte, off, width int) (int, error) {
	d, err := readUint(b, off, width)
	if err != nil {
		return 0, err
	}
	if d > uint64(off) {
		return 0, fmt.Errorf("FlexBuffers offset at %d points before the options", off)
	}
	return off - int(d), nil
}
