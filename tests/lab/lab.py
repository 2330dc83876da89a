"""lab.py - build real mail disks, record the truth, damage them the way a format does."""

import atexit
import email.message
import email.policy
import email.utils
import fcntl
import glob
import gzip
import hashlib
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

LDA = "/usr/lib/dovecot/dovecot-lda"
MAILUSER = "lbmail"
USERS = [("example.com", "alice"), ("example.com", "bob"), ("example.com", "carol"),
         ("example.com", "dave"), ("example.org", "erin")]
# Dovecot's Maildir++ folders: "Archive.2019" is the nested Archive/2019.
FOLDERS = ["INBOX", "INBOX", "INBOX", "Sent", "Trash", "Drafts", "Archive", "Archive.2019"]
FLAGS = ["S", "S", "FS", "RS", "", "S", "DS"]
SAMPLES = "/usr/lib/python3.11/test/test_email/data"
BLOCK = 4096


def log(*a):
    print("mklab:", *a, file=sys.stderr, flush=True)


def run(*cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


# ---------------------------------------------------------------- material

class Material:
    """Real text and binaries from this machine, chosen by a seeded RNG."""

    def __init__(self, rng):
        self.rng = rng
        self.samples = []
        for p in sorted(glob.glob(SAMPLES + "/msg_*.txt")):
            data = open(p, "rb").read()
            # Only samples that are a message as a Maildir would hold one.
            if b"\0" not in data and b"\n\n" in data[:8192]:
                self.samples.append(data)
        self.changelogs = sorted(glob.glob("/usr/share/doc/*/changelog.Debian.gz"))
        self.binaries = sorted(
            p for p in glob.glob("/usr/lib/x86_64-linux-gnu/*.so*")
            if os.path.isfile(p) and not os.path.islink(p)
            and 1024 <= os.path.getsize(p) <= 2 << 20)

    def text(self, size):
        """About SIZE bytes of a real Debian changelog."""
        out = b""
        while len(out) < size:
            out += gzip.open(self.rng.choice(self.changelogs)).read()
        text = out[:size].decode("utf-8", "replace")
        return text.rsplit("\n", 1)[0] + "\n"

    def binary(self, max_size):
        choices = [p for p in self.binaries if os.path.getsize(p) <= max_size]
        p = self.rng.choice(choices or self.binaries)
        return os.path.basename(p), open(p, "rb").read()


def new_message(mat, rng, n, first, big=False, body_size=None, rcpt=None):
    """A message of real text with real attachments. FIRST is the header
    it must start with. With BODY_SIZE: a single text part of about that
    size, and no attachment. RCPT: the address it is delivered to, which
    the MTA records under its Return-Path as Postfix's pipe(8) does with
    flags=DR in front of dovecot-lda."""
    m = email.message.EmailMessage(policy=email.policy.SMTP.clone(linesep="\n"))
    sender = f"{rng.choice(['ann', 'joe', 'lists', 'noreply'])}@{rng.choice(['debian.org', 'python.org', 'example.net'])}"
    when = 1262304000 + rng.randrange(15 * 365 * 86400)
    headers = {
        "From": sender,
        "To": "user@example.com",
        "Subject": f"lab message {n}: {mat.text(200).splitlines()[0][:60]}",
        "Date": email.utils.formatdate(when),
        "Message-ID": f"<lab.{n}.{rng.randrange(1 << 30)}@example.net>",
        "MIME-Version": "1.0",
        "X-Mailer": "lab",
    }
    if first == "Received":
        headers = {"Received": f"from mx.example.net by mail.example.com; {email.utils.formatdate(when)}",
                   **headers}
    elif first == "Return-Path":
        headers = {"Return-Path": f"<{sender}>", **({"Delivered-To": rcpt} if rcpt else {}),
                   **headers}
    elif first in headers:
        headers = {first: headers[first], **{k: v for k, v in headers.items() if k != first}}
    for k, v in headers.items():
        if k not in ("MIME-Version",):
            m[k] = v
    body = mat.text(body_size or rng.choice([300, 1500, 6000, 20000]) * (4 if big else 1))
    if rng.random() < 0.25:
        m.set_content(body, cte="quoted-printable")
    else:
        m.set_content(body)
    attach = big or (body_size is None and rng.random() < 0.35)
    if attach:
        name, data = mat.binary(rng.choice([4 << 10, 64 << 10, 512 << 10, 2 << 20]) if not big else 2 << 20)
        if big and len(data) < (200 << 10):
            data = data * ((200 << 10) // len(data) + 1)
        m.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    raw = m.as_bytes()
    if first == "Content-Type":
        # Move the Content-Type field to the top, as some clients write it.
        hdr, _, rest = raw.partition(b"\n\n")
        lines = hdr.split(b"\n")
        fields, cur = [], []
        for ln in lines:
            if ln[:1] in (b" ", b"\t") and cur:
                cur.append(ln)
            else:
                if cur:
                    fields.append(cur)
                cur = [ln]
        fields.append(cur)
        ct = [f for f in fields if f[0].lower().startswith(b"content-type:")]
        others = [f for f in fields if not f[0].lower().startswith(b"content-type:")]
        hdr = b"\n".join(b"\n".join(f) for f in ct + others)
        raw = hdr + b"\n\n" + rest
    return raw


def pad_to(raw, size):
    """Pad a single-part text message's body to exactly SIZE bytes."""
    need = size - len(raw)
    assert need >= 2
    return raw + b"p" * (need - 1) + b"\n"


def dkim_sign(raw, key, canon):
    """RAW with a real DKIM signature, or as it is if it has no header to sign
    (one of Python's samples is a body alone)."""
    import dkim
    try:
        sig = dkim.sign(raw, b"lab", b"example.com", key, canonicalize=canon,
                        include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
    except dkim.MessageFormatError:
        return raw
    return sig + raw


# ---------------------------------------------------------------- delivery

def ensure_mail_user():
    try:
        run("id", MAILUSER, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except subprocess.CalledProcessError:
        run("useradd", "-r", "-M", "-s", "/usr/sbin/nologin", MAILUSER)
    import pwd
    pw = pwd.getpwnam(MAILUSER)
    return pw.pw_uid, pw.pw_gid


class Deliverer:
    """Delivers through the real dovecot-lda, as an unprivileged user."""

    def __init__(self, root):
        self.root = root
        self.uid, self.gid = ensure_mail_user()
        # A directory the mail user can read: the config lives there.
        self.conf_dir = tempfile.mkdtemp(prefix="lifeboat-lab-conf.")
        os.chmod(self.conf_dir, 0o755)
        # Gone at exit even when a build fails half-way.
        atexit.register(shutil.rmtree, self.conf_dir, True)
        self.conf = os.path.join(self.conf_dir, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write("mail_location = maildir:~/Maildir\n"
                    "lda_mailbox_autocreate = yes\n"
                    "log_path = /dev/stderr\n"
                    "info_log_path = /dev/null\n"
                    "ssl = no\n")

    def close(self):
        shutil.rmtree(self.conf_dir, ignore_errors=True)

    def home(self, domain, user):
        return os.path.join(self.root, "vmail", domain, user)

    def prepare(self):
        for domain, user in USERS:
            h = self.home(domain, user)
            os.makedirs(h, exist_ok=True)
            for d in (os.path.join(self.root, "vmail"), os.path.dirname(h), h):
                os.chown(d, self.uid, self.gid)

    def deliver(self, domain, user, folder, raw):
        """Deliver RAW; return the path of the file dovecot-lda wrote."""
        h = self.home(domain, user)
        fdir = os.path.join(h, "Maildir") if folder == "INBOX" else os.path.join(h, "Maildir", "." + folder)
        before = set(os.listdir(os.path.join(fdir, "new"))) if os.path.isdir(os.path.join(fdir, "new")) else set()
        cmd = ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups",
               "env", "-i", f"HOME={h}", LDA, "-c", self.conf, "-f", "lab@example.net"]
        if folder != "INBOX":
            cmd += ["-m", folder]
        subprocess.run(cmd, input=raw, check=True)
        after = set(os.listdir(os.path.join(fdir, "new"))) - before
        assert len(after) == 1, (fdir, after)
        # Dovecot stores LF line ends: a CRLF message shrinks. Everything
        # else is stored byte for byte.
        return os.path.join(fdir, "new", after.pop())


# ---------------------------------------------------------------- truth

FS_IOC_FIEMAP = 0xC020660B
FIEMAP_FLAG_SYNC = 1


def fiemap(path):
    """Physical extents of PATH as [[device_byte_offset, length], ...]."""
    out = []
    start = 0
    fd = os.open(path, os.O_RDONLY)
    try:
        while True:
            count = 64
            req = struct.pack("=QQLLLL", start, 0xFFFFFFFFFFFFFFFF, FIEMAP_FLAG_SYNC, 0, count, 0)
            req += b"\0" * (56 * count)
            res = bytearray(req)
            fcntl.ioctl(fd, FS_IOC_FIEMAP, res)
            mapped = struct.unpack_from("=L", res, 20)[0]
            last = False
            for i in range(mapped):
                logical, physical, length, _, _, flags = struct.unpack_from(
                    "=QQQQQL", res, 32 + 56 * i)
                out.append([physical, length])
                start = logical + length
                last = bool(flags & 1)
            if mapped == 0 or last:
                break
    finally:
        os.close(fd)
    # Merge physically adjacent extents: the file is contiguous there.
    merged = []
    for off, ln in out:
        if merged and merged[-1][0] + merged[-1][1] == off:
            merged[-1][1] += ln
        else:
            merged.append([off, ln])
    return merged


def describe(root, path, state, ext):
    """The truth about one message file; EXT are its extents on the image."""
    data = open(path, "rb").read()
    rel = os.path.relpath(path, root)
    parts = rel.split("/")
    mi = parts.index("Maildir")
    folder_dir = parts[mi + 1] if parts[mi + 1] not in ("cur", "new", "tmp") else ""
    name = parts[-1]
    flags = name.split(":2,", 1)[1] if ":2," in name else ""
    first = data.split(b"\n", 1)[0].split(b":", 1)[0].decode("latin-1")
    return {
        "path": rel,
        "user": f"{parts[mi - 1]}@{parts[mi - 2]}",
        "folder": folder_dir[1:] if folder_dir else "INBOX",
        "name": name,
        "flags": flags,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "mtime": int(os.stat(path).st_mtime),
        "extents": ext,
        "fragmented": len(ext) > 1,
        "dkim": data.startswith(b"DKIM-Signature:"),
        "first_header": first,
        "block_aligned": len(data) % BLOCK == 0,
        "tiny_tail": 0 < len(data) % BLOCK < 10,
        "state": state,
    }


def mark_intact(img, truth):
    """A message is intact when every byte of it is still where it was."""
    with open(img, "rb") as f:
        for m in truth["messages"]:
            h = hashlib.sha256()
            left = m["size"]
            for off, ln in m["extents"]:
                f.seek(off)
                chunk = f.read(min(ln, left))
                h.update(chunk)
                left -= len(chunk)
            m["intact"] = left == 0 and h.hexdigest() == m["sha256"]


# ---------------------------------------------------------------- images

FALLOC_FL_KEEP_SIZE = 1
FALLOC_FL_PUNCH_HOLE = 2


def punch_hole(fd, off, length):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
    if libc.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, length) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))

def ext4_mkfs_cmd(blocksize, flavor):
    """mke2fs for an ext4 disk of FLAVOR: "" ext4 as mke2fs makes it now;
    "nocsum" without metadata_csum, as filesystems made before e2fsprogs
    1.43 are; "ext3" an ext3 (no extents: its files have block maps, as an
    old server's have, and those an ext4 converted from it kept)."""
    cmd = ["mkfs.ext3" if flavor == "ext3" else "mkfs.ext4", "-q", "-F", "-E", "nodiscard"]
    if blocksize:
        cmd += ["-b", str(blocksize)]
    if flavor == "nocsum":
        cmd += ["-O", "^metadata_csum"]
    return cmd


def mkfs(fs, img, blocksize, flavor=""):
    if fs == "ext4":
        run(*ext4_mkfs_cmd(blocksize, flavor), img)
    else:
        cmd = ["mkfs.xfs", "-q", "-f", "-K"]
        if blocksize:
            cmd += ["-b", f"size={blocksize}"]
        run(*cmd, img, stdout=subprocess.DEVNULL)


def xfs_resblks(mnt, blocks):
    """Set XFS's reserve pool to BLOCKS; return what it was."""
    def resblks(*arg):
        out = subprocess.run(["xfs_io", "-x", "-c", " ".join(("resblks",) + arg), mnt],
                             check=True, capture_output=True, text=True).stdout
        return int(re.search(r"reserved blocks = (\d+)", out).group(1))
    was = resblks()
    resblks(str(blocks))
    return was


class MountRefused(Exception):
    pass


class Mounted:
    """A loop mount. LIFEBOAT_LAB_NO_MOUNT=1 acts as if mounts were refused,
    to test the fallback."""

    def __init__(self, img, opts=""):
        self.img, self.opts = img, opts
        self.dir = tempfile.mkdtemp(prefix="lifeboat-lab-mnt.")

    def __enter__(self):
        opts = "loop" + ("," + self.opts if self.opts else "")
        if os.environ.get("LIFEBOAT_LAB_NO_MOUNT"):
            os.rmdir(self.dir)
            raise MountRefused("LIFEBOAT_LAB_NO_MOUNT is set")
        r = subprocess.run(["mount", "-o", opts, self.img, self.dir],
                           stderr=subprocess.PIPE, text=True)
        if r.returncode:
            os.rmdir(self.dir)
            raise MountRefused(f"unable to mount '{self.img}': {r.stderr.strip()}")
        return self.dir

    def __exit__(self, *a):
        run("sync")
        run("umount", self.dir)
        os.rmdir(self.dir)


def fill_store(root, fs, rng, mat, key, nmsg, big_folder, on_disk):
    """Deliver the mail and act as the users would. ON_DISK: ROOT is the
    mounted image, so deleted messages are recorded with their extents and
    the last batch goes into fragmented free space."""
    d = Deliverer(root)
    d.prepare()
    live, deleted = [], []

    def make(i, big=False, size=None):
        first = rng.choice(["From", "Content-Type", "Return-Path", "Received", "X-Mailer",
                            "Date", "Subject"])
        domain, user = USERS[i % len(USERS)]
        rcpt = f"{user}@{domain}"
        if size:
            return pad_to(new_message(mat, rng, i, first, body_size=max(64, size - 2048),
                                      rcpt=rcpt), size)
        raw = rng.choice(mat.samples) if i % 7 == 3 and not big else \
            new_message(mat, rng, i, first, big, rcpt=rcpt)
        if rng.random() < 0.3:
            raw = dkim_sign(raw, key, rng.choice([(b"relaxed", b"relaxed"),
                                                  (b"simple", b"simple"),
                                                  (b"relaxed", b"simple")]))
        return raw

    def deliver(i, raw, size=None):
        domain, user = USERS[i % len(USERS)]
        live.append(d.deliver(domain, user, rng.choice(FOLDERS), raw))
        if size:
            assert os.path.getsize(live[-1]) == size, live[-1]

    # Batch 1: ordinary mail, some of exact block multiples, some with a
    # tiny last block.
    for i in range(nmsg * 6 // 10):
        size = None
        if i % 23 == 5:
            size = BLOCK * rng.randrange(1, 5)
        elif i % 29 == 7:
            size = BLOCK * rng.randrange(1, 4) + rng.randrange(1, 10)
        deliver(i, make(i, size=size), size)
    for j in range(big_folder):
        raw = new_message(mat, rng, 100000 + j, "From")[:1500]
        raw = raw.rsplit(b"\n", 1)[0] + b"\n"
        live.append(d.deliver("example.com", "alice", "Lists", raw))
    run("sync")

    # Users read, flag and answer: Dovecot moves new/NAME to cur/NAME:2,FLAGS.
    for i, p in enumerate(list(live)):
        if rng.random() < 0.6:
            flags = rng.choice(FLAGS)
            q = os.path.join(os.path.dirname(os.path.dirname(p)), "cur",
                             os.path.basename(p) + ":2," + flags)
            os.rename(p, q)
            live[i] = q
    # Users delete mail (every other of a run of small ones, so that the
    # holes left behind are small).
    run("sync")
    keep = []
    for i, p in enumerate(live):
        if i % 6 == 1 and os.path.getsize(p) < 64 << 10:
            if on_disk:
                deleted.append(describe(root, p, "deleted", fiemap(p)))
            os.unlink(p)
        else:
            keep.append(p)
    live = keep
    run("sync")

    # Batch 2 lands in a fragmented free space where there is a disk.
    if on_disk:
        fragment_free_space(root, fs, lambda: [deliver(i, make(i, big=(i % 5 == 0)))
                                               for i in range(nmsg * 6 // 10, nmsg)])
    else:
        for i in range(nmsg * 6 // 10, nmsg):
            deliver(i, make(i, big=(i % 5 == 0)))
    d.close()
    return live, deleted


def fragment_free_space(root, fs, deliver_batch):
    """Fill the free space with preallocated files, punch every other 64
    KiB out of them, and deliver: the free space left is 64 KiB holes, as on
    a spool that has been full for years, so large messages fragment. The
    files shrink from 4 MiB to 64 KiB to take all the space, XFS's reserve
    pool included, and preallocating writes nothing: the old bytes stay."""
    resblks = xfs_resblks(root, 0) if fs == "xfs" else None
    fill = os.path.join(root, "filler")
    os.mkdir(fill)
    fillers = []
    for chunk in (4 << 20, 1 << 20, 128 << 10, 64 << 10):
        while True:
            p = os.path.join(fill, str(len(fillers)))
            try:
                with open(p, "wb") as f:
                    os.posix_fallocate(f.fileno(), 0, chunk)
            except OSError:
                if os.path.exists(p):
                    os.unlink(p)
                break
            fillers.append((p, chunk))
    for p, chunk in fillers:
        with open(p, "r+b") as f:
            for off in range(0, chunk - (64 << 10), 128 << 10):
                punch_hole(f.fileno(), off, 64 << 10)
    run("sync")
    deliver_batch()
    run("sync")
    shutil.rmtree(fill)
    if resblks is not None:
        xfs_resblks(root, resblks)

def mkfs_from_tree(fs, img, blocksize, root, flavor=""):
    """Make the filesystem on IMG with the contents of ROOT, without a mount."""
    if fs == "ext4":
        run(*ext4_mkfs_cmd(blocksize, flavor), "-d", root, img)
        return
    # mkfs.xfs protofile: a boot line, block and inode counts, then the
    # root and each entry as "name type-mode uid gid [source]", "$" ending
    # a directory.
    lines = ["lifeboat-lab", "0 0"]

    def walk(d, name):
        st = os.stat(d)
        lines.append(f"{name} d--{st.st_mode & 0o777:03o} {st.st_uid} {st.st_gid}".strip())
        for e in sorted(os.listdir(d)):
            p = os.path.join(d, e)
            if os.path.isdir(p):
                walk(p, e)
            else:
                st = os.stat(p)
                lines.append(f"{e} ---{st.st_mode & 0o777:03o} {st.st_uid} {st.st_gid} {p}")
        lines.append("$")

    walk(root, "")
    proto = os.path.join(os.path.dirname(img), "proto")
    open(proto, "w").write("\n".join(lines) + "\n")
    cmd = ["mkfs.xfs", "-q", "-f", "-K", "-p", proto]
    if blocksize:
        cmd += ["-b", f"size={blocksize}"]
    run(*cmd, img, stdout=subprocess.DEVNULL)
    os.unlink(proto)


def image_extents(fs, img, rel):
    """Extents of file REL on an unmounted IMG, from debugfs or xfs_db."""
    if fs == "ext4":
        head = subprocess.run(["dumpe2fs", "-h", img], capture_output=True, text=True).stdout
        bs = int(re.search(r"Block size:\s+(\d+)", head).group(1))
        out = subprocess.run(["debugfs", "-R", f"blocks /{rel}", img], capture_output=True,
                             text=True).stdout
        runs = []
        for b in map(int, out.split()):
            if runs and runs[-1][0] + runs[-1][1] == b * bs:
                runs[-1][1] += bs
            else:
                runs.append([b * bs, bs])
        return runs
    geo = subprocess.run(["xfs_db", "-r", "-c", "sb 0", "-c", "p blocksize agblocks", img],
                         capture_output=True, text=True).stdout
    bs = int(re.search(r"blocksize = (\d+)", geo).group(1))
    agblocks = int(re.search(r"agblocks = (\d+)", geo).group(1))
    out = subprocess.run(["xfs_db", "-r", "-c", f"path /{rel}", "-c", "bmap", img],
                         capture_output=True, text=True).stdout
    runs = []
    for ag, agbno, count in re.findall(r"\((\d+)/(\d+)\) count (\d+)", out):
        off = (int(ag) * agblocks + int(agbno)) * bs
        if runs and runs[-1][0] + runs[-1][1] == off:
            runs[-1][1] += int(count) * bs
        else:
            runs.append([off, int(count) * bs])
    return runs


def build_base(out, fs, seed, size_mb, blocksize, nmsg, big_folder, flavor=""):
    """A filled, undamaged image with its truth."""
    rng = random.Random(seed)
    mat = Material(rng)
    img = os.path.join(out, "disk.img")
    with open(img, "wb") as f:
        f.truncate(size_mb << 20)
    mkfs(fs, img, blocksize, flavor)
    key = subprocess.run(["openssl", "genrsa", "2048"], check=True, capture_output=True).stdout
    pub = subprocess.run(["openssl", "rsa", "-pubout"], input=key, check=True,
                         capture_output=True).stdout
    open(os.path.join(out, "dkim.pub.pem"), "wb").write(pub)
    try:
        with Mounted(img) as root:
            live, deleted = fill_store(root, fs, rng, mat, key, nmsg, big_folder, True)
            truth_live = [describe(root, p, "live", fiemap(p)) for p in live]
    except MountRefused as e:
        # Without loop mounts, build the tree in a staging directory and
        # make the image from it: no fragmentation, no deleted messages.
        log(f"loop mounts are not permitted here ({e}); building the image with "
            f"{'mkfs.ext4 -d' if fs == 'ext4' else 'mkfs.xfs -p protofile'} instead: "
            f"this disk has no fragmented and no deleted messages")
        root = tempfile.mkdtemp(prefix="lifeboat-lab-staging.")
        os.chmod(root, 0o755)
        try:
            live, deleted = fill_store(root, fs, rng, mat, key, nmsg, big_folder, False)
            mkfs_from_tree(fs, img, blocksize, root, flavor)
            truth_live = [describe(root, p, "live", image_extents(fs, img, os.path.relpath(p, root)))
                          for p in live]
        finally:
            shutil.rmtree(root, ignore_errors=True)
    truth = {"fs": fs, "seed": seed, "size": size_mb << 20, "block_size": blocksize or 0,
             "messages": sorted(truth_live + deleted, key=lambda m: (m["state"], m["path"]))}
    return img, truth


def damage(img, fs, mode, blocksize, seed, work, flavor=""):
    other = "xfs" if fs == "ext4" else "ext4"
    kind, _, arg = mode.partition(":")
    if kind == "none":
        return
    if kind == "reformat":
        mkfs(fs, img, blocksize, flavor)
    elif kind == "crossformat":
        mkfs(other, img, 0)
    elif kind == "cutshort":
        pct = int(arg or 50)
        tmp = os.path.join(work, "formatted.img")
        run("cp", "--sparse=always", img, tmp)
        mkfs(fs, tmp, blocksize, flavor)
        upto = os.path.getsize(img) * pct // 100 // BLOCK * BLOCK
        with open(tmp, "rb") as src, open(img, "r+b") as dst:
            done = 0
            while done < upto:
                buf = src.read(min(1 << 20, upto - done))
                dst.write(buf)
                done += len(buf)
        os.unlink(tmp)
    elif kind == "zeroprefix":
        mb = int(arg or 16)
        with open(img, "r+b") as f:
            f.write(b"\0" * (mb << 20))
    elif kind == "wipefs":
        run("wipefs", "-a", "-q", img)
    elif kind == "nosb":
        # Every superblock copy zeroed, the primary and each backup: the
        # geometry must come from what else survives.
        offsets, size = superblock_offsets(img, fs)
        with open(img, "r+b") as f:
            for off in offsets:
                f.seek(off)
                f.write(b"\0" * size)
    elif kind == "mounted":
        mkfs(fs, img, blocksize, flavor)
        if fs == "ext4":
            wait_lazyinit(img)
        else:
            with Mounted(img):
                pass
    elif kind == "reuse":
        mkfs(fs, img, blocksize, flavor)
        rng = random.Random(seed + 1)
        mat = Material(rng)
        # noinit_itable: the new ext4 keeps ext4lazyinit away from the old
        # inode tables, so this mode differs from `mounted` in one way only.
        with Mounted(img, "noinit_itable" if fs == "ext4" else "") as root:
            d = Deliverer(root)
            d.prepare()
            for i in range(30):
                domain, user = USERS[i % len(USERS)]
                d.deliver(domain, user, "INBOX", new_message(mat, rng, 200000 + i, "From"))
            d.close()
    else:
        raise SystemExit(f"mklab: unknown damage mode '{mode}'")


def superblock_offsets(img, fs):
    """Byte offsets of every superblock copy on IMG, and a copy's size."""
    if fs == "xfs":
        with open(img, "rb") as f:
            sb = f.read(512)
        bs, agblocks, agcount = (int.from_bytes(sb[o:o + 4], "big") for o in (4, 84, 88))
        return [ag * agblocks * bs for ag in range(agcount)], 512
    out = subprocess.run(["dumpe2fs", img], capture_output=True, text=True, check=True).stdout
    bs = int(re.search(r"^Block size:\s+(\d+)", out, re.M).group(1))
    blocks = [int(b) for b in re.findall(r"superblock at (\d+)", out)]
    return [b * bs + (1024 if b == 0 else 0) for b in blocks], 1024


def wait_lazyinit(img):
    """Mount the new ext4 once and wait until ext4lazyinit has zeroed every
    inode table: what happens when someone mounts the new filesystem."""
    groups = None
    head = subprocess.run(["dumpe2fs", "-h", img], capture_output=True, text=True).stdout
    lazy = "metadata_csum" in head or "uninit_bg" in head
    with Mounted(img, "init_itable=0") as root:
        if not lazy:
            # Without group checksums mke2fs zeroed the inode tables
            # itself: there is nothing left for lazyinit to do.
            return
        dev = subprocess.run(["findmnt", "-n", "-o", "SOURCE", root], check=True,
                             capture_output=True, text=True).stdout.strip()
        for _ in range(240):
            run("sync")
            out = subprocess.run(["dumpe2fs", dev], capture_output=True, text=True).stdout
            groups = len(re.findall(r"^Group \d+:", out, re.M))
            zeroed = out.count("ITABLE_ZEROED")
            if groups and zeroed >= groups:
                return
            time.sleep(0.5)
    raise SystemExit(f"mklab: ext4lazyinit did not finish ({groups} groups)")


# ---------------------------------------------------------------- cache

def sources_hash():
    """What the disks depend on: this generator (not the scorer or checks)."""
    return hashlib.sha256(open(os.path.abspath(__file__), "rb").read()).hexdigest()[:16]


def cached(cache, key, build):
    """Return cache/KEY, building it with BUILD(tmpdir) once, atomically and
    under a lock."""
    os.makedirs(cache, exist_ok=True)
    final = os.path.join(cache, key)
    with open(os.path.join(cache, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.isdir(final):
            tmp = tempfile.mkdtemp(prefix=key + ".tmp.", dir=cache)
            try:
                build(tmp)
                os.rename(tmp, final)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
    return final


def prune(cache, src):
    """Drop what older versions of the lab built."""
    for name in os.listdir(cache) if os.path.isdir(cache) else []:
        if not name.startswith(".") and not name.endswith(src) and ".tmp." not in name:
            shutil.rmtree(os.path.join(cache, name), ignore_errors=True)


def get(fs, mode, seed=1, size_mb=400, blocksize=0, nmsg=300, big_folder=0, cache=None,
        flavor=""):
    cache = os.path.join(cache or os.environ.get("LIFEBOAT_CACHE", "/var/cache/lifeboat"), "lab")
    src = sources_hash()
    prune(cache, src)
    opts = f"s{seed}-{size_mb}M-b{blocksize}-n{nmsg}-f{big_folder}{'-' + flavor if flavor else ''}"
    base_key = f"base-{fs}-{opts}-{src}"

    def build_base_dir(tmp):
        log(f"building {base_key}")
        t0 = time.time()
        _, truth = build_base(tmp, fs, seed, size_mb, blocksize, nmsg, big_folder, flavor)
        json.dump(truth, open(os.path.join(tmp, "truth.json"), "w"), indent=1)
        log(f"built {base_key} in {time.time() - t0:.0f}s")

    base = cached(cache, base_key, build_base_dir)
    key = f"{fs}-{mode.replace(':', '_')}-{opts}-{src}"

    def build_scenario(tmp):
        img = os.path.join(tmp, "disk.img")
        run("cp", "--sparse=always", os.path.join(base, "disk.img"), img)
        shutil.copy(os.path.join(base, "dkim.pub.pem"), tmp)
        truth = json.load(open(os.path.join(base, "truth.json")))
        damage(img, fs, mode, blocksize, seed, tmp, flavor)
        mark_intact(img, truth)
        truth["damage"] = mode
        json.dump(truth, open(os.path.join(tmp, "truth.json"), "w"), indent=1)

    return cached(cache, key, build_scenario)
