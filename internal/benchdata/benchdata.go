// Package benchdata writes the large synthetic model files that the
// benchmarks and scripts/bench.sh measure: an opcode-dense pickle, a pickle
// of in-band tensors and a PyTorch zip. Bulk tensor bytes are zeros, written
// as holes where the file system allows, so the files cost little disk.
package benchdata

import (
	"archive/zip"
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strconv"
)

type pw struct {
	w    *bufio.Writer
	memo int
}

func (p *pw) op(b ...byte) { p.w.Write(b) }

func (p *pw) u32(n uint32) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], n)
	p.w.Write(b[:])
}

func (p *pw) str(s string) {
	if len(s) < 256 {
		p.op(0x8c, byte(len(s)))
	} else {
		p.op('X')
		p.u32(uint32(len(s)))
	}
	p.w.WriteString(s)
}

// memoize records the top of the stack, as Python's pickler does for every
// str, dict, list and tuple, and returns its memo index.
func (p *pw) memoize() int { p.op(0x94); p.memo++; return p.memo - 1 }

func (p *pw) get(i int) {
	if i < 256 {
		p.op('h', byte(i))
		return
	}
	p.op('j')
	p.u32(uint32(i))
}

// DensePickle writes a protocol-4 pickle of a list of records
// {"id": i, "name": "item-i", "score": 0.5, "tags": ["train", "eval"]}, the
// way CPython's pickler lays it out (memoised strings, BINGET for repeated
// keys, APPENDS in batches of 1000), until it is at least size bytes.
// It returns the number of records.
func DensePickle(w io.Writer, size int64) (int, error) {
	cw := &countWriter{w: w}
	p := &pw{w: bufio.NewWriterSize(cw, 1<<20)}
	p.op(0x80, 4)
	p.op(']')
	p.memoize()
	keys := map[string]int{}
	key := func(k string) {
		if i, ok := keys[k]; ok {
			p.get(i)
			return
		}
		p.str(k)
		keys[k] = p.memoize()
	}
	n := 0
	for {
		p.op('(')
		for range 1000 {
			p.op('}')
			p.memoize()
			p.op('(')
			key("id")
			p.op('J')
			p.u32(uint32(n))
			key("name")
			p.str("item-" + strconv.Itoa(n))
			p.memoize()
			key("score")
			p.op('G', 0x3f, 0xe0, 0, 0, 0, 0, 0, 0)
			key("tags")
			p.op(']')
			p.memoize()
			p.op('(')
			key("train")
			key("eval")
			p.op('e')
			p.op('u')
			n++
		}
		p.op('e')
		p.w.Flush()
		if cw.n >= size {
			break
		}
	}
	p.op('.')
	return n, p.w.Flush()
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// TensorPickle writes a protocol-4 pickle of a dict of arrays, each rebuilt
// by numpy.core.numeric._frombuffer from an in-band BINBYTES8 payload of
// each bytes (zeros, left as holes in f).
func TensorPickle(f *os.File, arrays int, each int64) error {
	p := &pw{w: bufio.NewWriter(f)}
	p.op(0x80, 4, '}')
	p.memoize()
	p.op('(')
	p.str("numpy.core.numeric")
	p.memoize()
	p.str("_frombuffer")
	p.memoize()
	p.op(0x93)
	fb := p.memoize()
	p.op('0')
	p.str("numpy")
	p.memoize()
	p.str("dtype")
	p.memoize()
	p.op(0x93)
	dt := p.memoize()
	p.op('0')
	for i := range arrays {
		p.str(fmt.Sprintf("layer.%d.weight", i))
		p.memoize()
		p.get(fb)
		p.op('(', 0x8e)
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(each))
		p.w.Write(b[:])
		if err := p.w.Flush(); err != nil {
			return err
		}
		if _, err := f.Seek(each, io.SeekCurrent); err != nil {
			return err
		}
		p.get(dt)
		p.str("f4")
		p.memoize()
		p.op(0x85, 'R')
		p.memoize()
		p.op('J')
		p.u32(uint32(each / 4))
		p.op(0x85)
		p.memoize()
		p.str("C")
		p.memoize()
		p.op('t')
		p.memoize()
		p.op('R')
		p.memoize()
	}
	p.op('u', '.')
	return p.w.Flush()
}

// TorchZip writes a PyTorch-style zip: archive/data.pkl referencing arrays
// storages archive/data/0... of each bytes (zeros), stored, as torch.save does.
func TorchZip(path string, arrays int, each int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	hdr := func(name string, size int64, crc uint32) (io.Writer, error) {
		return zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Store, CRC32: crc,
			CompressedSize64: uint64(size), UncompressedSize64: uint64(size)})
	}
	pkl := torchPickle(arrays, each)
	w, err := hdr("archive/data.pkl", int64(len(pkl)), crc32.ChecksumIEEE(pkl))
	if err != nil {
		return err
	}
	w.Write(pkl)
	zeros := make([]byte, 1<<20)
	crc := uint32(0)
	for done := int64(0); done < each; done += int64(len(zeros)) {
		crc = crc32.Update(crc, crc32.IEEETable, zeros[:min(int64(len(zeros)), each-done)])
	}
	for i := range arrays {
		w, err := hdr("archive/data/"+strconv.Itoa(i), each, crc)
		if err != nil {
			return err
		}
		for done := int64(0); done < each; done += int64(len(zeros)) {
			if _, err := w.Write(zeros[:min(int64(len(zeros)), each-done)]); err != nil {
				return err
			}
		}
	}
	if w, err = hdr("archive/version", 2, crc32.ChecksumIEEE([]byte("3\n"))); err != nil {
		return err
	}
	w.Write([]byte("3\n"))
	return zw.Close()
}

// torchPickle is the data.pkl of an OrderedDict state dict, protocol 2, as torch.save writes it.
func torchPickle(arrays int, each int64) []byte {
	var b []byte
	b = append(b, "\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01("...)
	for i := range arrays {
		k := fmt.Sprintf("layer.%d.weight", i)
		b = append(b, 'X')
		b = binary.LittleEndian.AppendUint32(b, uint32(len(k)))
		b = append(b, k...)
		b = append(b, "ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\n"...)
		id := strconv.Itoa(i)
		b = append(b, 'X')
		b = binary.LittleEndian.AppendUint32(b, uint32(len(id)))
		b = append(b, id...)
		b = append(b, "X\x03\x00\x00\x00cpuJ"...)
		b = binary.LittleEndian.AppendUint32(b, uint32(each/4))
		b = append(b, "tQK\x00J"...)
		b = binary.LittleEndian.AppendUint32(b, uint32(each/4))
		b = append(b, "\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtR"...)
	}
	b = append(b, "u."...)
	return b
}
