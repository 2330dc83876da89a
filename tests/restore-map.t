#!/bin/sh
# The reports per user and folder, and restore --map. carve's table (--json
# "users") equals what its manifest says, counted here per user and folder
# by a regular expression of our own, for a disk with deleted messages and
# one with orphans. restore --map gives each mail user's Maildir the owner
# the map names (by DOMAIN/USER, by USER, or '*', else --owner's) and the
# domain directories --owner's; its rows equal the files find counts in the
# store and the messages the manifest leaves in the bag, and its written
# rows equal carve's placed rows; run again, it counts them as already
# there, and a conflict in its row. Malformed maps, and one that leaves a
# user without an owner, restore nothing (exit 100). After an XFS reformat,
# where the domains' directories are lost, carve names them by their
# users' Delivered-To, and restore puts every placed message at
# STORE/DOMAIN/USER/Maildir; where no name could be told (a tree sent with
# lost-ID/USER/Maildir paths), at STORE/lost-ID/USER/Maildir, one lost-ID
# per domain, and restore says so. verify's rows count every
# message of the bag as verified under its user and folder, and a file
# changed in the bag as failed in its own row; Dovecot's files beside
# them are counted apart. A lifeboat-manifest.tsv
# changed after it was signed, or signed but at odds with the manifest of
# hashes, fails the bag and restores nothing (exit 4); so does a bad --owner UID:GID (exit 100). Only
# messages go into a Maildir, 0600 in 0700 directories without --owner
# too, and an unreadable name in the store is a conflict.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: the lab needs root for loop mounts, and chown"; exit 77; }
. "$TOP/tests/transfer/lib.sh"
trap stop_receiver EXIT

# where.py CHECK FILES...: where() is the rule of docs/carve.md ("The
# summary") written again, as a regular expression; each check compares a
# run's rows with what it counts from the manifest, the store or the text.
cat >where.py <<'PY'
import collections, json, re, sys
USER = re.compile(r"^(?:(?:.*/)?([^/]+/[^/]+)|([^/]+))/Maildir/(?:\.([^/]+)/)?(?:(?:cur|new|tmp)/)?[^/]+$")
# Dovecot's files carve puts back beside the mail: no message (carve's and
# restore's rows leave them out; verify's count them).
STATE = ("dovecot-uidlist", "dovecot-keywords", "subscriptions")

def state(path):
    return path.rsplit("/", 1)[-1] in STATE

def where(path):
    top = path.split("/")[0]
    m = USER.match(path[len("deleted/"):] if top == "deleted" else path)
    if top in ("orphans", "unverified", "current") or not m:
        return ("(no user)", top)
    return (m.group(1) or m.group(2), m.group(3) or "INBOX")

def manifest(bag_or_dir):
    for line in open(bag_or_dir):
        if not line.startswith("#"):
            f = line.rstrip("\n").split("\t")
            yield {"class": f[2], "placement": f[3], "path": f[-1]}

def rows(report, cols):
    return {(r["user"], r["folder"]): tuple(r[c] for c in cols) for r in report["users"]}

def check_carve(report, tsv):
    cols = ("exact", "complete", "partial", "placed", "orphaned", "deleted")
    want = collections.defaultdict(lambda: [0] * 6)
    for m in manifest(tsv):
        if state(m["path"]):
            continue
        row = want[where(m["path"])]
        row[cols.index(m["class"])] += 1
        place = {"placed": 3, "placed-suffix": 3, "placed-inferred": 3, "orphan": 4,
                 "deleted": 5}.get(m["placement"])
        if place:
            row[place] += 1
    want = {k: tuple(v) for k, v in want.items()}
    if rows(report, cols) != want:
        sys.exit(f"carve's rows {rows(report, cols)}\nthe manifest's {want}")
    for c, total in zip(cols, ("exact", "complete", "partial", "placed", "orphans", "deleted")):
        if sum(v[cols.index(c)] for v in want.values()) != report[total]:
            sys.exit(f"the {c} column does not add up to {total}")
    return want

