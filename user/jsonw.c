// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <inttypes.h>
#include <math.h>
#include "jsonw.h"

void cs_json_init(struct cs_jsonw *w, FILE *f)
{
	w->f = f;
	w->depth = 0;
	w->need_comma[0] = false;
	w->after_key = false;
}

/* Separator before a value or key at the current level. */
static void sep(struct cs_jsonw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->need_comma[w->depth])
		fputc(',', w->f);
	w->need_comma[w->depth] = true;
}

static void open_(struct cs_jsonw *w, char ch)
{
	sep(w);
	fputc(ch, w->f);
	if (w->depth < CS_JSON_DEPTH - 1)
		w->depth++;
	w->need_comma[w->depth] = false;
}

static void close_(struct cs_jsonw *w, char ch)
{
	if (w->depth > 0)
		w->depth--;
	fputc(ch, w->f);
	if (w->depth == 0)
		fputc('\n', w->f);
}

void cs_json_obj_begin(struct cs_jsonw *w) { open_(w, '{'); }
void cs_json_obj_end(struct cs_jsonw *w) { close_(w, '}'); }
void cs_json_arr_begin(struct cs_jsonw *w) { open_(w, '['); }
void cs_json_arr_end(struct cs_jsonw *w) { close_(w, ']'); }

static void put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

void cs_json_key(struct cs_jsonw *w, const char *key)
{
	sep(w);
	put_string(w->f, key);
	fputc(':', w->f);
	w->after_key = true;
}

void cs_json_str(struct cs_jsonw *w, const char *s)
{
	sep(w);
	put_string(w->f, s);
}

void cs_json_u64(struct cs_jsonw *w, uint64_t v)
{
	sep(w);
	fprintf(w->f, "%" PRIu64, v);
}

void cs_json_i64(struct cs_jsonw *w, int64_t v)
{
	sep(w);
	fprintf(w->f, "%" PRId64, v);
}

void cs_json_double(struct cs_jsonw *w, double v)
{
	sep(w);
	if (isfinite(v))
		fprintf(w->f, "%.6g", v);
	else
		fputs("null", w->f);
}

void cs_json_bool(struct cs_jsonw *w, bool v)
{
	sep(w);
	fputs(v ? "true" : "false", w->f);
}

void cs_json_kstr(struct cs_jsonw *w, const char *key, const char *s)
{
	cs_json_key(w, key);
	cs_json_str(w, s);
}

void cs_json_ku64(struct cs_jsonw *w, const char *key, uint64_t v)
{
	cs_json_key(w, key);
	cs_json_u64(w, v);
}

void cs_json_ki64(struct cs_jsonw *w, const char *key, int64_t v)
{
	cs_json_key(w, key);
	cs_json_i64(w, v);
}

void cs_json_kdouble(struct cs_jsonw *w, const char *key, double v)
{
	cs_json_key(w, key);
	cs_json_double(w, v);
}

void cs_json_kbool(struct cs_jsonw *w, const char *key, bool v)
{
	cs_json_key(w, key);
	cs_json_bool(w, v);
}
