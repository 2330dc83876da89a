#!/usr/bin/env python3
"""fake-receiver.py SITE MEMBER SIZE - a receiver (SITE/receiver's
certificate, on loopback) that answers one pull with "SENDING" and a pax
header for JOB/MEMBER of SIZE bytes, then 64 KiB of it and a clean close.

Prints its port once listening. For pull's caps on each member's size.
"""
import socket
import ssl
import sys
import tarfile

site, member, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ctx.load_cert_chain(f"{site}/receiver/cert.pem", f"{site}/receiver/key.pem")
ctx.load_verify_locations(f"{site}/ca/ca.pem")
ctx.verify_mode = ssl.CERT_REQUIRED
ctx.set_alpn_protocols(["lifeboat/1"])
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
print(srv.getsockname()[1], flush=True)
conn, _ = srv.accept()
s = ctx.wrap_socket(conn, server_side=True)
line = b""
while not line.endswith(b"\n"):
    line += s.recv(1)
job = line.decode().split()[-1].split("/")[1]
info = tarfile.TarInfo(f"{job}/{member}")
info.size = size
s.sendall(b"SENDING\n" + info.tobuf(format=tarfile.PAX_FORMAT) + b"x" * 65536)
try:
    s.unwrap()
except (ssl.SSLError, OSError):
    pass
s.close()
