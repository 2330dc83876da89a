"""Shared by carve-domains and carve-roots: deliver small test messages
into a mounted filesystem, keeping a copy of each and a list of where it
went."""
import os


class Deliverer:
    def __init__(self, root):
        self.root, self.n = root, 0

    def deliver(self, dom, user, to, folder=""):
        """Write a message with Delivered-To TO (none if None) into
        vmail/DOM/USER/Maildir/FOLDER/cur; keep it in orig/DOM/USER/ and
        its path below vmail/ in names."""
        self.n += 1
        n = self.n
        head = (f"Return-Path: <ann@example.net>\n" + (f"Delivered-To: {to}\n" if to else "") +
                f"From: ann@example.net\nTo: {user}@example.com\nSubject: mail {n}\n"
                f"Date: Mon, 23 Nov 2026 10:00:{n % 60:02d} +0000\n"
                f"Message-ID: <d.{n}@example.net>\n\n")
        raw = (head + "".join(f"line {i} of message {n}\n" for i in range(20 + n))).encode()
        d = f"{self.root}/vmail/{dom}/{user}/Maildir{folder}/cur"
        os.makedirs(d, exist_ok=True)
        vsize = len(raw) + raw.count(b"\n")
        name = f"{1700000000 + n}.M{n}P{n}.host,S={len(raw)},W={vsize}:2,S"
        with open(f"{d}/{name}", "wb") as f:
            f.write(raw)
        os.makedirs(f"orig/{dom}/{user}", exist_ok=True)
        with open(f"orig/{dom}/{user}/{name}", "wb") as f:
            f.write(raw)
        with open("names", "a") as f:
            print(f"{dom}/{user}/Maildir{folder}/cur/{name}", file=f)
