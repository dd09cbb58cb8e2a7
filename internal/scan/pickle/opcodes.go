package pickle

import "github.com/mlguard/mlguard/internal/scan/pickle/pickleop"

// HighestProtocol is the newest protocol this decoder knows.
const HighestProtocol = 5

var opNames = map[byte]string{
	pickleop.Mark: "MARK", pickleop.Stop: "STOP", pickleop.Pop: "POP", pickleop.PopMark: "POP_MARK", pickleop.Dup: "DUP", pickleop.Float: "FLOAT",
	pickleop.Int: "INT", pickleop.BinInt: "BININT", pickleop.BinInt1: "BININT1", pickleop.Long: "LONG", pickleop.BinInt2: "BININT2", pickleop.None: "NONE",
	pickleop.PersID: "PERSID", pickleop.BinPersID: "BINPERSID", pickleop.Reduce: "REDUCE", pickleop.String: "STRING", pickleop.BinString: "BINSTRING",
	pickleop.ShortBinString: "SHORT_BINSTRING", pickleop.Unicode: "UNICODE", pickleop.BinUnicode: "BINUNICODE", pickleop.Append: "APPEND",
	pickleop.Build: "BUILD", pickleop.Global: "GLOBAL", pickleop.Dict: "DICT", pickleop.EmptyDict: "EMPTY_DICT", pickleop.Appends: "APPENDS",
	pickleop.Get: "GET", pickleop.BinGet: "BINGET", pickleop.Inst: "INST", pickleop.LongBinGet: "LONG_BINGET", pickleop.List: "LIST",
	pickleop.EmptyList: "EMPTY_LIST", pickleop.Obj: "OBJ", pickleop.Put: "PUT", pickleop.BinPut: "BINPUT", pickleop.LongBinPut: "LONG_BINPUT",
	pickleop.SetItem: "SETITEM", pickleop.Tuple: "TUPLE", pickleop.EmptyTuple: "EMPTY_TUPLE", pickleop.SetItems: "SETITEMS",
	pickleop.BinFloat: "BINFLOAT", pickleop.Proto: "PROTO", pickleop.NewObj: "NEWOBJ", pickleop.Ext1: "EXT1", pickleop.Ext2: "EXT2", pickleop.Ext4: "EXT4",
	pickleop.Tuple1: "TUPLE1", pickleop.Tuple2: "TUPLE2", pickleop.Tuple3: "TUPLE3", pickleop.NewTrue: "NEWTRUE", pickleop.NewFalse: "NEWFALSE",
	pickleop.Long1: "LONG1", pickleop.Long4: "LONG4", pickleop.BinBytes: "BINBYTES", pickleop.ShortBinBytes: "SHORT_BINBYTES",
	pickleop.ShortBinUnicode: "SHORT_BINUNICODE", pickleop.BinUnicode8: "BINUNICODE8", pickleop.BinBytes8: "BINBYTES8",
	pickleop.EmptySet: "EMPTY_SET", pickleop.AddItems: "ADDITEMS", pickleop.FrozenSet: "FROZENSET", pickleop.NewObjEx: "NEWOBJ_EX",
	pickleop.StackGlobal: "STACK_GLOBAL", pickleop.Memoize: "MEMOIZE", pickleop.Frame: "FRAME", pickleop.ByteArray8: "BYTEARRAY8",
	pickleop.NextBuffer: "NEXT_BUFFER", pickleop.ReadOnlyBuffer: "READONLY_BUFFER",
}

// IsOpcode reports whether b is an opcode of some protocol.
func IsOpcode(b byte) bool { _, ok := opNames[b]; return ok }

// OpName returns the opcode's name, or a hex form for bytes that are not opcodes.
func OpName(b byte) string {
	if n, ok := opNames[b]; ok {
		return n
	}
	return "0x" + string("0123456789abcdef"[b>>4]) + string("0123456789abcdef"[b&15])
}
