# Shared by the tests that have real Dovecot make their mail (dovecot-lda
# delivers, doveadm copies, flags, moves, subscribes), as the lab's mail
# user. Sourced after set -eu and fail(); skips (exit 77) without Dovecot.

lda=/usr/lib/dovecot/dovecot-lda
if [ ! -x "$lda" ] || [ ! -x /usr/bin/doveadm ]; then echo "skip: dovecot is not installed"; exit 77; fi
# The unprivileged user the lab delivers as (tests/lab/lab.py makes it too).
id lbmail >/dev/null 2>&1 || useradd -r -M -s /usr/sbin/nologin lbmail

cat >dovecot.conf <<'CONF'
mail_location = maildir:~/Maildir
lda_mailbox_autocreate = yes
log_path = /dev/stderr
info_log_path = /dev/null
ssl = no
CONF
# The mail user reads the config, and reaches its mail, through the test's
# own directory.
chmod 644 dovecot.conf && chmod 711 .

# as_mail HOME CMD...: run CMD as the mail user with HOME, as Dovecot runs it.
as_mail() {
	h=$1
	shift
	setpriv --reuid=lbmail --regid=lbmail --clear-groups \
		env -i PATH=/usr/bin:/bin USER=lbmail HOME="$h" "$@"
}

# deliver HOME [FOLDER]: deliver the message on stdin with dovecot-lda.
deliver() {
	as_mail "$1" "$lda" -c "$PWD/dovecot.conf" -f bob@example.net ${2:+-m "$2"} ||
		fail "dovecot-lda"
}

# dove HOME ARGS...: doveadm on the Maildir in HOME.
dove() {
	h=$1
	shift
	as_mail "$h" doveadm -c "$PWD/dovecot.conf" "$@"
}

# seen HOME BOX...: what Dovecot shows of the Maildir in HOME: each
# folder's UIDVALIDITY, each message's UID, subject and flags (keywords
# too), every folder, and the subscribed ones.
seen() {
	h=$1
	shift
	for box in "$@"; do
		dove "$h" -f flow mailbox status uidvalidity "$box" | sed "s#^#$box #"
		dove "$h" -f flow fetch 'uid hdr.subject flags' mailbox "$box" all | sed "s#^#$box #" | sort
	done
	echo "folders: $(dove "$h" mailbox list | sort | tr '\n' ' ')"
	echo "subscribed: $(dove "$h" mailbox list -s | sort | tr '\n' ' ')"
}
