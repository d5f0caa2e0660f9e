/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* jsonw.h: a small streaming JSON writer (commas and nesting handled). */
#ifndef CS_JSONW_H
#define CS_JSONW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CS_JSON_DEPTH 32

struct cs_jsonw {
	FILE *f;
	int depth;
	bool need_comma[CS_JSON_DEPTH];
	bool after_key;
};

void cs_json_init(struct cs_jsonw *w, FILE *f);
void cs_json_obj_begin(struct cs_jsonw *w);
void cs_json_obj_end(struct cs_jsonw *w);
void cs_json_arr_begin(struct cs_jsonw *w);
void cs_json_arr_end(struct cs_jsonw *w);
void cs_json_key(struct cs_jsonw *w, const char *key);
void cs_json_str(struct cs_jsonw *w, const char *s);
void cs_json_u64(struct cs_jsonw *w, uint64_t v);
void cs_json_i64(struct cs_jsonw *w, int64_t v);
void cs_json_double(struct cs_jsonw *w, double v);
void cs_json_bool(struct cs_jsonw *w, bool v);

/* key + value shorthands */
void cs_json_kstr(struct cs_jsonw *w, const char *key, const char *s);
void cs_json_ku64(struct cs_jsonw *w, const char *key, uint64_t v);
void cs_json_ki64(struct cs_jsonw *w, const char *key, int64_t v);
void cs_json_kdouble(struct cs_jsonw *w, const char *key, double v);
void cs_json_kbool(struct cs_jsonw *w, const char *key, bool v);

#endif
