/* json.c - a small streaming JSON writer. */
#include <inttypes.h>
#include <string.h>

#include "json.h"

void json_init(struct json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->need_comma = 0;
	j->after_key = 0;
}

/* Before a value or a key: a comma if a sibling came before. */
static void sep(struct json *j)
{
	if (j->after_key) {
		j->after_key = 0;
		return;
	}
	if (j->need_comma & (1ULL << j->depth))
		fputc(',', j->f);
	j->need_comma |= 1ULL << j->depth;
}

static void open_(struct json *j, int c)
{
	sep(j);
	fputc(c, j->f);
	j->depth++;
	j->need_comma &= ~(1ULL << j->depth);
}

static void close_(struct json *j, int c)
{
	j->depth--;
	fputc(c, j->f);
}

void json_obj_begin(struct json *j) { open_(j, '{'); }
void json_obj_end(struct json *j) { close_(j, '}'); }
void json_arr_begin(struct json *j) { open_(j, '['); }
void json_arr_end(struct json *j) { close_(j, ']'); }

static void put_string(FILE *f, const char *s, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void json_key(struct json *j, const char *key)
{
	sep(j);
	put_string(j->f, key, strlen(key));
	fputc(':', j->f);
	j->after_key = 1;
}

void json_strn(struct json *j, const char *s, size_t len)
{
	sep(j);
	put_string(j->f, s, len);
}

void json_str(struct json *j, const char *s)
{
	json_strn(j, s, strlen(s));
}

void json_u64(struct json *j, uint64_t v)
{
	sep(j);
	fprintf(j->f, "%" PRIu64, v);
}


void json_bool(struct json *j, int v)
{
	sep(j);
	fputs(v ? "true" : "false", j->f);
}


void json_end(struct json *j)
{
	fputc('\n', j->f);
	fflush(j->f);
}
