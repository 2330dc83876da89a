#!/usr/bin/env python3
"""proxy.py LISTEN_PORT TARGET_PORT MODE - a TCP proxy on 127.0.0.1 that damages one direction of a stream.

MODE: pass | flip:N (invert the byte at offset N) | cut:N (close both sides
after N bytes) | slow:N (at most N bytes a second: a slow link) | pause:N:S
(after N bytes, nothing for S seconds: a sender gone silent; "paused" is
printed then), applied to
the client-to-server stream, or to the server-to-client stream with a
"down:" prefix (down:flip:N, down:cut:N).
Serves one connection, prints "ready" once listening.
"""
import socket
import sys
import threading
import time

listen_port, target_port, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
down = mode.startswith("down:")
kind, _, arg = mode.removeprefix("down:").partition(":")
arg, _, seconds = arg.partition(":")
at = int(arg) if arg else -1

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", listen_port))
srv.listen(1)
print("ready", flush=True)
client, _ = srv.accept()
server = socket.create_connection(("127.0.0.1", target_port))


def pump(src, dst, damaged):
    """Copy src to dst, damaging the stream if asked; then close dst's
    writing side (both sides entirely after a cut)."""
    seen = 0
    began = time.monotonic()
    try:
        while (data := src.recv(4096 if damaged and kind == "slow" else 65536)):
            if damaged and kind == "slow":
                time.sleep(max(0.0, began + (seen + len(data)) / at - time.monotonic()))
            if damaged and kind == "flip" and seen <= at < seen + len(data):
                b = bytearray(data)
                b[at - seen] ^= 0xFF
                data = bytes(b)
            if damaged and kind == "pause" and seen <= at < seen + len(data):
                dst.sendall(data[: at - seen])
                print("paused", flush=True)
                time.sleep(float(seconds))
                dst.sendall(data[at - seen :])
                seen += len(data)
                continue
            if damaged and kind == "cut" and seen + len(data) >= at:
                dst.sendall(data[: at - seen])
                for s in (server, client):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                return
            dst.sendall(data)
            seen += len(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


back = threading.Thread(target=pump, args=(server, client, down), daemon=True)
back.start()
pump(client, server, not down)
back.join(timeout=30)
for s in (server, client):
    s.close()