cmd = sys.argv[1]
if cmd == "carve":
    want = check_carve(json.load(open(sys.argv[2])), sys.argv[3])
    used = [c for i, c in enumerate(("orphaned", "deleted")) if any(v[4 + i] for v in want.values())]
    print(f"carve: {len(want)} rows equal the manifest's; {' and '.join(used) or 'none'} counted")
    if sys.argv[4] not in used:
        sys.exit(f"this disk was to have {sys.argv[4]} messages")
elif cmd == "restore":
    # restore.json carve.json manifest files-in-store [already.json]
    r, c = (json.load(open(f)) for f in sys.argv[2:4])
    cols = ("written", "already", "conflicts", "left")
    store = collections.Counter(where(p.strip()) for p in open(sys.argv[5]) if not state(p.strip()))
    left = collections.Counter(where(m["path"]) for m in manifest(sys.argv[4])
                               if not m["placement"].startswith("placed"))
    got = rows(r, cols)
    want = {k: (store[k], 0, 0, left[k]) for k in set(store) | set(left)}
    if got != want:
        sys.exit(f"restore's rows {got}\nthe store and manifest's {want}")
    if sum(store.values()) != r["written"] or sum(left.values()) != r["left"]:
        sys.exit("the rows do not add up to the totals")
    placed = {k: v[3] for k, v in rows(c, ("exact", "complete", "partial", "placed")).items() if v[3]}
    if placed != {k: v[0] for k, v in got.items() if v[0]}:
        sys.exit("carve's placed rows differ from the restore's written rows")
    print(f"restore: {len(got)} rows equal the store ({r['written']} files) and the bag")
elif cmd == "verify":
    # verify.json manifest [changed-path]: every message verified, but the changed one.
    r = json.load(open(sys.argv[2]))
    want = collections.defaultdict(lambda: [0, 0])
    files = list(manifest(sys.argv[3]))
    for m in files:
        if not state(m["path"]):
            want[where(m["path"])][1 if m["path"] in sys.argv[4:] else 0] += 1
    want = {k: tuple(v) for k, v in want.items()}
    if rows(r, ("verified", "failed")) != want:
        sys.exit(f"verify's rows {rows(r, ('verified', 'failed'))}\nthe manifest's {want}")
    dovecot = sum(state(m["path"]) for m in files)
    if not dovecot or r["dovecot_files"] != dovecot:
        sys.exit(f"verify counts {r['dovecot_files']} of Dovecot's files apart, the manifest lists {dovecot}")
    if r["files"] != len(files) or r["messages"] != len(files) - dovecot:
        sys.exit(f"verify's totals: {r['files']} files, {r['messages']} messages; the manifest lists "
                 f"{len(files)} files, {dovecot} of them Dovecot's")
    print(f"verify: {len(want)} rows equal the manifest's messages; {dovecot} of Dovecot's files apart")
elif cmd == "text":
    # The text table a run printed equals its --json rows.
    report = json.load(open(sys.argv[3]))
    lines = open(sys.argv[2]).read().split("per user and folder:\n")[1].splitlines()
    cols = lines[0].split()[2:]
    text = {}
    for line in lines[1:]:
        f = line.replace("(no user)", "(no-user)").split()
        text[(f[0].replace("(no-user)", "(no user)"), f[1])] = tuple(int(n) for n in f[2:])
    if text != rows(report, cols) or not text:
        sys.exit(f"the text table {text}\nthe JSON {rows(report, cols)}")
    print(f"{sys.argv[2]}: the text table equals the JSON, {len(text)} rows")
PY

# A disk with deleted messages, through a receiver (restore takes a bag);
# and one reformatted, where they stay orphans.
lab=$("$TOP/tests/lab/get" ext4 none) || fail "lab ext4 none"
make_site
start_receiver recv
"$LIFEBOAT" carve -q --json "$lab/disk.img" --send "127.0.0.1:$rport" --tls site/alpha --job lab \
	>carve.json 2>send.log || fail "carve --send: $(cat send.log)"
