/* summary.c - counts per user and folder, for the report that ends a carve or a restore. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
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

void summary_where(const char *path, char *user, size_t ucap, char *folder, size_t fcap)
{
	const char *m = strstr(path, "/Maildir/"), *u, *d, *f;

	copy(folder, fcap, "", 0);
	if (!strncmp(path, "orphans/", 8) || !strncmp(path, "unverified/", 11) || !m || m == path) {
		copy(user, ucap, path, strcspn(path, "/"));
		return;
	}
	for (u = m; u > path && u[-1] != '/'; u--)
		;
	d = u;
	if (u > path)
		for (d = u - 1; d > path && d[-1] != '/'; d--)
			;
	copy(user, ucap, d, (size_t)(m - d));
	f = m + 9;
	if (*f == '.' && strchr(f, '/'))
		copy(folder, fcap, f + 1, strcspn(f + 1, "/"));
	else
		copy(folder, fcap, "INBOX", 5);
}

static int cmp_row(const void *a, const void *b)
{
	const struct summary_row *x = a, *y = b;
	int c = strcmp(x->user, y->user);

	return c ? c : strcmp(x->folder, y->folder);
}

int summary_count(struct summary *s, const char *path, int col)
{
	char user[256], folder[256];
	struct summary_row *r = NULL;

	summary_where(path, user, sizeof(user), folder, sizeof(folder));
	/* The last row is the likeliest: messages come folder by folder. */
	for (size_t i = s->nrows; i-- > 0 && !r;)
		if (!strcmp(s->rows[i].user, user) && !strcmp(s->rows[i].folder, folder))
			r = &s->rows[i];
	if (!r) {
		if (ARRAY_GROW(s->rows, s->nrows, s->cap) < 0)
			return -ENOMEM;
		r = &s->rows[s->nrows++];
		memset(r, 0, sizeof(*r));
		copy(r->user, sizeof(r->user), user, strlen(user));
		copy(r->folder, sizeof(r->folder), folder, strlen(folder));
	}
	if (col >= 0 && col < s->ncols)
		r->n[col]++;
	return 0;
}

void summary_print(struct summary *s, FILE *f)
{
	qsort(s->rows, s->nrows, sizeof(*s->rows), cmp_row);
	fprintf(f, "  %-28s %-16s", "user", "folder");
	for (int c = 0; c < s->ncols; c++)
		fprintf(f, " %9s", s->cols[c]);
	fputc('\n', f);
	for (size_t i = 0; i < s->nrows; i++) {
		fprintf(f, "  %-28s %-16s", s->rows[i].user, s->rows[i].folder);
		for (int c = 0; c < s->ncols; c++)
			fprintf(f, " %9llu", (unsigned long long)s->rows[i].n[c]);
		fputc('\n', f);
	}
}

void summary_json(struct summary *s, struct json *j)
{
	qsort(s->rows, s->nrows, sizeof(*s->rows), cmp_row);
	json_arr_begin(j);
	for (size_t i = 0; i < s->nrows; i++) {
		json_obj_begin(j);
		json_key(j, "user"); json_str(j, s->rows[i].user);
		json_key(j, "folder"); json_str(j, s->rows[i].folder);
		for (int c = 0; c < s->ncols; c++) {
			json_key(j, s->cols[c]);
			json_u64(j, s->rows[i].n[c]);
		}
		json_obj_end(j);
	}
	json_arr_end(j);
}

void summary_free(struct summary *s)
{
	free(s->rows);
	s->rows = NULL;
	s->nrows = s->cap = 0;
}
