#!/bin/sh
# The scorer counts what it should: a hand-made truth and output tree with a
# placed, a misplaced, an orphaned, an unverified, a missing and a deleted
# message, one placed at its user with the domain's name lost, and a false
# positive; and two domains' users in one directory.
set -eu
fail() { echo "FAIL: $*"; exit 1; }

mkdir -p out/vmail/example.com/alice/Maildir/cur out/example.com/bob/Maildir/.Sent/cur \
	out/orphans/cur out/unverified out/deleted out/.lifeboat out/dave/Maildir/.Trash/cur \
	out/erin/Maildir/cur
printf 'From: a\nSubject: 1\n\none\n' >m1
printf 'From: a\nSubject: 2\n\ntwo\n' >m2
printf 'From: a\nSubject: 3\n\nthree\n' >m3
printf 'From: a\nSubject: 4\n\nfour\n' >m4
printf 'From: a\nSubject: 5\n\nfive\n' >m5
printf 'From: a\nSubject: 6\n\nsix, deleted\n' >m6
printf 'not a message of the store\n' >junk
printf 'From: a\nSubject: 7\n\nseven, overwritten\n' >m7
printf 'From: a\nSubject: 8\n\neight\n' >m8
printf 'From: a\nSubject: 9\n\nnine\n' >m9
# m1 placed at its full path; m2 placed at the user/folder suffix (top lost);
# m3 under the wrong flags (recovered, not placed: misplaced); m4 an orphan; m5 only in
# unverified/ (not recovered); m6 deleted and found under deleted/; m8 at
# USER/Maildir/... with the domain lost (placed at its user only); m9 the
# same for a user of another domain: two domains' users in one namespace
# (domains_mixed).
cp m1 'out/vmail/example.com/alice/Maildir/cur/1.A.h,S=1:2,S'
cp m2 'out/example.com/bob/Maildir/.Sent/cur/2.B.h,S=2:2,RS'
cp m3 'out/vmail/example.com/alice/Maildir/cur/3.C.h,S=3:2,'
cp m4 'out/orphans/cur/4.L0.lifeboat,S=4:2,'
cp m5 out/unverified/5.eml
cp m6 out/deleted/6.eml
cp m8 'out/dave/Maildir/.Trash/cur/8.H.h,S=8:2,S'
cp m9 'out/erin/Maildir/cur/9.I.h,S=9:2,S'
cp junk out/orphans/cur/junk
cp junk out/unverified/junk
cp junk out/.lifeboat/manifest.tsv

python3 - <<'PY'
import hashlib, json
def h(p): return hashlib.sha256(open(p, "rb").read()).hexdigest()
def m(path, f, state="live", intact=True):
    return {"path": path, "sha256": h(f), "state": state, "intact": intact}
t = {"messages": [
    m("vmail/example.com/alice/Maildir/cur/1.A.h,S=1:2,S", "m1"),
    m("vmail/example.com/bob/Maildir/.Sent/cur/2.B.h,S=2:2,RS", "m2"),
    m("vmail/example.com/alice/Maildir/cur/3.C.h,S=3:2,FS", "m3"),
    m("vmail/example.com/alice/Maildir/new/4.D.h,S=4", "m4"),
    m("vmail/example.com/alice/Maildir/new/5.E.h,S=5", "m5"),
    m("vmail/example.com/carol/Maildir/new/7.G.h,S=7", "m7", intact=False),
    m("vmail/example.com/alice/Maildir/cur/6.F.h,S=6:2,S", "m6", state="deleted"),
    m("vmail/example.org/dave/Maildir/.Trash/cur/8.H.h,S=8:2,S", "m8"),
    m("vmail/example.com/erin/Maildir/cur/9.I.h,S=9:2,S", "m9"),
]}
t["messages"][1]["fragmented"] = t["messages"][4]["fragmented"] = True  # m2 found, m5 not
json.dump(t, open("truth.json", "w"))
PY
"$TOP/tests/lab/score" --json truth.json out >score.json || fail "score exited $?"
python3 - <<'PY' || fail "wrong numbers: $(cat score.json)"
import json
s = json.load(open("score.json"))
want = {"live": 8, "intact": 7, "recovered": 6, "placed": 2, "placed_user": 4, "false_positives": 1, "misplaced": 1,
        "domains_mixed": 1, "fragmented": 2, "fragmented_recovered": 1,
        "deleted_intact": 1, "deleted_recovered": 1, "live_in_deleted": 0}
for k, v in want.items():
    assert s[k] == v, (k, s[k], v)
assert s["recall"] == 0.8571 and s["contiguous_recall"] == 1.0 and s["placement"] == 0.2857 and s["placement_user"] == 0.5714, s
assert s["missed"] == ["vmail/example.com/alice/Maildir/new/5.E.h,S=5"], s["missed"]
PY
echo ok
