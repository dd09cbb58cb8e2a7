package torchstate

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/mlguard/mlguard/internal/scan/pickle/pickleop"
)

// The pre-screen reads one pickle opcode by opcode before gopickle sees it,
// because gopickle trusts what it reads:
//
//   - a length-prefixed argument (BINUNICODE, BINBYTES, their 8-byte forms,
//     BYTEARRAY8, LONG4, FRAME) is allocated whole before it is read, so a
//     4 GiB or 2^63 length allocates or panics on a file of a few bytes;
//   - the opcode 0xff indexes past its 255-entry dispatch table, a LONG1 of
//     no bytes indexes an empty slice, and DICT or SETITEMS with an odd
//     number of items index past the end: each a panic;
//   - a bytes value as a set element or OrderedDict key panics (Go cannot
//     hash a slice): that one is left to the recover around gopickle;
//   - decoding a LONG4 of n bytes costs n² (a shift of the whole number per
//     byte), and so does parsing a LONG of n digits;
//   - some opcodes cost more than their bytes: a MARK allocates a 16-slot
//     stack (256 bytes for one byte of input), an EMPTY_DICT 150 bytes;
//     a memo reference (2 bytes) to a long string or big integer makes
//     gopickle hash it again when it becomes a key, or print it whole when
//     a container holding it is printed (%#v) in an error message;
//     BUILD on an OrderedDict copies every entry of its state, and
//     NEWOBJ_EX copies its argument tuple, however often the same memoized
//     state or tuple is used.
//
// So the pre-screen checks every length against what is left of the limit
// before anything is allocated, refuses what would panic, caps the numbers,
// and follows the stack (kinds, string lengths and container sizes, no
// values) to add up an estimate of what gopickle and the stand-ins will
// allocate or touch, refusing a pickle whose estimate passes the budget.
// It also drops FRAME opcodes (framing is transparent), so that gopickle
// reads every opcode through a reader that checks the context.

// ErrLimit is returned, wrapped, when a pickle is larger or costlier than
// the limits allow, or holds more tensors than they allow.
var ErrLimit = errors.New("limit exceeded")

const (
	maxLine           = 1 << 20 // a line argument (GLOBAL names, protocol 0 numbers and strings)
	maxLongDigits     = 4096    // LONG's decimal digits
	maxLongBytes      = 1024    // LONG4's bytes
	maxPickleProtocol = 5

	// Estimated bytes allocated or touched, per opcode.
	costPush      = 32  // a stack slot, with the stack's growth
	costNum       = 48  // a boxed number
	costMark      = 320 // a new 16-slot stack and a meta-stack slot
	costCall      = 384 // a call that makes an object (an OrderedDict, a stand-in)
	costEntry     = 160 // an entry of a dict, ordered dict or set
	costAppend    = 32  // an element appended to a list
	costMemo      = 64  // a memo entry
	costDict      = 192 // an empty dict
	costList      = 128 // an empty list
	costSet       = 256 // an empty set
	costTuple     = 80  // a tuple header
	costArg       = 16  // an argument a stand-in looks at
	maxArgsLooked = 64  // the most arguments a stand-in looks at
)

// source is the checkpoint's bytes as the pre-screen reads them: buffered,
// counted against the limit.
type source struct {
	br    *bufio.Reader
	used  int64
	limit int64
}

func newSource(r io.Reader, limit int64) *source {
	// Buffered, but never more than limit bytes taken from r.
	return &source{br: bufio.NewReaderSize(io.LimitReader(r, max(limit, 0)), 64<<10), limit: limit}
}

func (s *source) left() int64 { return s.limit - s.used }

func (s *source) readByte() (byte, error) {
	if s.used >= s.limit {
		return 0, fmt.Errorf("reading past the %d-byte limit: %w", s.limit, ErrLimit)
	}
	b, err := s.br.ReadByte()
	if err != nil {
		return 0, eof(err)
	}
	s.used++
	return b, nil
}

