/*
 * host.h - the core's implementation of oc_host_t.
 */
#ifndef OCMOD_HOST_H
#define OCMOD_HOST_H

#include "oc-host.h"

const oc_host_t *host_table(void);
void host_set_role(uint32_t role);
void host_set_event_base(struct event_base *base);

/* Implemented by worker.c (transports' half of the table). */
int worker_auth_query(oc_conn_t *conn, const oc_auth_query_t *q,
                      oc_auth_answer_fn cb, void *arg);
int worker_session_open(oc_conn_t *conn, const oc_session_request_t *req,
                        oc_session_open_fn cb, void *arg);
int worker_tun_write(oc_conn_t *conn, const uint8_t *pkt, size_t len);
void worker_conn_close(oc_conn_t *conn, int reason);
void worker_conn_set_info(oc_conn_t *conn, const char *key, const char *value);
const char *worker_conn_peer_text(oc_conn_t *conn);
void worker_conn_vlog(oc_conn_t *conn, int level, const char *fmt, va_list ap);
int worker_channel_offer(oc_conn_t *parent, const oc_channel_offer_t *offer,
                         char *hdrs, size_t cap, size_t *len_r);
int worker_conn_set_channel_key(oc_conn_t *parent, const uint8_t *key, size_t len);
oc_instance_t *worker_conn_instance(oc_conn_t *conn);
int worker_compress_select(oc_conn_t *conn, const char *accepted, oc_compressor_t *c_r);
void worker_compress_release(oc_conn_t *conn, oc_compressor_t *c);
int worker_conn_open(oc_instance_t *self, const oc_sockaddr_t *peer,
                     const oc_sockaddr_t *local, void *ts, oc_conn_t **conn_r);
int worker_flow_key(oc_instance_t *self, const uint8_t *key, size_t len, bool add);

/* Implemented by keycli.c (private keys held by sec-mod). */
int host_key_open(oc_instance_t *self, const char *option, oc_key_t **key_r,
                  oc_key_info_t *info, oc_error_t *err);
int host_key_sign(oc_key_t *key, uint32_t hash_alg, const uint8_t *hash,
                  size_t hash_len, uint8_t *sig, size_t cap, size_t *sig_len_r);
void host_key_close(oc_key_t *key);

#endif
