// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A strict parser for one JSON object per line (RFC 8259 syntax), written
 * here because the project uses no JSON library.  Strict on syntax (so a
 * truncated or corrupted trace line is reported, not half-read), liberal on
 * content: any key, any value; readers pick what they know.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json_line.h"
#include "utf8.h"

/* Nesting of values nobody reads (objects in objects...): enough for any
 * sane producer, small enough that recursion cannot exhaust the stack. */
#define MAX_DEPTH 64

struct parser {
	const char *s;		/* the line */
	size_t i;		/* next character */
	char *why;
	size_t why_len;
	bool failed;
};

static bool error(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->failed)
		return false;
	p->failed = true;
	va_start(ap, fmt);
	n = vsnprintf(p->why, p->why_len, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < p->why_len)
		snprintf(p->why + n, p->why_len - n, " at column %zu", p->i + 1);
	return false;
}

static void skip_ws(struct parser *p)
{
	while (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\r' || p->s[p->i] == '\n')
		p->i++;
}

static const char *describe(char c)
{
	static char buf[16];

	if (!c)
		return "end of line";
	if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
		snprintf(buf, sizeof(buf), "byte 0x%02x", (unsigned char)c);
	else
		snprintf(buf, sizeof(buf), "'%c'", c);
	return buf;
}

/* Growable byte buffer for decoded strings. */
struct buf {
	char *d;
	size_t n, cap;
};

static bool buf_put(struct buf *b, const char *src, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 32;
		char *d;

		while (cap < b->n + n + 1)
			cap *= 2;
		d = realloc(b->d, cap);
		if (!d)
			return false;
		b->d = d;
		b->cap = cap;
	}
	memcpy(b->d + b->n, src, n);
	b->n += n;
	b->d[b->n] = 0;
	return true;
}

