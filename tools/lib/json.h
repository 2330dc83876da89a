/* json.h - a small streaming JSON writer for --json output. */
#ifndef JSON_H
#define JSON_H

#include <stdio.h>
#include "lb.h"

/*
 * Writes one JSON document to a stream, with commas and nesting tracked
 * here so that callers only say what comes next. Strings are escaped:
 * every byte outside printable ASCII comes out as \u00XX.
 */
struct json {
	FILE *f;
	int depth;
	uint64_t need_comma;	/* bit per depth */
	int after_key;
};

void json_init(struct json *j, FILE *f);
void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
void json_key(struct json *j, const char *key);
void json_str(struct json *j, const char *s);
void json_strn(struct json *j, const char *s, size_t len);
void json_u64(struct json *j, uint64_t v);
void json_bool(struct json *j, int v);
/* End the document with a newline. */
void json_end(struct json *j);

#endif
