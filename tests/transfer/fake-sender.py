#!/usr/bin/env python3
"""fake-sender.py SITE SENDER PORT JOB SIZE - a sender (SITE/SENDER's
certificate) of job JOB to the receiver on loopback PORT, which asks for
the scan checkpoint the receiver keeps.

SIZE > 0: sends a checkpoint of SIZE random bytes, then cuts the
connection, and prints their SHA-256. SIZE 0: prints the SHA-256 and the
length of the checkpoint the receiver hands back, then cuts. For
checkpoints larger than any message: the receiver only keeps them and
hands them back, so their bytes need not be a real scan's.
"""
import hashlib
import os
import socket
import ssl
import sys
import tarfile

site, sender, port, job, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ctx.load_cert_chain(f"{site}/{sender}/cert.pem", f"{site}/{sender}/key.pem")
ctx.load_verify_locations(f"{site}/ca/ca.pem")
ctx.check_hostname = False
ctx.set_alpn_protocols(["lifeboat/1"])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)))
s.sendall(f"LIFEBOAT/2 JOB {job} checkpoint\n".encode())
reply = b""
while not reply.endswith(b"\n"):
    reply += s.recv(1)
words = reply.decode().split()
if words[:1] != ["RESUME"]:
    sys.exit(f"fake-sender: the receiver said {reply!r}")
sha = hashlib.sha256()
if size:
    info = tarfile.TarInfo(f"{job}/lifeboat-checkpoint")
    info.size = size
    s.sendall(info.tobuf(format=tarfile.PAX_FORMAT))
    block, left, i = os.urandom(1 << 20), size, 0
    while left:
        piece = (i.to_bytes(8, "little") + block[8:])[:left]
        sha.update(piece)
        s.sendall(piece)
        left -= len(piece)
        i += 1
    s.sendall(b"\0" * (-size % 512))
    print(sha.hexdigest())
else:
    left = int(words[words.index("checkpoint") + 1]) if "checkpoint" in words else 0
    got = 0
    while got < left:
        piece = s.recv(min(1 << 20, left - got))
        if not piece:
            sys.exit("fake-sender: the checkpoint was cut short")
        sha.update(piece)
        got += len(piece)
    print(sha.hexdigest(), got)
s.close()
