/*
 * conf.h - the core's own settings from the main config file (ocserv.conf
 * names), held in a struct filled through the same typed option machinery
 * as module options (options.h).
 */
#ifndef OCMOD_CONF_H
#define OCMOD_CONF_H

#include <stdbool.h>
#include <stdint.h>
#include "oc-option.h"

struct core_conf {
	char *run_as_user, *run_as_group;
	char *socket_file, *occtl_socket_file, *pid_file;
	bool use_occtl;
	char *device;
	char *ipv4_network, *ipv4_netmask;
	char *ipv6_network;
	int64_t ipv6_subnet_prefix;
	oc_strlist_t dns, ipv4_dns, ipv6_dns, nbns;
	oc_strlist_t route, no_route, split_dns;
	char *default_domain, *banner, *pre_login_banner;
	int64_t mtu;
	int64_t dpd, mobile_dpd, keepalive;
	int64_t idle_timeout, mobile_idle_timeout, session_timeout;
	int64_t cookie_timeout;
	int64_t max_clients, max_same_clients;
	bool tunnel_all_dns;
	oc_strlist_t select_group;
	char *default_select_group;
	bool auto_select_group;
	int64_t workers;
	int64_t sessions_per_worker;
	int64_t log_level;
	bool isolate_workers;
	int64_t auth_offload_threads;
	bool compression;
	int64_t no_compress_limit;
	oc_strlist_t compression_algo_priority;
	/* per-user / per-group configuration (usercfg.h) */
	char *config_per_user, *config_per_group;
	char *default_user_config, *default_group_config;
	bool append_routes;
	int64_t stats_report_time;
	bool no_udp, deny_roaming, restrict_user_to_routes;
	char *restrict_user_to_ports;
	int64_t rx_data_per_sec, tx_data_per_sec;
	/* ban points (main) */
	int64_t max_ban_score, ban_reset_time, ban_time;
	int64_t ban_points_wrong_password, ban_points_connection;
	/* scripts and iroutes (main: hooks.c) */
	char *connect_script, *disconnect_script, *host_update_script;
	char *route_add_cmd, *route_del_cmd;
	int64_t script_timeout;
	/* PROXY protocol on the TCP listeners (main: proxyproto.c) */
	bool listen_proxy_proto;
	/* a user logout (BYE) keeps the cookie until it expires (sec-mod) */
	bool persistent_cookies;
};

/* The core option table ({0}-terminated). */
extern const oc_option_t core_options[];

/* True if @p key is an ocserv option ocmod accepts but does not implement
 * yet (it gets a warning naming it, not an error). */
bool conf_known_unimplemented(const char *key);

/* The in-tree module (e.g. "transport dtls") that implements ocserv
 * option @p key, or NULL. */
const char *conf_module_of(const char *key);

/* True if @p key may only be set in the global section (not in a
 * [vhost:NAME] section), as in ocserv's sample config. */
bool conf_is_global_only(const char *key);

/* True if @p key is handled specially by the generation builder
 * (auth, enable-auth, acct). */
bool conf_is_method_key(const char *key);

#endif
