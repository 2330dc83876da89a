#!/usr/bin/env python3
"""console.py [--timeout S] [--log FILE] [--steps FILE] [--monitor PATH] STEP... -- QEMU_COMMAND...

Runs QEMU_COMMAND (which must use -serial stdio) and plays STEPs on its
serial console, in order: those of --steps FILE (one a line) first, then
those given as arguments.

  expect:REGEX        wait until the console output matches REGEX
  send:TEXT           type TEXT (\\r and \\n are understood)
  absent:SECONDS:REGEX   REGEX must not appear within SECONDS
  exit                wait for qemu to exit by itself (poweroff)
  monitor:COMMAND     give COMMAND to qemu's human monitor, which
                      QEMU_COMMAND must serve on the unix socket PATH
                      (-monitor unix:PATH,server=on,wait=off)

Prints "STEP after N.N s" as each step is met, then stops qemu. Exits 0 when
every step is met, 1 otherwise (with the end of the console output). The
whole console output goes to --log. --timeout bounds the whole run.
"""
import os, re, select, signal, socket, subprocess, sys, time


def monitor(path, command, timeout=30):
    """Give COMMAND to qemu's human monitor at PATH; returns its answer."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(timeout)
        s.connect(path)
        got = b""
        for send in (None, command):
            if send is not None:
                s.sendall(send.encode() + b"\n")
                got = b""
            while not got.endswith(b"(qemu) "):
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
        return got.decode("utf-8", "replace")


def main():
    args = sys.argv[1:]
    timeout, log, steps, mon = 600.0, "console.log", [], None
    while args and args[0].startswith("--") and args[0] != "--":
        opt = args.pop(0)
        if opt == "--timeout":
            timeout = float(args.pop(0))
        elif opt == "--log":
            log = args.pop(0)
        elif opt == "--monitor":
            mon = args.pop(0)
        elif opt == "--steps":
            with open(args.pop(0)) as f:
                steps += [line.rstrip("\n") for line in f if line.strip()]
        else:
            sys.exit(f"console.py: unknown option {opt}")
    if "--" not in args:
        sys.exit(__doc__)
    steps += args[: args.index("--")]
    cmd = args[args.index("--") + 1 :]

    start = time.monotonic()
    deadline = start + timeout
    qemu = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    out = bytearray()
    seen = 0  # output before this offset has been matched already
    logf = open(log, "wb")

    def read(until):
        """Read console output until `until` (monotonic); False at EOF."""
        while time.monotonic() < until:
            r, _, _ = select.select([qemu.stdout], [], [], max(0.0, min(0.2, until - time.monotonic())))
            if r:
                chunk = os.read(qemu.stdout.fileno(), 65536)
                if not chunk:
                    return False
                out.extend(chunk)
                logf.write(chunk)
                logf.flush()
                return True
        return True

    def failed(why):
        print(f"FAIL: {why}")
        tail = out.decode("utf-8", "replace").splitlines()[-25:]
        print("\n".join("    " + line for line in tail))
        return 1

    def stop():
        if qemu.poll() is None:
            os.killpg(qemu.pid, signal.SIGKILL)
        qemu.wait()

    rc = 0
    try:
        for step in steps:
            kind, _, arg = step.partition(":")
            if kind == "expect":
                pat = re.compile(arg.encode())
                while True:
                    m = pat.search(out, seen)
                    if m:
                        seen = m.end()
                        break
                    if time.monotonic() >= deadline:
                        return failed(f"timed out waiting for {arg!r}")
                    if not read(deadline) and not pat.search(out, seen):
                        return failed(f"qemu exited (status {qemu.wait()}) before {arg!r}")
            elif kind == "send":
                text = arg.replace("\\r", "\r").replace("\\n", "\n")
                qemu.stdin.write(text.encode())
                qemu.stdin.flush()
            elif kind == "absent":
                secs, _, pat = arg.partition(":")
                until = time.monotonic() + float(secs)
                while time.monotonic() < until and read(until):
                    pass
                if re.search(pat.encode(), out[seen:]):
                    return failed(f"{pat!r} appeared")
            elif kind == "monitor":
                if not mon:
                    return failed("a monitor step without --monitor")
                answer = monitor(mon, arg)
                if "rror" in answer:
                    return failed(f"monitor {arg!r}: {answer.strip()}")
            elif kind == "exit":
                while read(deadline):
                    if time.monotonic() >= deadline:
                        return failed("qemu did not exit")
                qemu.wait()
            else:
                return failed(f"unknown step {step!r}")
            print(f"{step} after {time.monotonic() - start:.1f} s")
        return rc
    finally:
        stop()
        logf.close()


if __name__ == "__main__":
    sys.exit(main())
