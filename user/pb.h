/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * pb.h: the few protobuf wire-format primitives the Perfetto writer and
 * reader need, and nothing more.
 *
 * Encoding appends to a growable byte buffer that is reused (reset, never
 * freed) between messages, so the hot path does not allocate once buffers
 * have reached their working size. An allocation failure is sticky: the
 * buffer stops growing, records -ENOMEM in err and ignores further writes.
 *
 * Decoding is bounded: every read checks the end of its input, varints are
 * at most 10 bytes, lengths never run past the enclosing message. Nothing
 * is allocated.
 */
#ifndef CS_PB_H
#define CS_PB_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pb_wt {
	PB_VARINT = 0,
	PB_I64 = 1,
	PB_LEN = 2,
	PB_I32 = 5,
};

#define PB_MAX_FIELD ((1u << 29) - 1)
#define PB_VARINT_MAX 10

/* Decoder errors. */
#define PB_ETRUNC (-ENODATA) /* the input ends inside a varint or a field */
#define PB_EBAD (-EINVAL)    /* malformed: overlong varint, bad tag, ... */

/* ---- encoding ---- */

struct pb_buf {
	uint8_t *p;
	size_t len, cap;
	int err; /* 0 or -ENOMEM, sticky */
};

void pb_buf_init(struct pb_buf *b);
void pb_buf_free(struct pb_buf *b);
static inline void pb_buf_reset(struct pb_buf *b) { b->len = 0; }
/* Make room for n more bytes; 0 or -ENOMEM (then b->err is set). */
int pb_buf_reserve(struct pb_buf *b, size_t n);

size_t pb_varint_len(uint64_t v);
static inline uint64_t pb_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
static inline int64_t pb_unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

void pb_raw(struct pb_buf *b, const void *data, size_t len);
void pb_varint_slow(struct pb_buf *b, uint64_t v);
/* One varint; the one-byte case with room (most values) inline. */
static inline void pb_varint(struct pb_buf *b, uint64_t v)
{
	if (v < 0x80 && b->len < b->cap && !b->err)
		b->p[b->len++] = (uint8_t)v;
	else
		pb_varint_slow(b, v);
}
void pb_tag(struct pb_buf *b, uint32_t field, enum pb_wt wt);

/* One field each: tag + value. */
void pb_uint(struct pb_buf *b, uint32_t field, uint64_t v);   /* uint32/64, enum */
void pb_int(struct pb_buf *b, uint32_t field, int64_t v);     /* int32/64: 10 bytes if < 0 */
void pb_sint(struct pb_buf *b, uint32_t field, int64_t v);    /* sint32/64 (zigzag) */
void pb_bool(struct pb_buf *b, uint32_t field, bool v);
void pb_bytes(struct pb_buf *b, uint32_t field, const void *data, size_t len);
void pb_str(struct pb_buf *b, uint32_t field, const char *s);
/* A string of at most max bytes, cut at the first NUL (for char arrays). */
void pb_strn(struct pb_buf *b, uint32_t field, const char *s, size_t max);
/* A packed repeated field whose payload (concatenated varints) is in arr;
 * nothing is written when arr is empty. */
void pb_packed(struct pb_buf *b, uint32_t field, const struct pb_buf *arr);
/* Tag and length of a LEN field whose len bytes the caller appends next. */
void pb_len_hdr(struct pb_buf *b, uint32_t field, size_t len);

/*
 * Nested message with a back-patched length: pb_nest_begin() writes the tag
 * and a one-byte length placeholder and returns a mark; pb_nest_end() writes
 * the real length, moving the body up when it needs more than one byte, so
 * the output is the canonical (shortest) encoding.
 */
size_t pb_nest_begin(struct pb_buf *b, uint32_t field);
void pb_nest_end(struct pb_buf *b, size_t mark);

/* ---- decoding ---- */

struct pb_dec {
	const uint8_t *p, *end;
};

struct pb_field {
	uint32_t num;
	enum pb_wt wt;
	uint64_t u;          /* VARINT, I64 and I32 values */
	const uint8_t *data; /* LEN payload */
	size_t len;
};

static inline void pb_dec_init(struct pb_dec *d, const void *data, size_t len)
{
	d->p = data;
	d->end = len ? d->p + len : d->p; /* no arithmetic on NULL */
}
static inline bool pb_dec_done(const struct pb_dec *d) { return d->p >= d->end; }

/* 0, PB_ETRUNC or PB_EBAD (more than 10 bytes, or bits beyond 64). */
int pb_get_varint(struct pb_dec *d, uint64_t *v);
/* Tag: field number 1..2^29-1 and a supported wire type (no groups). */
int pb_get_tag(struct pb_dec *d, uint32_t *field, enum pb_wt *wt);
/* The next field: 1, 0 at the end of the input, or an error. */
int pb_next(struct pb_dec *d, struct pb_field *f);
/* Cursor over a LEN field's payload (a sub-message or packed varints). */
static inline void pb_sub(struct pb_dec *d, const struct pb_field *f)
{
	pb_dec_init(d, f->data, f->len);
}
/* Number of varints in a packed payload, or an error. */
long pb_count_varints(const uint8_t *data, size_t len);

#endif