bag=recv/alpha/lab
python3 where.py carve carve.json "$bag/lifeboat-manifest.tsv" deleted || fail "carve's rows"
"$LIFEBOAT" verify --json "$bag" >verify.json || fail "verify exited $?"
python3 where.py verify verify.json "$bag/lifeboat-manifest.tsv" || fail "verify's rows"
"$LIFEBOAT" verify "$bag" >verify.txt || fail "verify exited $?"
python3 where.py text verify.txt verify.json || fail "verify's text table"
cp -a "$bag" changed
one=$(grep -v '^#' changed/lifeboat-manifest.tsv | awk -F"\t" "{ print \$NF }" | grep '/Maildir/.Sent/' | head -n 1)
echo "other content" >"changed/data/$one"
rc=0; "$LIFEBOAT" verify --json changed >changed.json 2>/dev/null || rc=$?
[ $rc = 4 ] || fail "verify of a changed bag exited $rc"
python3 where.py verify changed.json changed/lifeboat-manifest.tsv "$one" || fail "verify's rows of a changed bag"

# lifeboat-manifest.tsv is signed (through the tag manifest): an edit
# fails the bag (exit 4) and nothing is restored. So does the same edit
# signed again with the sender's key, as a sender that lies would: the
# lines must still agree with the manifest of hashes. Edits: a deleted
# message called placed, the last line dropped, a malformed line in the
# middle, a line's hash changed, a line twice.
resign() {
	(cd "$1" && sha256sum bagit.txt bag-info.txt manifest-sha256.txt lifeboat-manifest.tsv \
		>tagmanifest-sha256.txt)
	openssl dgst -sha256 -sign site/alpha/key.pem -out "$1/tagmanifest-sha256.txt.sig" \
		"$1/tagmanifest-sha256.txt"
}
tsv=$bag/lifeboat-manifest.tsv
del=$(grep -n '	deleted	' "$tsv" | head -n 1 | cut -d: -f1)
[ -n "$del" ] || fail "no deleted message in the bag"
mid=$(( $(wc -l <"$tsv") / 2 ))
for signed in no yes; do
    for edit in "${del}s/	deleted	/	placed	/" '$d' "${mid}s/	/ /g" "${mid}{s/^0/1/;t;s/^./0/}" "${mid}p"; do
	rm -rf forged forged-store && cp -a "$bag" forged && sed -i "$edit" forged/lifeboat-manifest.tsv
	[ $signed = no ] || resign forged
	rc=0; "$LIFEBOAT" restore forged --to forged-store --owner 1999:1999 >out 2>err || rc=$?
	[ $rc = 4 ] && [ -z "$(find forged-store -type f 2>/dev/null)" ] ||
		fail "a tsv edited by '$edit' (signed again: $signed): exit $rc, $(find forged-store -type f 2>/dev/null | wc -l) files written: $(cat err)"
	rc=0; "$LIFEBOAT" verify forged >out 2>err || rc=$?
	if [ $signed = no ]; then
		want="'forged/lifeboat-manifest.tsv' is not as the signed tag manifest lists it"
	else
		want="'forged/lifeboat-manifest.tsv' \(line\|leaves out\|is malformed\)"
		! grep -q "signed tag manifest\|signature" err || fail "'$edit' signed again: $(cat err)"
	fi
	[ $rc = 4 ] && grep -q "$want" err || fail "verify of a tsv edited by '$edit' (signed again: $signed): exit $rc: $(cat err)"
    done
