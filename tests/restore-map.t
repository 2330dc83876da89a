#!/bin/sh
# restore --map: each mail user's Maildir gets the owner the map gives it
# (by DOMAIN/USER, by USER, or '*'), the domain directories stay --owner's;
# the per-user and per-folder counts (--json) equal the files in the store;
# a second restore counts them as already there; a malformed map, or one
# that leaves a user without an owner, restores nothing (exit 100). carve's
# own summary has the same rows, per user and folder.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: the lab needs root for loop mounts, and chown"; exit 77; }
. "$TOP/tests/transfer/lib.sh"
trap stop_receiver EXIT

lab=$("$TOP/tests/lab/get" ext4 reformat) || fail "lab ext4 reformat"
make_site
start_receiver recv
"$LIFEBOAT" carve -q --json "$lab/disk.img" --send "127.0.0.1:$rport" --tls site/alpha --job lab \
	>carve.json 2>send.log || fail "carve --send: $(cat send.log)"
bag=recv/alpha/lab

# Refused maps write nothing.
printf 'example.com/alice\n' >bad.map
rc=0; "$LIFEBOAT" restore "$bag" --to store --map bad.map >out 2>err || rc=$?
[ $rc = 100 ] || fail "a malformed map: exit $rc: $(cat err)"
printf 'example.com/alice 2001:2001\n' >partial.map
rc=0; "$LIFEBOAT" restore "$bag" --to store --map partial.map >out 2>err || rc=$?
[ $rc = 100 ] && grep -q "no owner for example.com/" err || fail "a map without most users: exit $rc: $(cat err)"
[ ! -e store ] || [ -z "$(find store -type f)" ] || fail "a refused map restored something"

cat >owners.map <<'EOF'
# mail user     owner
example.com/alice 2001:2001
bob 2002:2002
* 2000:2000
EOF
"$LIFEBOAT" restore "$bag" --to store --map owners.map --owner 1999:1999 --json >restore.json ||
	fail "restore --map exited $?"
owner_of_tree() { find "$1" -mindepth 1 -printf '%u:%g\n' | sort -u | tr '\n' ' '; }
[ "$(owner_of_tree store/example.com/alice)" = "2001:2001 " ] || fail "alice: $(owner_of_tree store/example.com/alice)"
[ "$(owner_of_tree store/example.com/bob)" = "2002:2002 " ] || fail "bob: $(owner_of_tree store/example.com/bob)"
[ "$(owner_of_tree store/example.com/carol)" = "2000:2000 " ] || fail "carol: $(owner_of_tree store/example.com/carol)"
[ "$(stat -c %u:%g store/example.com)" = 1999:1999 ] || fail "the domain directory: $(stat -c %u:%g store/example.com)"
[ "$(stat -c %u:%g store/example.com/alice)" = 2001:2001 ] || fail "alice's directory"
echo "owners: alice 2001, bob 2002, carol by '*', example.com by --owner"

# Each row's count is what the store holds in that user's folder.
python3 - restore.json carve.json <<'PY' || fail "the per-user counts do not match the store"
import json, os, sys
r = json.load(open(sys.argv[1]))
total = 0
for row in r["users"]:
    if row["written"] == 0:
        continue
    folder = "" if row["folder"] == "INBOX" else "." + row["folder"]
    d = os.path.join("store", row["user"], "Maildir", folder)
    n = sum(len(os.listdir(os.path.join(d, s))) for s in ("cur", "new"))
    if n != row["written"]:
        sys.exit(f"{row['user']} {row['folder']}: {row['written']} counted, {n} in the store")
    total += n
if total != r["written"] or total == 0:
    sys.exit(f"rows sum to {total}, written {r['written']}")
left = sum(row["left"] for row in r["users"])
if left != r["left"]:
    sys.exit(f"left: rows {left}, total {r['left']}")
c = json.load(open(sys.argv[2]))
placed = {(u["user"], u["folder"]): u["placed"] for u in c["users"] if u["placed"]}
restored = {(u["user"], u["folder"]): u["written"] for u in r["users"] if u["written"]}
if placed != restored:
    sys.exit(f"carve's placed rows differ from the restore's: {placed} {restored}")
print(f"{len(restored)} user folders, {total} messages: every row matches the store and carve's summary")
PY
"$LIFEBOAT" restore "$bag" --to store --map owners.map --owner 1999:1999 --json >again.json ||
	fail "second restore exited $?"
python3 -c '
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
sys.exit(not (b["written"] == 0 and [r["already"] for r in b["users"]] == [r["written"] for r in a["users"]]))
' restore.json again.json || fail "the second restore's rows: $(cat again.json)"
echo ok
