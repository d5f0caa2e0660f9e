/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * cs-proto.h: the wire protocol between cs-workload (client) and
 * cs-ioserver (the stand-in database / web API).
 *
 * A request is exactly CS_REQ_SIZE bytes. The server sends the same bytes
 * back, unchanged, after its fixed latency. A client may pipeline requests
 * on one connection; each one is answered separately, in order.
 *
 * cs-workload fills a request as:
 *   bytes  0..3  magic "CSRQ"
 *   bytes  4..7  task number, little endian
 *   bytes  8..15 request sequence number within the task, little endian
 * and checks that the reply is byte-for-byte the request it sent. The
 * server does not look inside.
 *
 * Header-only so that cs-ioserver stays a single .c file.
 */
#ifndef CS_PROTO_H
#define CS_PROTO_H

#include <stdint.h>
#include <string.h>

#define CS_REQ_SIZE 16
#define CS_REQ_MAGIC "CSRQ"

static inline void cs_req_fill(unsigned char req[CS_REQ_SIZE], uint32_t task,
			       uint64_t seq)
{
	memcpy(req, CS_REQ_MAGIC, 4);
	for (int i = 0; i < 4; i++)
		req[4 + i] = (unsigned char)(task >> (8 * i));
	for (int i = 0; i < 8; i++)
		req[8 + i] = (unsigned char)(seq >> (8 * i));
}

#endif /* CS_PROTO_H */
