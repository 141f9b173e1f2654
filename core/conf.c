/*
 * conf.c - the core option table (ocserv.conf names).
 */
#include "config.h"
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "conf.h"

#define O(n, t, f, m, d, h) \
	{ n, t, f, offsetof(struct core_conf, m), d, NULL, 0, 0, NULL, h }
#define OR(n, t, f, m, d, lo, hi, h) \
	{ n, t, f, offsetof(struct core_conf, m), d, NULL, lo, hi, NULL, h }

const oc_option_t core_options[] = {
	O("run-as-user", OC_OPT_STR, 0, run_as_user, "nobody", "user the workers run as"),
	O("run-as-group", OC_OPT_STR, 0, run_as_group, "nogroup", "group the workers run as"),
	O("socket-file", OC_OPT_STR, 0, socket_file, NULL, "accepted for ocserv compatibility (ocmod uses socketpairs)"),
	O("occtl-socket-file", OC_OPT_STR, 0, occtl_socket_file, "/var/run/ocmod.socket", "control socket for ocmodctl"),
	O("use-occtl", OC_OPT_BOOL, 0, use_occtl, "true", "enable the control socket"),
	O("pid-file", OC_OPT_STR, 0, pid_file, NULL, "write the main process id here"),
	O("device", OC_OPT_STR, 0, device, "vpns", "tun device name prefix"),
	O("ipv4-network", OC_OPT_STR, 0, ipv4_network, NULL, "IPv4 address pool network (a.b.c.d or CIDR)"),
	O("ipv4-netmask", OC_OPT_STR, 0, ipv4_netmask, NULL, "IPv4 pool netmask"),
	O("ipv6-network", OC_OPT_STR, 0, ipv6_network, NULL, "IPv6 pool network (prefix/length)"),
	OR("ipv6-subnet-prefix", OC_OPT_INT, 0, ipv6_subnet_prefix, NULL, 0, 128, "prefix length given to each client (default 128)"),
	O("dns", OC_OPT_LIST, 0, dns, NULL, "DNS servers pushed to clients"),
	O("ipv4-dns", OC_OPT_LIST, 0, ipv4_dns, NULL, "IPv4 DNS servers pushed to clients"),
	O("ipv6-dns", OC_OPT_LIST, 0, ipv6_dns, NULL, "IPv6 DNS servers pushed to clients"),
	O("nbns", OC_OPT_LIST, 0, nbns, NULL, "NBNS (WINS) servers pushed to clients"),
	O("route", OC_OPT_LIST, 0, route, NULL, "routes pushed to clients (net/mask, CIDR or default)"),
	O("no-route", OC_OPT_LIST, 0, no_route, NULL, "routes excluded from the tunnel"),
	O("split-dns", OC_OPT_LIST, 0, split_dns, NULL, "domains resolved through the tunnel DNS"),
	O("default-domain", OC_OPT_STR, 0, default_domain, NULL, "DNS search domain(s) pushed"),
	O("banner", OC_OPT_STR, 0, banner, NULL, "post-login banner"),
	O("pre-login-banner", OC_OPT_STR, 0, pre_login_banner, NULL, "banner shown before login"),
	OR("mtu", OC_OPT_INT, 0, mtu, NULL, 0, 65535, "tunnel MTU (default: computed from the client's link MTU)"),
	OR("dpd", OC_OPT_INT, 0, dpd, "90", 0, 86400, "dead peer detection interval (s)"),
	OR("mobile-dpd", OC_OPT_INT, 0, mobile_dpd, "1800", 0, 86400, "DPD interval for mobile clients (s)"),
	OR("keepalive", OC_OPT_INT, 0, keepalive, "300", 0, 86400, "keepalive interval (s)"),
	OR("idle-timeout", OC_OPT_INT, 0, idle_timeout, "0", 0, INT32_MAX, "disconnect after this many idle seconds (0 = never)"),
	OR("mobile-idle-timeout", OC_OPT_INT, 0, mobile_idle_timeout, "0", 0, INT32_MAX, "idle timeout for mobile clients (s)"),
	OR("session-timeout", OC_OPT_INT, 0, session_timeout, "0", 0, INT32_MAX, "maximum session length (s, 0 = unlimited)"),
	OR("cookie-timeout", OC_OPT_INT, 0, cookie_timeout, "300", 1, INT32_MAX, "cookie validity after a disconnect (s)"),
	OR("max-clients", OC_OPT_INT, 0, max_clients, "0", 0, INT32_MAX, "maximum sessions (0 = unlimited)"),
	OR("max-same-clients", OC_OPT_INT, 0, max_same_clients, "2", 0, INT32_MAX, "maximum sessions per user (0 = unlimited)"),
	O("tunnel-all-dns", OC_OPT_BOOL, 0, tunnel_all_dns, "false", "send all DNS through the tunnel"),
	O("select-group", OC_OPT_LIST, 0, select_group, NULL, "groups offered at login (name[Label])"),
	O("default-select-group", OC_OPT_STR, 0, default_select_group, NULL, "group used when none is selected"),
	O("auto-select-group", OC_OPT_BOOL, 0, auto_select_group, "false", "offer the groups the auth method reports"),
	OR("workers", OC_OPT_INT, 0, workers, "0", 0, 256, "worker processes (0 = one per CPU)"),
	OR("sessions-per-worker", OC_OPT_INT, 0, sessions_per_worker, "0", 0, 1000000, "client connections a worker serves in its life (0 = unlimited: `workers` long-lived workers; 1 = ocserv's process per client, started on demand)"),
	OR("log-level", OC_OPT_INT, 0, log_level, NULL, 0, 5, "log verbosity (0 errors .. 5 debug3)"),
	O("isolate-workers", OC_OPT_BOOL, 0, isolate_workers, "false", "seccomp allow-list for workers: a system call outside it kills the worker"),
	OR("auth-offload-threads", OC_OPT_INT, 0, auth_offload_threads, "4", 1, 64, "threads running blocking auth steps in sec-mod"),
	O("compression", OC_OPT_BOOL, 0, compression, "false", "compress packets with a compress module the client also knows"),
	OR("no-compress-limit", OC_OPT_INT, 0, no_compress_limit, "256", 0, 65535, "packets shorter than this are sent uncompressed"),
	O("compression-algo-priority", OC_OPT_LIST, 0, compression_algo_priority, NULL, "NAME:PRIORITY overrides, e.g. lzs:100 (higher wins)"),
	O("config-per-user", OC_OPT_STR, 0, config_per_user, NULL, "directory of per-user config files (named after the user)"),
	O("config-per-group", OC_OPT_STR, 0, config_per_group, NULL, "directory of per-group config files (named after the group)"),
	O("default-user-config", OC_OPT_STR, 0, default_user_config, NULL, "per-user config used when the user has no file"),
	O("default-group-config", OC_OPT_STR, 0, default_group_config, NULL, "per-group config used when the group has no file"),
	O("append-routes", OC_OPT_BOOL, 0, append_routes, "false", "per-user/group routes add to the global ones instead of replacing them"),
	OR("stats-report-time", OC_OPT_INT, 0, stats_report_time, "0", 0, INT32_MAX, "interim accounting interval (s, 0 = none)"),
	O("deny-roaming", OC_OPT_BOOL, 0, deny_roaming, "false", "refuse a cookie used from another IP address"),
	OR("max-ban-score", OC_OPT_INT, 0, max_ban_score, "80", 0, INT32_MAX, "ban an IP address when its score reaches this (0 = no bans)"),
	OR("ban-reset-time", OC_OPT_INT, 0, ban_reset_time, "300", 1, INT32_MAX, "forget an address's score after this many quiet seconds"),
	OR("ban-time", OC_OPT_INT, 0, ban_time, "300", 1, INT32_MAX, "how long a banned address stays banned (s)"),
	OR("min-reauth-time", OC_OPT_INT, 0, ban_time, NULL, 1, INT32_MAX, "ocserv 1.1's name for ban-time"),
	OR("ban-points-wrong-password", OC_OPT_INT, 0, ban_points_wrong_password, "10", 0, INT32_MAX, "score added by a failed login"),
	OR("ban-points-connection", OC_OPT_INT, 0, ban_points_connection, "1", 0, INT32_MAX, "score added by every connection"),
	O("connect-script", OC_OPT_STR, 0, connect_script, NULL, "program run (as root) when a session starts; a non-zero exit refuses it"),
	O("disconnect-script", OC_OPT_STR, 0, disconnect_script, NULL, "program run (as root) when a session ends"),
	O("host-update-script", OC_OPT_STR, 0, host_update_script, NULL, "program run (as root) when a session's client hostname is known"),
	O("route-add-cmd", OC_OPT_STR, 0, route_add_cmd, NULL, "shell command installing an iroute (%{R} net/mask, %{RI} CIDR, %{D} device)"),
	O("route-del-cmd", OC_OPT_STR, 0, route_del_cmd, NULL, "shell command removing an iroute (same substitutions)"),
	OR("script-timeout", OC_OPT_INT, 0, script_timeout, "60", 1, 86400, "kill a script or route command still running after this many seconds"),
	O("listen-proxy-proto", OC_OPT_BOOL, 0, listen_proxy_proto, "false", "TCP connections start with a PROXY protocol v1/v2 header (haproxy in front)"),
	O("persistent-cookies", OC_OPT_BOOL, 0, persistent_cookies, "false", "a user's logout does not end the cookie; it stays valid until it expires"),
	{ 0 }
};