// read appends n bytes to out, refusing before reading them if they would
// pass the limit.
func (s *source) read(out []byte, n int64) ([]byte, error) {
	if n < 0 || n > s.left() {
		return out, fmt.Errorf("an argument of %d bytes at offset %d passes the %d-byte limit: %w", n, s.used, s.limit, ErrLimit)
	}
	for n > 0 {
		chunk := min(n, 64<<10)
		start := len(out)
		out = slices.Grow(out, int(chunk))[:start+int(chunk)]
		k, err := io.ReadFull(s.br, out[start:])
		s.used += int64(k)
		if err != nil {
			return out[:start+k], eof(err)
		}
		n -= chunk
	}
	return out, nil
}

// line appends a newline-terminated argument to out and returns it without
// the newline.
func (s *source) line(out []byte, max int) ([]byte, []byte, error) {
	start := len(out)
	for {
		b, err := s.readByte()
		if err != nil {
			return out, nil, err
		}
		out = append(out, b)
		if b == '\n' {
			return out, out[start : len(out)-1], nil
		}
		if len(out)-start > max {
			return out, nil, fmt.Errorf("a line argument at offset %d is longer than %d bytes: %w", s.used, max, ErrLimit)
		}
	}
}

func eof(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Kinds of stack slots.
const (
	kOther     = iota
	kString    // str or a big int: gopickle may hash, compare or print it per reference
	kBytes     // bytes: printed as Go bytes, eight characters a byte
	kContainer // anything a later opcode may fill or iterate
)

type slot struct {
	kind uint8
	n    int64 // string length, or container id
}

// container is what the screen knows of a container: how many entries it
// holds now and how many key bytes they have.
type container struct {
	entries  int64
	keyBytes int64
}

type screen struct {
	ctx    context.Context
	src    *source
	out    []byte // the pickle, without FRAME opcodes
	budget int64
	cost   int64
	stack  []slot
	marks  []int
	memo   map[int]slot
	conts  []container
	// pairs are the items of 2-tuples, by container id: BUILD reads one
	// as (state, slotstate).
	pairs map[int64][2]slot
	// frameEnd is the source offset where the current frame ends, or -1.
	frameEnd int64
}

// screenPickle reads one pickle from src, up to and including its STOP,
// and returns it ready for gopickle.
func screenPickle(ctx context.Context, src *source, budget int64) ([]byte, error) {
	s := &screen{ctx: ctx, src: src, budget: budget, memo: map[int]slot{}, pairs: map[int64][2]slot{}, frameEnd: -1}
	for ops := 0; ; ops++ {
		if ops%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if s.frameEnd >= 0 && src.used == s.frameEnd {
			s.frameEnd = -1
		}
		at := src.used
		op, err := src.readByte()
		if err != nil {
			return nil, err
		}
		stop, err := s.step(op)
		if err != nil {
			return nil, fmt.Errorf("opcode 0x%02x at offset %d: %w", op, at, err)
		}
		if s.frameEnd >= 0 && src.used > s.frameEnd {
			return nil, fmt.Errorf("opcode 0x%02x at offset %d runs past the end of its frame", op, at)
		}
		if s.cost > s.budget {
			return nil, fmt.Errorf("the pickle would cost more than %d bytes to read (at offset %d): %w", s.budget, src.used, ErrLimit)
		}
		if stop {
			return s.out, nil
		}
	}
}

func (s *screen) charge(n int64) {
	if n > 0 {
		s.cost = min(s.cost+n, 1<<62)
	}
}

func (s *screen) bottom() int {
	if len(s.marks) == 0 {
		return 0
	}
	return s.marks[len(s.marks)-1]
}

var errStack = errors.New("the stack is empty")

// push puts a slot on the stack, charging for a string the work one more
// reference to it may cause.
func (s *screen) push(sl slot) {
	s.stack = append(s.stack, sl)
	s.charge(costPush)
	switch sl.kind {
	case kString:
		s.charge(4 * sl.n) // %#v quotes a byte in up to 4 characters
	case kBytes:
		s.charge(8 * sl.n)
	}
}

func (s *screen) pop() (slot, error) {
	if len(s.stack) <= s.bottom() {
		return slot{}, errStack
	}
	sl := s.stack[len(s.stack)-1]
	s.stack = s.stack[:len(s.stack)-1]
	return sl, nil
}

func (s *screen) top() (slot, error) {
	if len(s.stack) <= s.bottom() {
		return slot{}, errStack
	}
	return s.stack[len(s.stack)-1], nil
}

// popMark removes the items above the topmost mark and the mark. The
// returned slice is valid until the next push.
func (s *screen) popMark() ([]slot, error) {
	if len(s.marks) == 0 {
		return nil, errors.New("no mark on the stack")
	}
	m := s.marks[len(s.marks)-1]
	s.marks = s.marks[:len(s.marks)-1]
	items := s.stack[m:]
	s.stack = s.stack[:m]
	return items, nil
}

func (s *screen) newContainer(entries int64) slot {
	s.conts = append(s.conts, container{entries: entries})
	return slot{kind: kContainer, n: int64(len(s.conts) - 1)}
}

// size is what iterating a slot's value costs, looked up now: containers
// change after they are made.
func (s *screen) size(sl slot) int64 {
	if sl.kind != kContainer {
		return 0
	}
	c := &s.conts[sl.n]
	n := c.entries*costEntry + 2*c.keyBytes
	for _, p := range s.pairs[sl.n] {
		if p.kind == kContainer && p.n != sl.n {
			pc := &s.conts[p.n]
			n += pc.entries*costEntry + 2*pc.keyBytes
		}
	}
	return n
}

func (s *screen) entries(sl slot) int64 {
	if sl.kind != kContainer {
		return 0
	}
	return s.conts[sl.n].entries
}

// grow records entries added to a container, with their keys' bytes.
func (s *screen) grow(sl slot, entries, keyBytes int64) {
	if sl.kind == kContainer {
		c := &s.conts[sl.n]
		c.entries += entries
		c.keyBytes += keyBytes
	}
}

func strLen(sl slot) int64 {
	if sl.kind == kString || sl.kind == kBytes {
		return sl.n
	}
	return 0
}

// readLen reads a little-endian length of size bytes (signed for 4-byte
// BINSTRING and LONG4).
func (s *screen) readLen(size int, signed bool) (int64, error) {
	start := len(s.out)
	var err error
	s.out, err = s.src.read(s.out, int64(size))
	if err != nil {
		return 0, err
	}
	b := s.out[start:]
	switch size {
	case 1:
		return int64(b[0]), nil
	case 4:
		if signed {
			return int64(int32(binary.LittleEndian.Uint32(b))), nil
		}
		return int64(binary.LittleEndian.Uint32(b)), nil
	default:
		v := binary.LittleEndian.Uint64(b)
		if v > 1<<62 {
			return -1, nil
		}
		return int64(v), nil
	}
}

// counted reads a length-prefixed argument and pushes it as kind.
func (s *screen) counted(size int, signed bool, kind uint8) error {
	n, err := s.readLen(size, signed)
	if err != nil {
		return err
	}
	if n < 0 {
		return errors.New("negative or huge length")
	}
	if s.out, err = s.src.read(s.out, n); err != nil {
		return err
	}
	s.charge(2 * n) // read into a buffer, then copied into a string
	s.push(slot{kind: kind, n: n})
	return nil
}

func (s *screen) fixed(n int) error {
	var err error
	s.out, err = s.src.read(s.out, int64(n))
	return err
}

func (s *screen) lineArg(max int) ([]byte, error) {
	var line []byte
	var err error
	s.out, line, err = s.src.line(s.out, max)
	if err == nil {
		s.charge(3*int64(len(line)) + 64)
	}
	return line, err
}

func (s *screen) memoIndex(line []byte) (int, error) {
	i, err := strconv.Atoi(string(line))
	if err != nil {
		return 0, err
	}
	if i < 0 {
		return 0, errors.New("negative memo index")
	}
	return i, nil
}

func (s *screen) get(i int) {
	if sl, ok := s.memo[i]; ok {
		s.push(sl)
		return
	}
	s.push(slot{})
}

func (s *screen) put(i int) error {
	sl, err := s.top()
	if err != nil {
		return err
	}
	s.memo[i] = sl
	s.charge(costMemo)
	return nil
}

func (s *screen) long(n int64) error {
	if n == 0 {
		// Python reads it as 0; gopickle panics on it. No pickler writes it.
		return errors.New("a long of no bytes")
	}
	if n > maxLongBytes {
		return fmt.Errorf("a long of %d bytes, more than %d: %w", n, maxLongBytes, ErrLimit)
	}
	var err error
	if s.out, err = s.src.read(s.out, n); err != nil {
		return err
	}
	s.charge(2*n + n*n/64 + costNum)
	if n > 8 {
		// A *big.Int, printed in decimal (2.4 digits a byte) in messages.
		s.push(slot{kind: kString, n: 3 * n})
		return nil
	}
	s.push(slot{})
	return nil
}

// call pops n slots and pushes the object a call makes; args, given the
// popped slots, returns what going through the arguments costs.
func (s *screen) call(n int, args func([]slot) int64) error {
	if len(s.stack)-s.bottom() < n {
		return errStack
	}
	popped := s.stack[len(s.stack)-n:]
	if args != nil {
		s.charge(args(popped))
	}
	s.stack = s.stack[:len(s.stack)-n]
	s.charge(costCall)
	s.push(s.newContainer(0))
	return nil
}

func (s *screen) looked(sl slot) int64 {
	return costArg * min(s.entries(sl), maxArgsLooked)
}

// step screens one opcode; stop is true after STOP.
func (s *screen) step(op byte) (stop bool, err error) {
	if op != pickleop.Frame {
		s.out = append(s.out, op)
	}
	switch op {
	case pickleop.Mark:
		s.marks = append(s.marks, len(s.stack))
		s.charge(costMark)
	case pickleop.Stop:
		if _, err := s.pop(); err != nil {
			return false, err
		}
		return true, nil
	case pickleop.Pop:
		if len(s.stack) > s.bottom() {
			_, err = s.pop()
		} else {
			_, err = s.popMark()
		}
	case pickleop.PopMark:
		_, err = s.popMark()
	case pickleop.Dup:
		var sl slot
		if sl, err = s.top(); err == nil {
			s.push(sl)
		}
	case pickleop.Float, pickleop.Int:
		if _, err = s.lineArg(maxLine); err == nil {
			s.charge(costNum)
			s.push(slot{})
		}
	case pickleop.Long:
		var line []byte
		if line, err = s.lineArg(maxLongDigits + 2); err == nil {
			n := int64(len(line))
			s.charge(n*n/64 + costNum)
			if n > 18 {
				s.push(slot{kind: kString, n: n}) // a *big.Int
			} else {
				s.push(slot{})
			}
		}
	case pickleop.BinInt:
		err = s.pushFixed(4)
	case pickleop.BinInt1:
		err = s.pushFixed(1)
	case pickleop.BinInt2:
		err = s.pushFixed(2)
	case pickleop.BinFloat:
		err = s.pushFixed(8)
	case pickleop.None, pickleop.NewTrue, pickleop.NewFalse:
		s.push(slot{})
	case pickleop.PersID:
		if _, err = s.lineArg(maxLine); err == nil {
			s.charge(costCall)
			s.push(slot{})
		}
	case pickleop.BinPersID:
		if _, err = s.pop(); err == nil {
			s.charge(costCall)
			s.push(slot{})
		}
	case pickleop.Reduce, pickleop.NewObj:
		// The stand-ins look at a few arguments; gopickle passes the
		// tuple without copying it.
		err = s.call(2, func(p []slot) int64 { return s.looked(p[1]) })
	case pickleop.NewObjEx:
		// gopickle copies the argument tuple to append the keywords.
		err = s.call(3, func(p []slot) int64 { return costArg * s.entries(p[1]) })
	case pickleop.String, pickleop.Unicode:
		var line []byte
		if line, err = s.lineArg(maxLine); err == nil {
			s.push(slot{kind: kString, n: int64(len(line))})
		}
	case pickleop.BinString:
		err = s.counted(4, true, kString)
	case pickleop.ShortBinString, pickleop.ShortBinUnicode:
		err = s.counted(1, false, kString)
	case pickleop.BinUnicode:
		err = s.counted(4, false, kString)
	case pickleop.BinUnicode8:
		err = s.counted(8, false, kString)
	case pickleop.ShortBinBytes:
		err = s.counted(1, false, kBytes)
	case pickleop.BinBytes:
		err = s.counted(4, false, kBytes)
	case pickleop.BinBytes8, pickleop.ByteArray8:
		err = s.counted(8, false, kBytes)
	case pickleop.Long1:
		var n int64
		if n, err = s.readLen(1, false); err == nil {
			err = s.long(n)
		}
	case pickleop.Long4:
		var n int64
		if n, err = s.readLen(4, true); err == nil {
			if n < 0 {
				return false, errors.New("negative length")
			}
			err = s.long(n)
		}
	case pickleop.Append:
		var list slot
		if _, err = s.pop(); err == nil {
			if list, err = s.pop(); err == nil {
				s.grow(list, 1, 0)
				s.charge(costAppend)
				s.push(list)
			}
		}
	case pickleop.Appends:
		err = s.fill(func(items []slot, target slot) (int64, error) {
			s.grow(target, int64(len(items)), 0)
			return costAppend * int64(len(items)), nil
		})
	case pickleop.SetItem:
		var key, dict slot
		if _, err = s.pop(); err != nil {
			break
		}
		if key, err = s.pop(); err != nil {
			break
		}
		if dict, err = s.top(); err == nil {
			s.grow(dict, 1, strLen(key))
			s.charge(costEntry + 2*strLen(key))
		}
	case pickleop.SetItems:
		err = s.fill(func(items []slot, target slot) (int64, error) {
			if len(items)%2 != 0 {
				return 0, errors.New("an odd number of items")
			}
			var keys int64
			for i := 0; i < len(items); i += 2 {
				keys += strLen(items[i])
			}
			s.grow(target, int64(len(items)/2), keys)
			return costEntry*int64(len(items)/2) + 2*keys, nil
		})
	case pickleop.AddItems:
		err = s.fill(func(items []slot, target slot) (int64, error) {
			var keys int64
			for _, it := range items {
				keys += strLen(it)
			}
			s.grow(target, int64(len(items)), keys)
			return costEntry*int64(len(items)) + 2*keys, nil
		})
	case pickleop.Build:
		var state slot
		if state, err = s.pop(); err != nil {
			break
		}
		if _, err = s.top(); err == nil {
			// gopickle copies a dict state into an OrderedDict entry by entry.
			s.charge(costCall + s.size(state))
		}
	case pickleop.Global:
		var mod, name []byte
		if mod, err = s.lineArg(maxLine); err != nil {
			break
		}
		if name, err = s.lineArg(maxLine); err != nil {
			break
		}
		s.charge(costCall + 2*int64(len(mod)+len(name)))
		s.push(slot{})
	case pickleop.StackGlobal:
		var name, mod slot
		if name, err = s.pop(); err != nil {
			break
		}
		if mod, err = s.pop(); err != nil {
			break
		}
		s.charge(costCall + 2*(strLen(name)+strLen(mod)))
		s.push(slot{})
	case pickleop.Inst:
		for range 2 {
			if _, err = s.lineArg(maxLine); err != nil {
				return false, err
			}
		}
		var items []slot
		if items, err = s.popMark(); err == nil {
			s.charge(costCall + costArg*min(int64(len(items)), maxArgsLooked))
			s.push(s.newContainer(0))
		}
	case pickleop.Obj:
		var items []slot
		if items, err = s.popMark(); err == nil {
			if len(items) == 0 {
				return false, errors.New("OBJ without a class")
			}
			s.charge(costCall + costArg*min(int64(len(items)), maxArgsLooked))
			s.push(s.newContainer(0))
		}
	case pickleop.Dict:
		var items []slot
		if items, err = s.popMark(); err == nil {
			if len(items)%2 != 0 {
				return false, errors.New("an odd number of items")
			}
			n := int64(len(items) / 2)
			s.charge(costDict + costEntry*n)
			s.push(s.newContainer(n))
		}
	case pickleop.List, pickleop.Tuple, pickleop.FrozenSet:
		var items []slot
		if items, err = s.popMark(); err == nil {
			n := int64(len(items))
			c := s.newContainer(n)
			if op == pickleop.Tuple && n == 2 {
				s.pairs[c.n] = [2]slot{items[0], items[1]}
			}
			if op == pickleop.FrozenSet {
				var keys int64
				for _, it := range items {
					keys += strLen(it)
				}
				s.conts[c.n].keyBytes = keys
				s.charge(costEntry*n + 2*keys)
			}
			s.charge(costTuple)
			s.push(c)
		}
	case pickleop.Tuple1, pickleop.Tuple2, pickleop.Tuple3:
		n := int(op-pickleop.Tuple1) + 1
		if len(s.stack)-s.bottom() < n {
			return false, errStack
		}
		items := s.stack[len(s.stack)-n:]
		c := s.newContainer(int64(n))
		if n == 2 {
			s.pairs[c.n] = [2]slot{items[0], items[1]}
		}
		s.stack = s.stack[:len(s.stack)-n]
		s.charge(costTuple + costArg*int64(n))
		s.push(c)
	case pickleop.EmptyDict:
		s.charge(costDict)
		s.push(s.newContainer(0))
	case pickleop.EmptyList:
		s.charge(costList)
		s.push(s.newContainer(0))
	case pickleop.EmptySet:
		s.charge(costSet)
		s.push(s.newContainer(0))
	case pickleop.EmptyTuple:
		s.charge(costTuple)
		s.push(s.newContainer(0))
	case pickleop.Get:
		var line []byte
		var i int
		if line, err = s.lineArg(maxLine); err == nil {
			if i, err = s.memoIndex(line); err == nil {
				s.get(i)
			}
		}
	case pickleop.BinGet:
		var i int64
		if i, err = s.readLen(1, false); err == nil {
			s.get(int(i))
		}
	case pickleop.LongBinGet:
		var i int64
		if i, err = s.readLen(4, false); err == nil {
			s.get(int(i))
		}
	case pickleop.Put:
		var line []byte
		var i int
		if line, err = s.lineArg(maxLine); err == nil {
			if i, err = s.memoIndex(line); err == nil {
				err = s.put(i)
			}
		}
	case pickleop.BinPut:
		var i int64
		if i, err = s.readLen(1, false); err == nil {
			err = s.put(int(i))
		}
	case pickleop.LongBinPut:
		var i int64
		if i, err = s.readLen(4, false); err == nil {
			err = s.put(int(i))
		}
	case pickleop.Memoize:
		err = s.put(len(s.memo))
	case pickleop.Proto:
		var v int64
		if v, err = s.readLen(1, false); err == nil && v > maxPickleProtocol {
			return false, fmt.Errorf("unsupported protocol %d", v)
		}
	case pickleop.Frame:
		if s.frameEnd >= 0 {
			return false, errors.New("a frame begins before the previous one ends")
		}
		var buf []byte
		if buf, err = s.src.read(nil, 8); err != nil {
			return false, err
		}
		n := binary.LittleEndian.Uint64(buf)
		if n > uint64(s.src.left()) {
			return false, fmt.Errorf("a frame of %d bytes passes the %d-byte limit: %w", n, s.src.limit, ErrLimit)
		}
		s.frameEnd = s.src.used + int64(n)
	case pickleop.ReadOnlyBuffer:
		// gopickle leaves the stack alone without a MakeReadOnly.
	case pickleop.Ext1, pickleop.Ext2, pickleop.Ext4:
		return false, errors.New("extension codes are not supported")
	case pickleop.NextBuffer:
		return false, errors.New("out-of-band buffers are not supported")
	default:
		return false, errors.New("not an opcode")
	}
	return false, err
}

func (s *screen) pushFixed(n int) error {
	if err := s.fixed(n); err != nil {
		return err
	}
	s.charge(costNum)
	s.push(slot{})
	return nil
}

// fill handles APPENDS, SETITEMS and ADDITEMS: items above the mark go into
// the container below it, which stays on the stack.
func (s *screen) fill(add func(items []slot, target slot) (int64, error)) error {
	items, err := s.popMark()
	if err != nil {
		return err
	}
	target, err := s.pop()
	if err != nil {
		return err
	}
	c, err := add(items, target)
	if err != nil {
		return err
	}
	s.charge(c)
	s.push(target)
	return nil
}
