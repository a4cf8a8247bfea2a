/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One JSON object on one line (JSONL), parsed without a library.  Only the
 * object's top-level members are kept; nested objects and arrays of other
 * things are checked for syntax and kept as JSON_OTHER, so readers can
 * ignore keys they do not know.
 */
#ifndef TLSHIM_JSON_LINE_H
#define TLSHIM_JSON_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum json_type {
	JSON_NULL,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_NUMBERS,		/* an array of numbers (also the empty array) */
	JSON_OTHER,		/* an object, or an array holding non-numbers */
};

struct json_number {
	double d;
	bool is_uint;		/* written as a non-negative integer that fits u64 */
	uint64_t u;		/* exact when is_uint */
};

struct json_member {
	char *key;
	enum json_type type;
	bool b;
	struct json_number num;
	char *str;		/* JSON_STRING: UTF-8, never holds a NUL */
	struct json_number *nums;
	size_t n;		/* JSON_NUMBERS: how many */
};

struct json_object {
	struct json_member *m;
	size_t n, cap;
};

/* Parses one line (trailing whitespace and "\r" allowed).  Returns false
 * with a short reason in why (e.g. "expected ':' after key at column 12")
 * on malformed input; a key given twice is malformed too.  Free the result
 * with json_object_free() either way. */
bool json_line_parse(const char *line, struct json_object *obj, char *why, size_t why_len);
void json_object_free(struct json_object *obj);
const struct json_member *json_get(const struct json_object *obj, const char *key);

#endif /* TLSHIM_JSON_LINE_H */