/* ocserv options not implemented yet: accepted with a warning so an
 * existing ocserv.conf keeps starting. Sorted for bsearch. */
static const char *const unimplemented[] = {
	"always-require-cert", "ban-points-kkdcp",
	"cgroup", "chroot-dir",
	"cisco-svc-client-compat", "client-bypass-protocol",
	"custom-header",
	"debug-no-secmod-stats", "dh-params",
	"expose-iroutes",
	"included-http-headers", "key-pin",
	"kkdcp", "limit-worker-memory", "listen-clear-file",
	"listen-host-is-dyndns", "listen-netns",
	"match-tls-dtls-ciphers", "net-priority", "no-udp", "ocsp-response",
	"output-buffer", "pin-file", "ping-leases",
	"predictable-ips", "proxy-url", "rate-limit-ms", "rekey-method",
	"rekey-time", "restrict-user-to-ports", "restrict-user-to-routes",
	"rx-data-per-sec",
	"sec-mod-scale", "select-group-by-url", "server-drain-ms",
	"server-stats-reset-time", "srk-pin", "srk-pin-file",
	"switch-to-tcp-timeout", "syslog-facility",
	"tls-priorities", "try-mtu-discovery", "tx-data-per-sec",
	"use-dbus", "use-seccomp", "use-utmp",
	"user-profile",
};

