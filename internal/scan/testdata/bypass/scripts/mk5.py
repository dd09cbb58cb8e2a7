import struct
def w(n,b): open(n,'wb').write(b)
def U(s): b=s.encode(); return b'X'+struct.pack('<I',len(b))+b
st = b"N}" + U('__repr__') + b"cbuiltins\nabs\ns\x86b"
w('mut_direct.pkl', b"\x80\x02cargparse\nNamespace\n" + st + b"0N.")
w('mut_type.pkl', b"\x80\x02cbuiltins\ntype\ncargparse\nNamespace\n)R\x85R" + st + b"0N.")