done
echo "refused: a tsv with a deleted message called placed, a line dropped, malformed, changed or twice, signed again or not"
# manifest-sha256.txt, signed again: its first two lines swapped (the tsv
# lists them in the other order); or its first line twice, with the tsv's,
# Payload-Oxum counting it twice, and a file the manifest does not list
# in data/, so that every count agrees: only the path listed twice gives
# it away.
first=$(grep -v '^#' "$tsv" | head -n 1 | awk -F"\t" "{ print \$NF }")
for edit in swap twice; do
	rm -rf forged && cp -a "$bag" forged
	case $edit in
	swap) sed -i '1{h;d};2G' forged/manifest-sha256.txt
		want="line [0-9]*: 'data/.*' with that SHA-256 is not the signed manifest's file of that place" ;;
	twice) sed -i '1p' forged/manifest-sha256.txt
		n=$(grep -n -v '^#' forged/lifeboat-manifest.tsv | head -n 1 | cut -d: -f1)
		sed -i "${n}p" forged/lifeboat-manifest.tsv
		size=$(stat -c %s "forged/data/$first")
		awk -v s="$size" -F'[ .]' '/^Payload-Oxum:/ { printf "Payload-Oxum: %d.%d\n", $2 + s, $3 + 1; next } { print }' \
			forged/bag-info.txt >info && mv info forged/bag-info.txt
		echo "not listed" >forged/data/stowaway
		want="'forged/manifest-sha256.txt' lists 'data/$first' twice" ;;
	esac
	resign forged
	rc=0; "$LIFEBOAT" verify forged >out 2>err || rc=$?
	[ $rc = 4 ] && grep -q "$want" err && ! grep -q "signed tag manifest\|signature\|Payload-Oxum\|holds" err ||
		fail "verify of a manifest edited ($edit), signed again: exit $rc: $(cat err)"
done
echo "refused: a manifest, signed again, in another order than the tsv, or listing a file twice"
lab2=$("$TOP/tests/lab/get" ext4 reformat) || fail "lab ext4 reformat"
"$LIFEBOAT" carve -q --json "$lab2/disk.img" --out carved >carve2.json || fail "carve exited $?"
python3 where.py carve carve2.json carved/.lifeboat/manifest.tsv orphaned || fail "carve's rows"
"$LIFEBOAT" carve -q "$lab2/disk.img" --out carved2 >carve2.txt
python3 where.py text carve2.txt carve2.json || fail "carve's text table"

# Refused maps write nothing (each has a '*' line, so that only the bad
# line can be the reason).
for bad in 'example.com/alice' 'bob 2002:2002 extra' 'vmail/example.com/alice 2001:2001' \
	   'bob nosuchuser' 'bob -1:-1' 'bob 2002:2002\nbob 2003:2003' 'bob 4294967296:2002' \
	   'bob 2002:+2002'; do
	printf '%b\n* 2000:2000\n' "$bad" >bad.map
	rc=0; "$LIFEBOAT" restore "$bag" --to store --map bad.map >out 2>err || rc=$?
	[ $rc = 100 ] && grep -q "bad.map" err || fail "the map '$bad': exit $rc: $(cat err)"
done
printf 'example.com/alice 2001:2001\n' >partial.map
rc=0; "$LIFEBOAT" restore "$bag" --to store --map partial.map >out 2>err || rc=$?
[ $rc = 100 ] && grep -q "no owner for example.com/" err || fail "a map without most users: exit $rc: $(cat err)"
for bad in 4294967296:0 0:4294967296 4294967295:0 ' 1:1' 1:; do
	rc=0; "$LIFEBOAT" restore "$bag" --to store --owner "$bad" >out 2>err || rc=$?
	[ $rc = 100 ] || fail "--owner '$bad': exit $rc: $(cat err)"
done
[ ! -e store ] || [ -z "$(find store -type f)" ] || fail "a refused map restored something"
echo "refused: 8 malformed maps, one without most users and 5 bad --owner UID:GID, nothing written"

cat >owners.map <<'EOF'
# mail user     owner
example.com/alice 2001:2001   # by DOMAIN/USER
bob 2002:2002
* 2000:2000
EOF
"$LIFEBOAT" restore "$bag" --to store --map owners.map --owner 1999:1999 --json >restore.json ||
	fail "restore --map exited $?"
