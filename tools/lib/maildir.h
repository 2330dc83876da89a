/* maildir.h - Dovecot Maildir file names, and the files Dovecot keeps beside them. */
#ifndef MAILDIR_H
#define MAILDIR_H

#include "lb.h"

/*
 * A Dovecot Maildir name is
 *
 *     SECS.UNIQUE.HOST[,S=SIZE][,W=VSIZE][:2,FLAGS]
 *
 * SECS is the delivery time (decimal seconds), UNIQUE and HOST are
 * printable text without '/', ':' or ','; S= is the exact file size, W=
 * the size with CRLF line ends; FLAGS are letters, upper case for the
 * standard flags (D draft, F flagged, P passed, R replied, S seen, T
 * trashed) and lower case for keywords. Messages in new/ have no ":2,".
 */

struct maildir_name {
	int64_t time;		/* leading delivery seconds */
	int64_t size;		/* S= value, or -1 if absent */
	int64_t vsize;		/* W= value, or -1 */
	int has_info;		/* ":2," present */
	char flags[27];		/* flags after ":2,", NUL-terminated */
};

/* Parse NAME (LEN bytes, need not be NUL-terminated). Returns 0 if it is
 * a Maildir name, -EINVAL if not. */
int maildir_name_parse(const char *name, size_t len, struct maildir_name *out);
/* Dovecot's virtual size (a name's W=) of the LEN bytes at P: their size
 * with every bare LF made CRLF. */
uint64_t maildir_vsize(const uint8_t *p, size_t len);

/*
 * Does P start a dovecot-uidlist file ("3 V<uidvalidity> N<next uid>", its
 * version 3 header)? Such a file sits in every Maildir, is text, and so
 * ends a carved message as surely as the next message's header does.
 */
int maildir_uidlist_start(const uint8_t *p, const uint8_t *end);

/* A uidlist line is a uid, a few fields and a name of at most 255 bytes:
 * one longer is no line of a uidlist (and a hostile one is not read on). */
#define MAILDIR_UIDLIST_LINE 1024

/* The mailbox GUID ("G" and 32 hex digits) in the dovecot-uidlist header
 * line at P (LEN bytes). Returns 0, or -EINVAL when there is none. */
int maildir_uidlist_guid(const uint8_t *p, size_t len, uint8_t guid[16]);

/* A file a dovecot-uidlist lists: its NAME up to its Maildir info (":2,",
 * which Dovecot does not keep up to date there), and its sizes: the
 * name's S= and W=, else the line's S and W fields (Dovecot keeps a W
 * field where the name has no W=, as for mail a client saved), else -1. */
struct uidlist_entry {
	const char *name;
	size_t len;
	int64_t size, vsize;
	const uint8_t *next;	/* the byte after its line */
};

/*
 * The files a dovecot-uidlist at P (LEN bytes) lists after its header
 * line, one a line: "UID [FIELD ...] :NAME", each field a letter and its
 * value. FN gets each. Stops at the first line that is not one: the end
 * of what survives, a NUL, a line cut short or longer than
 * MAILDIR_UIDLIST_LINE. Returns the count given, or -EINVAL when P starts
 * no uidlist.
 */
int maildir_uidlist_names(const uint8_t *p, size_t len,
			  void (*fn)(const struct uidlist_entry *e, void *arg), void *arg);
/* The same for the lines at P, past the header line (read on where the
 * bytes at hand ended). Returns the count given. */
int maildir_uidlist_lines(const uint8_t *p, size_t len,
			  void (*fn)(const struct uidlist_entry *e, void *arg), void *arg);

