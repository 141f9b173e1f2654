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
	{ 0 }
};

/* ocserv options not implemented yet: accepted with a warning so an
 * existing ocserv.conf keeps starting. Sorted for bsearch. */
static const char *const unimplemented[] = {
	"always-require-cert", "append-routes", "ban-points-connection",
	"ban-points-kkdcp", "ban-points-wrong-password", "ban-reset-time",
	"ban-time", "camouflage", "camouflage_realm", "camouflage_secret",
	"cgroup", "chroot-dir",
	"cisco-svc-client-compat", "client-bypass-protocol",
	"config-per-group",
	"config-per-user", "connect-script", "custom-header",
	"debug-no-secmod-stats", "default-group-config",
	"default-user-config", "deny-roaming", "dh-params",
	"disconnect-script", "expose-iroutes",
	"host-update-script", "included-http-headers", "iroute", "key-pin",
	"kkdcp", "limit-worker-memory", "listen-clear-file",
	"listen-host-is-dyndns", "listen-netns", "listen-proxy-proto",
	"match-tls-dtls-ciphers", "max-ban-score", "min-reauth-time",
	"net-priority", "no-udp", "ocsp-response",
	"output-buffer", "persistent-cookies", "pin-file", "ping-leases",
	"predictable-ips", "proxy-url", "rate-limit-ms", "rekey-method",
	"rekey-time", "restrict-user-to-ports", "restrict-user-to-routes",
	"route-add-cmd", "route-del-cmd", "rx-data-per-sec",
	"sec-mod-scale", "select-group-by-url", "server-drain-ms",
	"server-stats-reset-time", "srk-pin", "srk-pin-file",
	"stats-report-time", "switch-to-tcp-timeout", "syslog-facility",
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

bool conf_is_method_key(const char *key)
{
	return strcmp(key, "auth") == 0 || strcmp(key, "enable-auth") == 0 ||
	       strcmp(key, "acct") == 0;
}