owners() { find "$1" -mindepth 1 -printf '%u:%g\n' | sort -u | tr '\n' ' '; }
[ "$(owners store/example.com/alice)" = "2001:2001 " ] || fail "alice: $(owners store/example.com/alice)"
[ "$(owners store/example.com/bob)" = "2002:2002 " ] || fail "bob: $(owners store/example.com/bob)"
[ "$(owners store/example.com/carol)" = "2000:2000 " ] || fail "carol: $(owners store/example.com/carol)"
[ "$(stat -c %u:%g store/example.com store/example.org | sort -u)" = 1999:1999 ] ||
	fail "the domain directories: $(stat -c %u:%g store/example.com store/example.org)"
[ "$(stat -c %u:%g store/example.com/alice)" = 2001:2001 ] || fail "alice's directory"
echo "owners: alice 2001, bob 2002, carol by '*', the domains by --owner"
# Each user can reach their own mail through the store and the domain
# (0711: passed through, not listed), and not another's.
[ "$(stat -c %a store store/example.com)" = "$(printf '711\n711')" ] ||
	fail "the store and the domain are $(stat -c %a store store/example.com), not 711"
as() { uid=${1%:*}; shift; setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@"; }
chmod 711 .	# this test's own directory (mktemp's 0700), as /srv would be
as 2001:2001 ls store/example.com/alice/Maildir/cur >/dev/null 2>&1 || fail "alice cannot reach her mail"
! as 2001:2001 ls store/example.com/bob/Maildir/cur >/dev/null 2>&1 || fail "alice can read bob's folder"
! as 2001:2001 ls store/example.com >/dev/null 2>&1 || fail "alice can list the domain's users"
echo "alice reaches her Maildir through the store and the domain (711), not bob's"
(cd store && find . -type f -printf '%P\n') >files
python3 where.py restore restore.json carve.json "$bag/lifeboat-manifest.tsv" files ||
	fail "the per-user counts do not match the store"

# Without '*', the users the map does not name get --owner's.
printf 'example.com/alice 2001:2001\n' >alice.map
"$LIFEBOAT" restore "$bag" --to store2 --map alice.map --owner 1999:1999 >/dev/null ||
	fail "restore --map --owner exited $?"
[ "$(owners store2/example.com/alice)" = "2001:2001 " ] || fail "alice: $(owners store2/example.com/alice)"
for u in example.com/bob example.com/carol example.com/dave example.org/erin; do
	[ "$(owners store2/$u)" = "1999:1999 " ] || fail "$u: $(owners store2/$u)"
done
echo "owners: alice 2001, everyone else --owner's"

# Again, with a conflict in bob's Sent: counted in its row. A third run
# prints the same as a text table.
f=$(find store/example.com/bob/Maildir/.Sent/cur -type f | head -n 1)
echo "other content" >"$f"
rc=0; "$LIFEBOAT" restore "$bag" --to store --map owners.map --owner 1999:1999 --json >again.json \
	2>again.err || rc=$?
[ $rc = 1 ] || fail "the second restore exited $rc: $(cat again.err)"
python3 - restore.json again.json <<'PY' || fail "the second restore's rows: $(cat again.json)"
import json, sys
first, again = (json.load(open(f)) for f in sys.argv[1:])
want = {(r["user"], r["folder"]): (0, r["written"], 0, r["left"]) for r in first["users"]}
_, already, _, left = want[("example.com/bob", "Sent")]
want[("example.com/bob", "Sent")] = (0, already - 1, 1, left)
got = {(r["user"], r["folder"]): (r["written"], r["already"], r["conflicts"], r["left"]) for r in again["users"]}
sys.exit(got != want and f"{got}\n{want}")
PY
rc=0; "$LIFEBOAT" restore "$bag" --to store --map owners.map --owner 1999:1999 >again.txt 2>again.err || rc=$?
[ $rc = 1 ] || fail "the third restore exited $rc: $(cat again.err)"
python3 where.py text again.txt again.json || fail "restore's text table"
echo "again: every message already there, the conflict in bob's Sent"

lab3=$("$TOP/tests/lab/get" xfs reformat) || fail "lab xfs reformat"
"$LIFEBOAT" carve -q --json "$lab3/disk.img" --send "127.0.0.1:$rport" --tls site/alpha --job xfs \
	>carve3.json 2>send3.log || fail "carve --send of the XFS disk: $(cat send3.log)"
bag3=recv/alpha/xfs
python3 where.py carve carve3.json "$bag3/lifeboat-manifest.tsv" orphaned || fail "carve's rows (XFS)"
grep -q '	placed-inferred	' "$bag3/lifeboat-manifest.tsv" || fail "no placed-inferred message"
"$LIFEBOAT" restore "$bag3" --to store3 --owner 1999:1999 --json >restore3.json 2>restore3.err ||
	fail "restore of the XFS disk exited $?: $(cat restore3.err)"
grep -q "carve: lost-[0-9]* is example.com: the recipient of" send3.log &&
	grep -q "carve: lost-[0-9]* is example.org: the recipient of" send3.log ||
	fail "carve did not name the lab's two domains: $(cat send3.log)"
# The lab's two domains, named: bob's and erin's apart, no lost-ID left.
[ -d store3/example.com/bob/Maildir/cur ] && [ "$(owners store3/example.com/bob)" = "1999:1999 " ] &&
	[ -d store3/example.org/erin/Maildir ] && [ ! -d store3/example.com/erin ] ||
	fail "bob's and erin's mail is not at store3/DOMAIN/USER/Maildir: $(cd store3 && echo */*)"
if ls store3 | grep -q '^lost-'; then fail "a lost-ID in store3: $(ls store3)"; fi
(cd store3 && find . -type f -printf '%P\n') >files3
python3 where.py restore restore3.json carve3.json "$bag3/lifeboat-manifest.tsv" files3 ||
	fail "the per-user counts of the XFS restore do not match the store"
# Without a map, the store restore made is --owner's (0700): the mail
# user reaches every Maildir, and nobody else gets in.
[ "$(stat -c '%u:%g %a' store3 2>/dev/null)" = "1999:1999 700" ] ||
	fail "the store without a map: $(stat -c '%u:%g %a' store3)"
as 1999:1999 ls store3/example.com/bob/Maildir/cur >/dev/null 2>&1 || fail "the mail user cannot reach bob's mail"
! as 2001:2001 ls store3 >/dev/null 2>&1 || fail "another user can list the store"
echo "without a map: the store 1999:1999 0700, reached by the mail user alone"

# Where carve could not name a domain, its mail comes as
# lost-ID/USER/Maildir: two messages of the XFS bag under two lost-IDs,
# in a tree of our own, sent and restored.
mkdir -p lost/.lifeboat
python3 - "$bag3" <<'PY' || fail "making the lost-ID tree"
import os, sys
bag = sys.argv[1]
rows = [l.rstrip("\n").split("\t") for l in open(f"{bag}/lifeboat-manifest.tsv") if not l.startswith("#")]
with open("lost/.lifeboat/manifest.tsv", "w") as m:
    m.write("# sha256\tsize\tclass\tplacement\thow\tproof\tsource\tmtime\tpath\n")
    for dom, lost in (("example.com/bob/", "lost-77/bob/"), ("example.org/erin/", "lost-78/erin/")):
        r = next(r for r in rows if r[-1].startswith(dom) and r[3] == "placed-inferred")
        path = lost + r[-1][len(dom):]
        os.makedirs(os.path.dirname(f"lost/{path}"), exist_ok=True)
        os.link(f"{bag}/data/{r[-1]}", f"lost/{path}")
        m.write("\t".join(r[:3] + ["placed-suffix"] + r[4:8] + [path]) + "\n")
    m.write("# complete\n")
PY
"$LIFEBOAT" send lost --to "127.0.0.1:$rport" --tls site/alpha --job lost >send4.log 2>&1 ||
	fail "send of the lost-ID tree: $(cat send4.log)"
"$LIFEBOAT" restore recv/alpha/lost --to store4 --owner 1999:1999 >restore4.txt 2>restore4.err ||
	fail "restore of the lost-ID tree exited $?: $(cat restore4.err)"
grep -q "domain above some users was lost" restore4.err || fail "restore did not say: $(cat restore4.err)"
[ -d store4/lost-77/bob/Maildir/cur ] || [ -d store4/lost-77/bob/Maildir/new ] ||
	fail "bob's mail is not at store4/lost-77/bob/Maildir: $(cd store4 && echo */*)"
[ -d store4/lost-78/erin/Maildir ] && [ ! -d store4/lost-77/erin ] ||
	fail "the users of the two domains are not under two lost-IDs: $(cd store4 && echo */*)"

# Only messages go into a Maildir: [.FOLDER/](cur|new)/NAME, NAME not
# hidden (and Dovecot's dovecot-uidlist, dovecot-keywords and the root's
# subscriptions: tests/dovecot-state.t). A bag's index file, a
# subscriptions in a folder, a tmp/ file or a hidden name stays in the
# bag. Without --owner, files are 0600 and directories
# 0700 all the same. A name in the store that cannot be read (a symlink)
# is a conflict like any other, and a FIFO there is not waited on.
mkdir -p odd/.lifeboat
python3 - "$bag" <<'PY' || fail "making the tree with Dovecot's files"
import os, sys
bag = sys.argv[1]
rows = [l.rstrip("\n").split("\t") for l in open(f"{bag}/lifeboat-manifest.tsv")
        if not l.startswith("#") and l.split("\t")[3] == "placed"]
a = "vmail/example.com/alice/Maildir/"
names = ["cur/1.M1.good:2,S", ".Sent/new/2.M2.good", "dovecot.index.log", ".Sent/subscriptions",
         "tmp/3.M3.host", "cur/.4.M4.hidden", ".Sent/dovecot.index.cache"]
with open("odd/.lifeboat/manifest.tsv", "w") as m:
    m.write("# sha256\tsize\tclass\tplacement\thow\tproof\tsource\tmtime\tpath\n")
    for r, name in zip(rows, names):
        os.makedirs(os.path.dirname(f"odd/{a}{name}"), exist_ok=True)
        os.link(f"{bag}/data/{r[-1]}", f"odd/{a}{name}")
        m.write("\t".join(r[:8] + [a + name]) + "\n")
    m.write("# complete\n")
PY
"$LIFEBOAT" send odd --to "127.0.0.1:$rport" --tls site/alpha --job odd >send5.log 2>&1 ||
	fail "send of the tree with Dovecot's files: $(cat send5.log)"
"$LIFEBOAT" restore recv/alpha/odd --to store5 >restore5.txt 2>restore5.err ||
	fail "restore of the tree with Dovecot's files exited $?: $(cat restore5.err)"
(cd store5 && find . -type f | sort) >files5
printf '%s\n' ./example.com/alice/Maildir/.Sent/new/2.M2.good ./example.com/alice/Maildir/cur/1.M1.good:2,S |
	cmp -s - files5 || fail "restored besides the two messages: $(cat files5)"
grep -q "2 messages written, 0 already there, 0 conflicts left alone, 5 not placed" restore5.txt ||
	fail "restore of the tree with Dovecot's files: $(cat restore5.txt)"
[ -z "$(find store5 -perm /077)" ] || fail "readable by others: $(find store5 -perm /077 -printf '%m %P\n')"
mkdir -p store6/example.com/alice/Maildir/cur store6/example.com/alice/Maildir/.Sent/cur
ln -s /etc/passwd store6/example.com/alice/Maildir/cur/1.M1.good:2,S
mkfifo store6/example.com/alice/Maildir/.Sent/cur/5.M5.fifo
rc=0; timeout 20 "$LIFEBOAT" restore recv/alpha/odd --to store6 >restore6.txt 2>restore6.err || rc=$?
[ $rc = 1 ] && grep -q "1 messages written, 0 already there, 1 conflicts left alone" restore6.txt &&
	[ -f store6/example.com/alice/Maildir/.Sent/new/2.M2.good ] ||
	fail "a symlink and a FIFO in the store: exit $rc: $(cat restore6.txt restore6.err)"
echo "Dovecot's files and hidden names left in the bag, modes 0600 and 0700, a symlink a conflict"
echo ok