static int cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bool conf_known_unimplemented(const char *key)
{
	return bsearch(&key, unimplemented,
		       sizeof(unimplemented) / sizeof(unimplemented[0]),
		       sizeof(unimplemented[0]), cmp) != NULL;
}

/* ocserv options that in-tree modules implement: when the module is not
 * loaded, the warning says which module would use them. */
static const struct { const char *key, *module; } module_keys[] = {
	{ "ca-cert", "auth cert / transport cstp" },
	{ "camouflage", "transport cstp" },
	{ "camouflage_realm", "transport cstp" },
	{ "camouflage_secret", "transport cstp" },
	{ "cert-group-oid", "auth cert" },
	{ "cert-user-oid", "auth cert" },
	{ "crl", "auth cert" },
	{ "dtls-legacy", "transport dtls" },
	{ "dtls-psk", "transport dtls" },
	{ "udp-listen-host", "transport dtls" },
	{ "udp-port", "transport dtls" },
};

const char *conf_module_of(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(module_keys) / sizeof(module_keys[0]); i++)
		if (strcmp(module_keys[i].key, key) == 0)
			return module_keys[i].module;
	return NULL;
}

/* Global-only options (ocserv's doc/sample.config scopes, plus ocmod's
 * process and listener settings). Sorted for bsearch. */
static const char *const global_only[] = {
	"auth-offload-threads", "auth-timeout", "ban-points-connection",
	"ban-points-kkdcp", "ban-points-wrong-password", "ban-reset-time",
	"ban-time", "compression-algo-priority", "connect-script", "device",
	"disconnect-script", "dtls-psk", "host-update-script", "ipv6-network",
	"ipv6-subnet-prefix", "isolate-workers", "limit-worker-memory",
	"listen-host", "listen-proxy-proto", "log-level", "max-ban-score",
	"max-clients", "min-reauth-time", "occtl-socket-file", "pid-file",
	"ping-leases", "rate-limit-ms", "route-add-cmd", "route-del-cmd",
	"run-as-group", "run-as-user", "script-timeout", "server-drain-ms", "socket-file",
	"tcp-port", "try-mtu-discovery", "udp-listen-host", "udp-port",
	"use-occtl", "use-utmp", "workers",
};

bool conf_is_global_only(const char *key)
{
	return bsearch(&key, global_only, sizeof(global_only) / sizeof(global_only[0]),
		       sizeof(global_only[0]), cmp) != NULL;
}

bool conf_is_method_key(const char *key)
{
	return strcmp(key, "auth") == 0 || strcmp(key, "enable-auth") == 0 ||
	       strcmp(key, "acct") == 0;
}
