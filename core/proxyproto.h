/*
 * proxyproto.h - the PROXY protocol header a load balancer (haproxy
 * `send-proxy` / `send-proxy-v2`) puts in front of a TCP connection, so the
 * server learns the client's real address (listen-proxy-proto).
 *
 * Version 1 is one text line ("PROXY TCP4 src dst sport dport\r\n", at most
 * 107 bytes); version 2 is a 16-byte binary header (12-byte signature,
 * version/command, family, length) followed by the addresses and optional
 * TLVs.  The parser is pure (no I/O) and strict: anything that is not a
 * well-formed header is refused.
 */
#ifndef OCMOD_PROXYPROTO_H
#define OCMOD_PROXYPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PP_V1_MAX 107
/* the longest v2 header accepted: 16 bytes + addresses and TLVs */
#define PP_MAX 1024

struct pp_result {
	int version;                     /* 1 or 2 */
	bool local;                      /* v1 UNKNOWN, v2 LOCAL or a non-TCP family:
	                                    keep the connection's own addresses */
	struct sockaddr_storage src, dst;
	socklen_t src_len, dst_len;
};

/*
 * Look at the first @p len bytes of a connection.  Returns the length of
 * the header (> 0) when @p buf starts with a complete, valid one (*r filled
 * in); 0 when every byte so far can be the start of a header and more are
 * needed (so they all belong to it); OC_E_PROTO when it is not a header.
 */
int pp_parse(const uint8_t *buf, size_t len, struct pp_result *r);

#endif
