#!/usr/bin/env python3
"""proxy.py LISTEN_PORT TARGET_PORT MODE - a TCP proxy on 127.0.0.1 that damages the sender's stream.

MODE: pass | flip:N (invert the byte at offset N of the client-to-server
stream) | cut:N (close both sides after N client bytes). Serves one
connection, prints "ready" once listening.
"""
import socket
import sys
import threading

listen_port, target_port, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
kind, _, arg = mode.partition(":")
at = int(arg) if arg else -1

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", listen_port))
srv.listen(1)
print("ready", flush=True)
client, _ = srv.accept()
server = socket.create_connection(("127.0.0.1", target_port))


def back():
    try:
        while (data := server.recv(65536)):
            client.sendall(data)
    except OSError:
        pass
    try:
        client.shutdown(socket.SHUT_WR)
    except OSError:
        pass


threading.Thread(target=back, daemon=True).start()
seen = 0
try:
    while (data := client.recv(65536)):
        if kind == "flip" and seen <= at < seen + len(data):
            b = bytearray(data)
            b[at - seen] ^= 0xFF
            data = bytes(b)
        if kind == "cut" and seen + len(data) >= at:
            server.sendall(data[: at - seen])
            break
        server.sendall(data)
        seen += len(data)
finally:
    for s in (server, client):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()