static int hex4(const char *s)
{
	int v = 0;

	for (int k = 0; k < 4; k++) {
		char c = s[k];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static size_t utf8_encode(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = 0xc0 | cp >> 6;
		out[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = 0xe0 | cp >> 12;
		out[1] = 0x80 | (cp >> 6 & 0x3f);
		out[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	out[0] = 0xf0 | cp >> 18;
	out[1] = 0x80 | (cp >> 12 & 0x3f);
	out[2] = 0x80 | (cp >> 6 & 0x3f);
	out[3] = 0x80 | (cp & 0x3f);
	return 4;
}

static bool parse_string(struct parser *p, char **out)
{
	struct buf b = { 0 };

	p->i++;
	if (!buf_put(&b, "", 0))
		return error(p, "out of memory");
	for (;;) {
		unsigned char c = p->s[p->i];
		char enc[4];
		uint32_t cp8;
		size_t n;

		if (c == '"') {
			p->i++;
			break;
		}
		if (!c) {
			free(b.d);
			return error(p, "unterminated string");
		}
		if (c < 0x20) {
			free(b.d);
			return error(p, "control character (byte 0x%02x) in string", c);
		}
		if (c != '\\') {
			n = utf8_decode((const unsigned char *)p->s + p->i, &cp8);
			if (!n) {
				free(b.d);
				return error(p, "invalid UTF-8 in string");
			}
			if (!buf_put(&b, p->s + p->i, n))
				goto oom;
			p->i += n;
			continue;
		}
		c = p->s[p->i + 1];
		p->i += 2;
		switch (c) {
		case '"': case '\\': case '/':
			enc[0] = c; n = 1; break;
		case 'b': enc[0] = '\b'; n = 1; break;
		case 'f': enc[0] = '\f'; n = 1; break;
		case 'n': enc[0] = '\n'; n = 1; break;
		case 'r': enc[0] = '\r'; n = 1; break;
		case 't': enc[0] = '\t'; n = 1; break;
		case 'u': {
			int hi = hex4(p->s + p->i), lo;
			uint32_t cp;

			p->i -= 2;
			if (hi < 0) {
				free(b.d);
				return error(p, "bad \\u escape (want 4 hex digits)");
			}
			cp = hi;
			p->i += 6;
			if (hi >= 0xd800 && hi <= 0xdbff) {
				/* a surrogate pair: \uD83D\uDE00 */
				if (p->s[p->i] != '\\' || p->s[p->i + 1] != 'u' ||
				    (lo = hex4(p->s + p->i + 2)) < 0xdc00 || lo > 0xdfff) {
					free(b.d);
					return error(p, "unpaired surrogate \\u%04x", hi);
				}
				cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
				p->i += 6;
			} else if (hi >= 0xdc00 && hi <= 0xdfff) {
				free(b.d);
				return error(p, "unpaired surrogate \\u%04x", hi);
			} else if (!hi) {
				/* C strings end at NUL: refuse rather than truncate */
				free(b.d);
				return error(p, "\\u0000 in string");
			}
			n = utf8_encode(enc, cp);
			break;
		}
		default:
			p->i -= 2;
			free(b.d);
			return error(p, "bad escape in string: \\ then %s", describe(c));
		}
		if (!buf_put(&b, enc, n))
			goto oom;
	}
	if (out)
		*out = b.d;
	else
		free(b.d);
	return true;
oom:
	free(b.d);
	return error(p, "out of memory");
}

/* RFC 8259 number grammar, exactly: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool parse_number(struct parser *p, struct json_number *num)
{
	size_t start = p->i, k = p->i;
	bool integer = true;
	char *end;

	if (p->s[k] != '-' && !(p->s[k] >= '0' && p->s[k] <= '9'))
		return error(p, "expected a value, got %s", describe(p->s[k]));
	if (p->s[k] == '-')
		k++;
	if (p->s[k] == '0') {
		if (p->s[++k] >= '0' && p->s[k] <= '9')
			return p->i = k, error(p, "bad number (leading zero)");
	} else if (p->s[k] >= '1' && p->s[k] <= '9')
		while (p->s[k] >= '0' && p->s[k] <= '9')
			k++;
	else
		return p->i = k, error(p, "bad number");
	if (p->s[k] == '.') {
		integer = false;
		if (!(p->s[++k] >= '0' && p->s[k] <= '9'))
			return p->i = k, error(p, "bad number (digit expected after '.')");
		while (p->s[k] >= '0' && p->s[k] <= '9')
			k++;
	}
	if (p->s[k] == 'e' || p->s[k] == 'E') {
		integer = false;
		k++;
		if (p->s[k] == '+' || p->s[k] == '-')
			k++;
		if (!(p->s[k] >= '0' && p->s[k] <= '9'))
			return p->i = k, error(p, "bad number (digit expected in exponent)");
		while (p->s[k] >= '0' && p->s[k] <= '9')
			k++;
	}
	num->d = strtod(p->s + start, &end);
	num->is_uint = false;
	num->u = 0;
	if (integer && p->s[start] != '-') {
		errno = 0;
		num->u = strtoull(p->s + start, &end, 10);
		num->is_uint = !errno;
	}
	p->i = k;
	return true;
}

static bool match_word(struct parser *p, const char *w)
{
	size_t n = strlen(w);

	if (strncmp(p->s + p->i, w, n))
		return false;
	p->i += n;
	return true;
}

static bool skip_value(struct parser *p, int depth);

/* An array or object nobody reads, checked for syntax only. */
static bool skip_container(struct parser *p, int depth)
{
	char close = p->s[p->i] == '[' ? ']' : '}';

	if (depth > MAX_DEPTH)
		return error(p, "nested deeper than %d", MAX_DEPTH);
	p->i++;
	skip_ws(p);
	if (p->s[p->i] == close) {
		p->i++;
		return true;
	}
	for (;;) {
		skip_ws(p);
		if (close == '}') {
			if (p->s[p->i] != '"')
				return error(p, "expected a key, got %s", describe(p->s[p->i]));
			if (!parse_string(p, NULL))
				return false;
			skip_ws(p);
			if (p->s[p->i] != ':')
				return error(p, "expected ':' after key");
			p->i++;
		}
		if (!skip_value(p, depth + 1))
			return false;
		skip_ws(p);
		if (p->s[p->i] == close) {
			p->i++;
			return true;
		}
		if (p->s[p->i] != ',')
			return error(p, "expected ',' or '%c', got %s", close, describe(p->s[p->i]));
		p->i++;
	}
}

static bool skip_value(struct parser *p, int depth)
{
	struct json_number num;

	skip_ws(p);
	switch (p->s[p->i]) {
	case '"':
		return parse_string(p, NULL);
	case '[': case '{':
		return skip_container(p, depth);
	case 't': case 'f': case 'n':
		if (match_word(p, "true") || match_word(p, "false") || match_word(p, "null"))
			return true;
		return error(p, "bad literal");
	default:
		return parse_number(p, &num);
	}
}

/* A top-level array: kept if it holds only numbers, else checked and
 * marked JSON_OTHER. */
static bool parse_array(struct parser *p, struct json_member *m)
{
	size_t start = p->i, cap = 0;

	m->type = JSON_NUMBERS;
	p->i++;
	skip_ws(p);
	if (p->s[p->i] == ']') {
		p->i++;
		return true;
	}
	for (;;) {
		char c;

		skip_ws(p);
		c = p->s[p->i];
		if (c != '-' && !(c >= '0' && c <= '9')) {
			/* not all numbers: re-read it as a value nobody reads */
			free(m->nums);
			m->nums = NULL;
			m->n = 0;
			m->type = JSON_OTHER;
			p->i = start;
			return skip_container(p, 1);
		}
		if (m->n == cap) {
			struct json_number *nums;

			cap = cap ? 2 * cap : 8;
			nums = realloc(m->nums, cap * sizeof(*nums));
			if (!nums)
				return error(p, "out of memory");
			m->nums = nums;
		}
		if (!parse_number(p, &m->nums[m->n++]))
			return false;
		skip_ws(p);
		if (p->s[p->i] == ']') {
			p->i++;
			return true;
		}
		if (p->s[p->i] != ',')
			return error(p, "expected ',' or ']', got %s", describe(p->s[p->i]));
		p->i++;
	}
}

static bool parse_member_value(struct parser *p, struct json_member *m)
{
	skip_ws(p);
	switch (p->s[p->i]) {
	case '"':
		m->type = JSON_STRING;
		return parse_string(p, &m->str);
	case '[':
		return parse_array(p, m);
	case '{':
		m->type = JSON_OTHER;
		return skip_container(p, 1);
	case 't':
	case 'f':
		m->type = JSON_BOOL;
		m->b = p->s[p->i] == 't';
		if (match_word(p, m->b ? "true" : "false"))
			return true;
		return error(p, "bad literal");
	case 'n':
		m->type = JSON_NULL;
		if (match_word(p, "null"))
			return true;
		return error(p, "bad literal");
	case 0:
		return error(p, "value missing");
	default:
		m->type = JSON_NUMBER;
		return parse_number(p, &m->num);
	}
}

const struct json_member *json_get(const struct json_object *obj, const char *key)
{
	for (size_t k = 0; k < obj->n; k++)
		if (!strcmp(obj->m[k].key, key))
			return &obj->m[k];
	return NULL;
}

static struct json_member *new_member(struct parser *p, struct json_object *obj)
{
	if (obj->n == obj->cap) {
		size_t cap = obj->cap ? 2 * obj->cap : 16;
		struct json_member *m = realloc(obj->m, cap * sizeof(*m));

		if (!m) {
			error(p, "out of memory");
			return NULL;
		}
		obj->m = m;
		obj->cap = cap;
	}
	memset(&obj->m[obj->n], 0, sizeof(obj->m[0]));
	return &obj->m[obj->n++];
}

bool json_line_parse(const char *line, struct json_object *obj, char *why, size_t why_len)
{
	struct parser p = { .s = line, .why = why, .why_len = why_len };

	memset(obj, 0, sizeof(*obj));
	skip_ws(&p);
	if (p.s[p.i] != '{')
		return error(&p, "expected '{', got %s", describe(p.s[p.i]));
	p.i++;
	skip_ws(&p);
	if (p.s[p.i] == '}') {
		p.i++;
		goto end;
	}
	for (;;) {
		struct json_member *m;
		char *key;

		skip_ws(&p);
		if (p.s[p.i] != '"')
			return error(&p, "expected a key, got %s", describe(p.s[p.i]));
		if (!parse_string(&p, &key))
			return false;
		if (json_get(obj, key)) {
			error(&p, "key \"%.40s\" given twice", key);
			free(key);
			return false;
		}
		m = new_member(&p, obj);
		if (!m) {
			free(key);
			return false;
		}
		m->key = key;
		skip_ws(&p);
		if (p.s[p.i] != ':')
			return error(&p, "expected ':' after key, got %s", describe(p.s[p.i]));
		p.i++;
		if (!parse_member_value(&p, m))
			return false;
		skip_ws(&p);
		if (p.s[p.i] == '}') {
			p.i++;
			break;
		}
		if (p.s[p.i] != ',')
			return error(&p, "expected ',' or '}', got %s", describe(p.s[p.i]));
		p.i++;
	}
end:
	skip_ws(&p);
	if (p.s[p.i])
		return error(&p, "text after the object (one object per line)");
	return true;
}

void json_object_free(struct json_object *obj)
{
	for (size_t k = 0; k < obj->n; k++) {
		free(obj->m[k].key);
		free(obj->m[k].str);
		free(obj->m[k].nums);
	}
	free(obj->m);
	memset(obj, 0, sizeof(*obj));
}
