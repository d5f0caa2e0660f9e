// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <stdlib.h>
#include <string.h>
#include "pb.h"

/* ---- encoding ---- */

void pb_buf_init(struct pb_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void pb_buf_free(struct pb_buf *b)
{
	free(b->p);
	pb_buf_init(b);
}

int pb_buf_reserve(struct pb_buf *b, size_t n)
{
	size_t cap;
	void *p;

	if (b->err)
		return b->err;
	if (b->cap - b->len >= n)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap - b->len < n) {
		if (cap > SIZE_MAX / 2) {
			b->err = -ENOMEM;
			return b->err;
		}
		cap *= 2;
	}
	p = realloc(b->p, cap);
	if (!p) {
		b->err = -ENOMEM;
		return b->err;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

size_t pb_varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

void pb_raw(struct pb_buf *b, const void *data, size_t len)
{
	if (!len || pb_buf_reserve(b, len))
		return;
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

void pb_varint_slow(struct pb_buf *b, uint64_t v)
{
	if (pb_buf_reserve(b, PB_VARINT_MAX))
		return;
	b->len += put_varint(b->p + b->len, v);
}

void pb_tag(struct pb_buf *b, uint32_t field, enum pb_wt wt)
{
	pb_varint(b, ((uint64_t)field << 3) | (unsigned int)wt);
}

void pb_uint(struct pb_buf *b, uint32_t field, uint64_t v)
{
	pb_tag(b, field, PB_VARINT);
	pb_varint(b, v);
}

void pb_int(struct pb_buf *b, uint32_t field, int64_t v)
{
	pb_uint(b, field, (uint64_t)v);
}

void pb_sint(struct pb_buf *b, uint32_t field, int64_t v)
{
	pb_uint(b, field, pb_zigzag(v));
}

void pb_bool(struct pb_buf *b, uint32_t field, bool v)
{
	pb_uint(b, field, v ? 1 : 0);
}

void pb_len_hdr(struct pb_buf *b, uint32_t field, size_t len)
{
	pb_tag(b, field, PB_LEN);
	pb_varint(b, len);
}

void pb_bytes(struct pb_buf *b, uint32_t field, const void *data, size_t len)
{
	pb_len_hdr(b, field, len);
	pb_raw(b, data, len);
}

void pb_str(struct pb_buf *b, uint32_t field, const char *s)
{
	pb_bytes(b, field, s, strlen(s));
}

void pb_strn(struct pb_buf *b, uint32_t field, const char *s, size_t max)
{
	pb_bytes(b, field, s, strnlen(s, max));
}

void pb_packed(struct pb_buf *b, uint32_t field, const struct pb_buf *arr)
{
	if (arr->len)
		pb_bytes(b, field, arr->p, arr->len);
}

size_t pb_nest_begin(struct pb_buf *b, uint32_t field)
{
	pb_tag(b, field, PB_LEN);
	if (pb_buf_reserve(b, 1))
		return 0;
	b->p[b->len++] = 0;
	return b->len;
}

void pb_nest_end(struct pb_buf *b, size_t mark)
{
	size_t body, n;

	if (b->err || !mark || mark > b->len)
		return;
	body = b->len - mark;
	n = pb_varint_len(body);
	if (n > 1) {
		if (pb_buf_reserve(b, n - 1))
			return;
		memmove(b->p + mark + n - 1, b->p + mark, body);
		b->len += n - 1;
	}
	put_varint(b->p + mark - 1, body);
}

/* ---- decoding ---- */

int pb_get_varint(struct pb_dec *d, uint64_t *v)
{
	uint64_t x = 0;
	unsigned int i;

	for (i = 0; i < PB_VARINT_MAX; i++) {
		uint8_t c;

		if (d->p + i >= d->end)
			return PB_ETRUNC;
		c = d->p[i];
		if (i == PB_VARINT_MAX - 1 && c > 1)
			return PB_EBAD; /* bits beyond 64, or an 11th byte */
		x |= (uint64_t)(c & 0x7f) << (7 * i);
		if (!(c & 0x80)) {
			d->p += i + 1;
			*v = x;
			return 0;
		}
	}
	return PB_EBAD;
}

static int get_le(struct pb_dec *d, unsigned int n, uint64_t *v)
{
	uint64_t x = 0;
	unsigned int i;

	if ((size_t)(d->end - d->p) < n)
		return PB_ETRUNC;
	for (i = 0; i < n; i++)
		x |= (uint64_t)d->p[i] << (8 * i);
	d->p += n;
	*v = x;
	return 0;
}

int pb_get_tag(struct pb_dec *d, uint32_t *field, enum pb_wt *wt)
{
	uint64_t t;
	int err = pb_get_varint(d, &t);

	if (err)
		return err;
	if ((t >> 3) == 0 || (t >> 3) > PB_MAX_FIELD)
		return PB_EBAD;
	switch (t & 7) {
	case PB_VARINT:
	case PB_I64:
	case PB_LEN:
	case PB_I32:
		break;
	default:
		return PB_EBAD; /* groups (3, 4) and 6, 7 */
	}
	*field = (uint32_t)(t >> 3);
	*wt = (enum pb_wt)(t & 7);
	return 0;
}

static int get_len(struct pb_dec *d, const uint8_t **data, size_t *len)
{
	uint64_t n;
	int err = pb_get_varint(d, &n);

	if (err)
		return err;
	if (n > (uint64_t)(d->end - d->p))
		return PB_ETRUNC;
	*data = d->p;
	*len = (size_t)n;
	d->p += n;
	return 0;
}

int pb_next(struct pb_dec *d, struct pb_field *f)
{
	int err;

	if (pb_dec_done(d))
		return 0;
	err = pb_get_tag(d, &f->num, &f->wt);
	if (err)
		return err;
	f->u = 0;
	f->data = NULL;
	f->len = 0;
	switch (f->wt) {
	case PB_VARINT:
		err = pb_get_varint(d, &f->u);
		break;
	case PB_I64:
		err = get_le(d, 8, &f->u);
		break;
	case PB_I32:
		err = get_le(d, 4, &f->u);
		break;
	case PB_LEN:
		err = get_len(d, &f->data, &f->len);
		break;
	}
	return err ? err : 1;
}

long pb_count_varints(const uint8_t *data, size_t len)
{
	struct pb_dec d;
	long n = 0;
	uint64_t v;
	int err;

	pb_dec_init(&d, data, len);
	while (!pb_dec_done(&d)) {
		err = pb_get_varint(&d, &v);
		if (err)
			return err;
		n++;
	}
	return n;
}
