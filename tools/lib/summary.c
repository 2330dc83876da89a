/* summary.c - counts per user and folder, for the report that ends a carve or a restore. */
#define _GNU_SOURCE
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "maildir.h"
#include "summary.h"

void summary_init(struct summary *s, const char *const *cols, int ncols)
{
	memset(s, 0, sizeof(*s));
	s->cols = cols;
	s->ncols = ncols < SUMMARY_COLS ? ncols : SUMMARY_COLS;
}

static void copy(char *out, size_t cap, const char *p, size_t len)
{
	if (len >= cap)
		len = cap - 1;
	memcpy(out, p, len);
	out[len] = 0;
}

static int under(const char *path, const char *top)
{
	size_t n = strlen(top);

	return !strncmp(path, top, n) && path[n] == '/';
}

void summary_where(const char *path, char *user, size_t ucap, char *folder, size_t fcap)
{
	const char *f, *name, *sub;
	struct maildir_where w;

	if (under(path, "deleted"))
		path += 8;
	/* Orphans and unverified material have lost their user; current/
	 * holds the filesystem the format made, not the lost one. */
	if (under(path, "orphans") || under(path, "unverified") || under(path, "current") ||
	    maildir_where(path, &w) < 0) {
		copy(user, ucap, "", 0);
		copy(folder, fcap, path, strcspn(path, "/"));
		return;
	}
	copy(user, ucap, w.user, w.user_len);
	/* The folder is the directory between the Maildir and the file,
	 * less a last cur/, new/ or tmp/ (a message's; Dovecot's own files
	 * lie in the folder's directory itself). */
	f = w.rest;
	if (!(name = strrchr(f, '/')))
		name = f;	/* a file of the Maildir root itself */
	for (sub = name; sub > f && sub[-1] != '/'; sub--)
		;
	if (name - sub == 3 && (!strncmp(sub, "cur", 3) || !strncmp(sub, "new", 3) ||
				 !strncmp(sub, "tmp", 3)))
		name = sub > f ? sub - 1 : f;
	if (*f == '.')	/* Maildir++ */
		f++;
	if (name <= f) {
		copy(folder, fcap, "INBOX", 5);
		return;
	}
	copy(folder, fcap, f, (size_t)(name - f));
}

/* By user, then folder; the rows with no user last. */
static int cmp_row(const void *a, const void *b)
{
	const struct summary_row *x = a, *y = b;
	int c = !x->user[0] - !y->user[0];

	if (!c)
		c = strcmp(x->user, y->user);
	return c ? c : strcmp(x->folder, y->folder);
}

int summary_count(struct summary *s, const char *path, int col)
{
	struct summary_row key, *r, **found;

	if (maildir_state_path(path)) {
		s->state++;
		return 0;
	}
	summary_where(path, key.user, sizeof(key.user), key.folder, sizeof(key.folder));
	if (!(found = tfind(&key, &s->root, cmp_row))) {
		if (!(r = calloc(1, sizeof(*r))))
			return -ENOMEM;
		memcpy(r->user, key.user, sizeof(r->user));
		memcpy(r->folder, key.folder, sizeof(r->folder));
		if (!(found = tsearch(r, &s->root, cmp_row))) {
			free(r);
			return -ENOMEM;
		}
	}
	if (col >= 0 && col < s->ncols)
		(*found)->n[col]++;
	return 0;
}

struct walk {
	const struct summary *s;
	FILE *f;
	struct json *j;
};

static const char *user_label(const struct summary_row *r)
{
	return r->user[0] ? r->user : SUMMARY_NO_USER;
}

/* twalk_r() visits an inner node three times; the second is in order. */
static void print_row(const void *node, VISIT v, void *arg)
{
	const struct summary_row *r = *(const struct summary_row *const *)node;
	const struct walk *w = arg;

	if (v != postorder && v != leaf)
		return;
	fprintf(w->f, "  %-28s %-16s", user_label(r), r->folder);
	for (int c = 0; c < w->s->ncols; c++)
		fprintf(w->f, " %9llu", (unsigned long long)r->n[c]);
	fputc('\n', w->f);
}

void summary_print(const struct summary *s, FILE *f)
{
	struct walk w = { s, f, NULL };

	fprintf(f, "  %-28s %-16s", "user", "folder");
	for (int c = 0; c < s->ncols; c++)
		fprintf(f, " %9s", s->cols[c]);
	fputc('\n', f);
	twalk_r(s->root, print_row, &w);
}

static void json_row(const void *node, VISIT v, void *arg)
{
	const struct summary_row *r = *(const struct summary_row *const *)node;
	const struct walk *w = arg;

	if (v != postorder && v != leaf)
		return;
	json_obj_begin(w->j);
	json_key(w->j, "user"); json_str(w->j, user_label(r));
	json_key(w->j, "folder"); json_str(w->j, r->folder);
	for (int c = 0; c < w->s->ncols; c++) {
		json_key(w->j, w->s->cols[c]);
		json_u64(w->j, r->n[c]);
	}
	json_obj_end(w->j);
}

void summary_json(const struct summary *s, struct json *j)
{
	struct walk w = { s, NULL, j };

	json_arr_begin(j);
	twalk_r(s->root, json_row, &w);
	json_arr_end(j);
}

void summary_free(struct summary *s)
{
	tdestroy(s->root, free);
	s->root = NULL;
}

void summary_print_state(const struct summary *s, const char *prefix, FILE *f)
{
	if (s->state)
		fprintf(f, "%s%llu of Dovecot's uidlist, keyword and subscription files beside the "
			"mail\n", prefix, (unsigned long long)s->state);
}