/*
 * Dovecot's mailbox list index (dovecot.list.index, in a Maildir's root)
 * names every folder of the user and records its GUID, which the folder's
 * own dovecot-uidlist repeats. So where a format lost the directory that
 * named a Maildir++ folder, the GUID still joins the folder to its name.
 *
 * The file is a Dovecot mail index, little-endian: a base header (major
 * version 7, its own size at offset 2, the whole header's size at 4, the
 * record size at 8, compatibility flags at 12, the record count at 32),
 * extension headers up to the header's end, then one record per mailbox.
 * The "list" extension's header maps name ids to one level's name each
 * (a flag byte, then { u32 id, name NUL } until id 0); its record part is
 * { u32 name id, u32 parent's uid, GUID[16], u32 uidvalidity }.
 */

/* What a list index needs to be parsed whole, from its first bytes (the
 * header and every record), or 0 when P starts no list index. */
size_t maildir_list_index_size(const uint8_t *p, size_t len);

/*
 * Call FN for every selectable folder in the list index at P (LEN bytes),
 * with its GUID and its Maildir++ directory name (".Archive.2019": a dot
 * before each level; "" for INBOX, the Maildir's root itself). A folder with a name that would not make a
 * plain directory name ('/', '.', control bytes) is skipped, not guessed.
 * Returns the count of folders given to FN, or -EINVAL when P is no list
 * index or is cut short.
 */
int maildir_list_index(const uint8_t *p, size_t len,
		       void (*fn)(const uint8_t guid[16], const char *dir, void *arg), void *arg);

/*
 * Is NAME one of Dovecot's own files whose loss a user sees, in a
 * Maildir's root (FOLDER 0) or one of its folders (FOLDER 1)? A folder's
 * (the root is INBOX) dovecot-uidlist: each message's IMAP UID and the
 * folder's UIDVALIDITY (without them every client fetches the folder
 * again, and POP3 clients that leave mail on the server take it all as
 * new); its dovecot-keywords: what the letters a-z of its names' flags
 * stand for; and the root's subscriptions: the folders a client lists.
 */
int maildir_state_file(const char *name, int folder);

/*
 * Where a path in a mail store (a message's, or one of Dovecot's files
 * beside them) has its user and its Maildir:
 *
 *     .../[DOMAIN/]USER/Maildir/REST      mail_location = maildir:~/Maildir
 *     .../DOMAIN/USER/REST                maildir:/var/vmail/%d/%n, where the
 *                                         user's own directory is the Maildir
 *
 * REST is [FOLDER/](cur|new)/NAME or [FOLDER/]FILE. Where no component is
 * called Maildir, the user is the directory above REST's cur/ or new/ and
 * a Maildir++ folder (.NAME) only; it must not be called as Maildirs are
 * (maildir_root_name()), and a domain's directory (a name with a dot, or
 * carve's lost-ID) must be above it: a LAYOUT=fs folder there
 * (.../alice/Sent) cannot be told from a user.
 */
struct maildir_where {
	const char *user;	/* [DOMAIN/]USER: the domain where one is above */
	size_t user_len;
	const char *root;	/* the Maildir: USER/Maildir, or USER */
	size_t root_len;
	const char *rest;	/* what follows the Maildir's "/" */
};

/* Is the component NAME (LEN bytes) what a Maildir that is not the user's
 * own directory is called (mail_location = maildir:~/Maildir, ~/mail,
 * ~/.maildir, ...)? */
int maildir_root_name(const char *name, size_t len);

/* Split PATH as above. Returns 0, or -EINVAL when it names no user: a
 * Maildir with nothing above it, or no directory at all. */
int maildir_where(const char *path, struct maildir_where *w);

/* Is REST, what follows a Maildir's "/" (maildir_where()), a message:
 * [FOLDER/](cur|new)/NAME, NAME not hidden? What else is there
 * (dovecot-uidlist, indexes, subscriptions, tmp/) is Dovecot's. */
int maildir_message_rest(const char *rest);
/* Is REST one of Dovecot's files whose loss a user sees
 * (maildir_state_file()), in the Maildir's root or in one of its
 * folders, which carve puts back beside the mail? */
int maildir_state_rest(const char *rest);
/* The same for a store path, the Maildir found in it: such a file is
 * not a message, and tables of messages leave it out. */
int maildir_state_path(const char *path);

#endif
