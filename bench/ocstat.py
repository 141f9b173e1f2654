#!/usr/bin/python3
"""ocstat.py - /proc accounting for bench/run.sh.

  ocstat.py pids ROOTPID        ROOTPID and all its descendants, one a line
  ocstat.py cpu ROOTPID         CPU seconds of the process tree:
                                sum of utime+stime+cutime+cstime over ROOTPID
                                and every live descendant (/proc/PID/stat).
                                Children that exited and were reaped are in
                                their parent's cutime/cstime; not yet reaped
                                ones (zombies) still show their own times, so
                                nothing is counted twice or lost.
                                Prints: "<seconds> <nprocs>"
  ocstat.py cpus ROOTPID        the same per process: "<pid> <seconds>" lines
  ocstat.py pss ROOTPID         summed Pss/Rss (kB) of the tree
                                (/proc/PID/smaps_rollup).
                                Prints: "<pss_kB> <rss_kB> <nprocs>"
  ocstat.py mem ROOTPID         "<uss_kB> <pss_kB> <rss_kB> <nprocs>" of the tree
                                (USS = Private_Clean + Private_Dirty)
  ocstat.py fds ROOTPID         open fds per process of the tree (max, sum)
  ocstat.py snap ROOTPID [PID...]
                                all of the above in one pass: "<cpu_s> <pss_kB>
                                <rss_kB> <nprocs> <memavail_kB> <fds_max>
                                <fds_sum> <pss_kB of the other PIDs' trees>"
  ocstat.py window NS...        "<busy ticks of the machine> <ticks of the
                                processes in those network namespaces> <ncpu>"
                                (for the share of CPU other work used)
  ocstat.py memavail            MemAvailable (kB) from /proc/meminfo
  ocstat.py iperf FILE          summary of an iperf3 -J result:
                                "<bytes> <seconds> <bits_per_second> <packets> <lost>"
                                (TCP: receiver side; UDP: server side packets)
  ocstat.py report RAW OUT.md INFO
                                the results table (Markdown) from RAW
                                (tab-separated: server workload rep value
                                [note]) and INFO (key=value lines); printed
                                and written to OUT.md. INFO's "servers"
                                (default "ocmod ocserv") and "server_labels"
                                name the columns, the first one is the
                                reference of the ratios; "rows=ike" selects
                                bench/ike.sh's rows and header
"""

import json
import os
import statistics
import subprocess
import sys

CLK = os.sysconf("SC_CLK_TCK")


def all_stats():
    """pid -> (ppid, fields after the comm)."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        rest = st.rsplit(")", 1)[1].split()
        # rest[0] = state, rest[1] = ppid; utime is field 14 -> rest[11]
        out[int(d)] = (int(rest[1]), rest)
    return out


def tree(root, stats=None):
    stats = stats if stats is not None else all_stats()
    kids = {}
    for pid, (ppid, _) in stats.items():
        kids.setdefault(ppid, []).append(pid)
    if root not in stats:
        return [], stats
    out, queue = [], [root]
    while queue and len(out) < 200000:
        p = queue.pop()
        out.append(p)
        queue.extend(kids.get(p, []))
    return out, stats


def proc_ticks(r):
    """utime + stime + cutime + cstime of one process (fields after the comm)"""
    return int(r[11]) + int(r[12]) + int(r[13]) + int(r[14])


def tree_ticks(pids, stats):
    return sum(proc_ticks(stats[p][1]) for p in pids)


def tree_pss(pids):
    """summed Pss and Rss (kB) of pids, and how many could be read"""
    pss = rss = n = 0
    for p in pids:
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                    elif line.startswith("Rss:"):
                        rss += int(line.split()[1])
            n += 1
        except OSError:
            pass
    return pss, rss, n


def fd_counts(pids):
    """open fds per readable process"""
    counts = []
    for p in pids:
        try:
            counts.append(len(os.listdir("/proc/%d/fd" % p)))
        except OSError:
            pass
    return counts


def memavail():
    """MemAvailable (kB), 0 when /proc/meminfo has none"""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    return 0


def cmd_pids(root):
    pids, _ = tree(root)
    for p in pids:
        print(p)


def cmd_cpu(root):
    pids, stats = tree(root)
    print("%.2f %d" % (tree_ticks(pids, stats) / CLK, len(pids)))


def cmd_cpus(root):
    pids, stats = tree(root)
    for p in pids:
        print("%d %.2f" % (p, proc_ticks(stats[p][1]) / CLK))


def cmd_pss(root):
    pids, _ = tree(root)
    print("%d %d %d" % tree_pss(pids))


def cmd_mem(root):
    """USS (Private_Clean + Private_Dirty), PSS and RSS (kB) of the tree"""
    pids, _ = tree(root)
    uss = pss = rss = n = 0
    for p in pids:
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    k = line.split(":", 1)[0]
                    if k in ("Private_Clean", "Private_Dirty"):
                        uss += int(line.split()[1])
                    elif k == "Pss":
                        pss += int(line.split()[1])
                    elif k == "Rss":
                        rss += int(line.split()[1])
            n += 1
        except OSError:
            pass
    print("%d %d %d %d" % (uss, pss, rss, n))


def cmd_fds(root):
    pids, _ = tree(root)
    counts = fd_counts(pids)
    print("%d %d" % (max(counts) if counts else 0, sum(counts)))


def cmd_snap(root, others):
    """one pass: cpu_s pss_kB rss_kB nprocs memavail_kB fds_max fds_sum others_pss_kB"""
    stats = all_stats()
    pids, _ = tree(root, stats)
    ticks = tree_ticks(pids, stats)
    pss, rss, n = tree_pss(pids)
    fds = fd_counts(pids)
    opids = []
    for o in others:
        opids += tree(o, stats)[0]
    opss = tree_pss(opids)[0]
    mem = memavail()
    print("%.2f %d %d %d %d %d %d %d" % (ticks / CLK, pss, rss, n, mem,
                                         max(fds) if fds else 0, sum(fds), opss))


def netns_pids(ns):
    try:
        out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [int(x) for x in out.split()]


def cmd_window(namespaces):
    """busy CPU ticks of the whole machine (/proc/stat) and the CPU ticks
    (self + reaped children) of every process in the given namespaces"""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal
    busy = v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)
    ours = 0
    for ns in namespaces:
        for p in netns_pids(ns):
            try:
                with open("/proc/%d/stat" % p) as f:
                    r = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ours += proc_ticks(r)
    print("%d %d %d" % (busy, ours, os.sysconf("SC_NPROCESSORS_ONLN")))


def cmd_memavail():
    print(memavail())


def cmd_iperf(path):
    with open(path) as f:
        j = json.load(f)
    if "error" in j:
        print("0 0 0 0 0 error")
        return
    end = j["end"]
    proto = j.get("start", {}).get("test_start", {}).get("protocol", "TCP")
    if proto != "UDP":
        s = end["sum_received"]
        print("%d %.3f %.0f 0 0" % (s["bytes"], s["seconds"], s["bits_per_second"]))
        return
    # UDP: packets sent by the client, lost as counted by the receiver
    s = end.get("sum_received") or end["sum"]
    print("%d %.3f %.0f %d %d" % (s["bytes"], s["seconds"], s["bits_per_second"],
                                  s.get("packets", 0), s.get("lost_packets", 0)))


# ---------------------------------------------------------------- report

# workload key -> (label, unit, format, better)
ROWS = [
    ("tls_up_mbps", "TLS throughput up (client->server)", "Mbit/s", "%.0f", "higher"),
    ("tls_down_mbps", "TLS throughput down (server->client)", "Mbit/s", "%.0f", "higher"),
    ("tls_up_cpu_gb", "TLS up: server CPU per GB", "CPU s/GB", "%.2f", "lower"),
    ("tls_down_cpu_gb", "TLS down: server CPU per GB", "CPU s/GB", "%.2f", "lower"),
    ("tls_udp64_pps", "TLS 64-byte UDP up, received", "pkt/s", "%.0f", "higher"),
    ("tls_udp64_cpu_mpkt", "TLS 64-byte UDP: server CPU per million packets received", "CPU s/Mpkt", "%.2f", "lower"),
    ("dtls_up_mbps", "DTLS throughput up (client->server)", "Mbit/s", "%.0f", "higher"),
    ("dtls_down_mbps", "DTLS throughput down (server->client)", "Mbit/s", "%.0f", "higher"),
    ("dtls_up_cpu_gb", "DTLS up: server CPU per GB", "CPU s/GB", "%.2f", "lower"),
    ("dtls_down_cpu_gb", "DTLS down: server CPU per GB", "CPU s/GB", "%.2f", "lower"),
    ("dtls_udp64_pps", "DTLS 64-byte UDP up, received", "pkt/s", "%.0f", "higher"),
    ("dtls_udp64_cpu_mpkt", "DTLS 64-byte UDP: server CPU per million packets received", "CPU s/Mpkt", "%.2f", "lower"),
    ("par_tls_up_mbps", "TLS, PAR clients at once: throughput up, sum", "Mbit/s", "%.0f", "higher"),
    ("par_tls_down_mbps", "TLS, PAR clients at once: throughput down, sum", "Mbit/s", "%.0f", "higher"),
    ("par_tls_up_cpu_gb", "TLS, PAR clients up: server CPU per GB", "CPU s/GB", "%.2f", "lower"),
    ("par_tls_down_cpu_gb", "TLS, PAR clients down: server CPU per GB", "CPU s/GB", "%.2f", "lower"),
    ("par_tls_up_top_pct", "TLS, PAR clients up: busiest server process's share of the server CPU", "%", "%.0f", "lower"),
    ("par_tls_down_top_pct", "TLS, PAR clients down: busiest server process's share of the server CPU", "%", "%.0f", "lower"),
    ("par_dtls_up_mbps", "DTLS, PAR clients at once: throughput up, sum", "Mbit/s", "%.0f", "higher"),
    ("par_dtls_down_mbps", "DTLS, PAR clients at once: throughput down, sum", "Mbit/s", "%.0f", "higher"),
    ("par_dtls_up_cpu_gb", "DTLS, PAR clients up: server CPU per GB", "CPU s/GB", "%.2f", "lower"),
    ("par_dtls_down_cpu_gb", "DTLS, PAR clients down: server CPU per GB", "CPU s/GB", "%.2f", "lower"),
    ("par_dtls_up_top_pct", "DTLS, PAR clients up: busiest server process's share of the server CPU", "%", "%.0f", "lower"),
    ("par_dtls_down_top_pct", "DTLS, PAR clients down: busiest server process's share of the server CPU", "%", "%.0f", "lower"),
    ("login_median_ms", "Login latency, median", "ms", "%.1f", "lower"),
    ("login_p90_ms", "Login latency, p90", "ms", "%.1f", "lower"),
    ("login_cpu_ms", "Server CPU per login", "CPU ms", "%.2f", "lower"),
    ("login_rate", "Sequential logins per second", "logins/s", "%.1f", "higher"),
    ("ramp_rate", "Session ramp (concurrent logins) rate", "sessions/s", "%.1f", "higher"),
    ("ramp_cpu_ms", "Server CPU per session during the ramp", "CPU ms", "%.2f", "lower"),
    ("idle_pss_1", "Idle sessions: summed PSS at 1", "MiB", "%.1f", "lower"),
    ("idle_pss_10", "Idle sessions: summed PSS at 10", "MiB", "%.1f", "lower"),
    ("idle_pss_100", "Idle sessions: summed PSS at 100", "MiB", "%.1f", "lower"),
    ("idle_pss_1000", "Idle sessions: summed PSS at 1000", "MiB", "%.1f", "lower"),
    ("idle_pss_10000", "Idle sessions: summed PSS at 10000", "MiB", "%.1f", "lower"),
    ("idle_marginal_kb", "Memory per extra idle session (PSS, top level)", "KiB", "%.0f", "lower"),
    ("idle_sys_kb", "System memory per extra idle session (MemAvailable drop, top level; incl. kernel: tun, sockets)", "KiB", "%.0f", "lower"),
    ("idle_reached", "Highest idle level reached", "sessions", "%.0f", "higher"),
    ("idle_procs", "Server processes at the highest level", "procs", "%.0f", "lower"),
    ("foreign_pct", "CPU used by other work during this server's measurement windows (noise indicator, see notes)", "% of all CPUs", "%.0f", "lower"),
]

# bench/ike.sh (info "rows" = "ike"); the idle PSS rows are added per level
ROWS_IKE_HEAD = [
    ("up_mbps", "TCP throughput up (client->server), ESP-in-UDP", "Mbit/s", "%.0f", "higher"),
    ("down_mbps", "TCP throughput down (server->client), ESP-in-UDP", "Mbit/s", "%.0f", "higher"),
    ("up_cpu_gb", "up: server CPU per GB (server processes)", "CPU s/GB", "%.2f", "lower"),
    ("down_cpu_gb", "down: server CPU per GB (server processes)", "CPU s/GB", "%.2f", "lower"),
    ("up_box_gb", "up: whole-machine CPU per GB (both ends, kernel, softirq)", "CPU s/GB", "%.2f", "lower"),
    ("down_box_gb", "down: whole-machine CPU per GB (both ends, kernel, softirq)", "CPU s/GB", "%.2f", "lower"),
    ("login_median_ms", "Login latency (vpnc start to tunnel configured), median", "ms", "%.1f", "lower"),
    ("login_p90_ms", "Login latency, p90", "ms", "%.1f", "lower"),
    ("login_cpu_ms", "Server CPU per login (phase 1 + Xauth + mode config + quick mode + deletes)", "CPU ms", "%.2f", "lower"),
    ("login_rate", "Sequential logins per second (incl. vpnc start and teardown)", "logins/s", "%.1f", "higher"),
    ("ramp_rate", "Session ramp rate (concurrent vpnc logins)", "sessions/s", "%.1f", "higher"),
    ("ramp_cpu_ms", "Server CPU per session during the ramp", "CPU ms", "%.2f", "lower"),
]
ROWS_IKE_TAIL = [
    ("idle_marginal_kb", "Memory per extra idle session (USS of the server processes)", "KiB", "%.0f", "lower"),
    ("idle_pss_kb", "Memory per extra idle session (PSS of the server processes)", "KiB", "%.0f", "lower"),
    ("idle_sys_kb", "System memory per extra idle session (MemAvailable drop minus vpnc's PSS; incl. the kernel's, vpnc's tun devices too)", "KiB", "%.0f", "lower"),
    ("idle_reached", "Highest idle level reached", "sessions", "%.0f", "higher"),
    ("idle_procs", "Server processes at the highest level", "procs", "%.0f", "lower"),
    ("foreign_pct", "CPU used by other work during this server's measurement windows (noise indicator)", "% of all CPUs", "%.0f", "lower"),
]


def ike_rows(info):
    rows = list(ROWS_IKE_HEAD)
    for lvl in info.get("ike_levels", "").split():
        rows.append(("idle_uss_%s" % lvl, "Idle sessions: private memory (USS) of the server processes at %s" % lvl,
                     "MiB", "%.1f", "lower"))
    return rows + ROWS_IKE_TAIL


def fmt(f, v):
    return f % v


def cmd_report(raw, out_md, info_path):
    info = {}
    with open(info_path) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                info[k] = v
    vals = {}   # (server, key) -> [values]
    notes = {}  # (server, key) -> [note]
    with open(raw) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 4:
                continue
            srv, key, _rep, val = parts[:4]
            note = parts[4] if len(parts) > 4 else ""
            if val in ("", "na"):
                if note:
                    notes.setdefault((srv, key), []).append(note)
                continue
            try:
                vals.setdefault((srv, key), []).append(float(val))
            except ValueError:
                continue
            if note:
                notes.setdefault((srv, key), []).append(note)
    # the first server is the reference: one ratio column per other server
    servers = info.get("servers", "ocmod ocserv").split()
    labels = info.get("server_labels", "|".join(servers)).split("|")
    ike = info.get("rows") == "ike"
    rows = ike_rows(info) if ike else ROWS
    lines = []
    lines.append("| metric | unit | %s | %s | better |" % (
        " | ".join(labels), " | ".join("%s/%s" % (labels[0], x) for x in labels[1:])))
    lines.append("|---|---|%s---|" % ("---|" * (2 * len(servers) - 1)))
    for key, label, unit, f, better in rows:
        label = label.replace("PAR", info.get("par_n", "N"))
        cells = []
        med = {}
        present = False
        for s in servers:
            v = vals.get((s, key))
            n = notes.get((s, key))
            if v:
                present = True
                m = statistics.median(v)
                med[s] = m
                c = fmt(f, m)
                if len(v) > 1:
                    c += " (%s–%s, n=%d)" % (fmt(f, min(v)), fmt(f, max(v)), len(v))
                if n:
                    c += " " + "; ".join(sorted(set(n)))
                cells.append(c)
            elif n:
                present = True
                cells.append("; ".join(sorted(set(n))))
            else:
                cells.append("—")
        if not present:
            continue
        ratios = []
        ref = servers[0]
        for other in servers[1:]:
            partial = any(" sessions" in x and x.startswith("at ")
                          for srv in (ref, other) for x in notes.get((srv, key), []))
            if partial:
                ratios.append("— (levels differ)")
            elif ref in med and other in med and med[other] != 0:
                ratios.append("%.2f" % (med[ref] / med[other]))
            else:
                ratios.append("—")
        lines.append("| %s | %s | %s | %s | %s |" % (label, unit, " | ".join(cells), " | ".join(ratios), better))
    table = "\n".join(lines)
    if ike:
        write_md(out_md, info, table, raw,
                 "# ocmod IKEv1 benchmark results (vs strongSwan)",
                 "bench/ike.sh", "README.md#ike-ocmods-transport-ike-vs-strongswan",
                 "- strongSwan: %s; client: vpnc %s; iperf3: %s" % (
                     info.get("swan_version", "?"), info.get("vpnc_version", "?"),
                     info.get("iperf3_version", "?")),
                 "idle levels: %s (%s logins in flight), in the last repetition" % (
                     info.get("ike_levels", "?"), info.get("inflight", "?")),
                 [k for k in sorted(info) if k.startswith("ike_") and k != "ike_levels"],
                 "esp: the phase 1 / ESP transforms the server logged. idle: per level, sessions up, "
                 "summed PSS/RSS of the server processes, their number, MemAvailable, the vpnc "
                 "processes' PSS, open fds (max per process), ramp time, server CPU for the step. "
                 "stop: time to stop the server and remove the namespaces.")
    else:
        write_md(out_md, info, table, raw,
                 "# ocmod benchmark results",
                 "bench/run.sh", "README.md",
                 "- ocserv: %s; openconnect: %s; iperf3: %s" % (
                     info.get("ocserv_version", "?"), info.get("openconnect_version", "?"),
                     info.get("iperf3_version", "?")),
                 "idle levels: %s" % info.get("idle_levels", "?"),
                 [k for k in sorted(info) if k.startswith(("idle_", "udp64_", "stop_", "par_"))],
                 "Per idle level: sessions up, summed PSS/RSS of the server processes, their number, "
                 "MemAvailable, ocload's own PSS, open fds (max per process, sum), time to bring the "
                 "step up, server CPU for the step. 64-byte UDP: packets sent / lost. stop: time to stop "
                 "the server and for the kernel to remove its tun devices. par: CPU seconds of each "
                 "server process over a run with several clients at once.")
    print(table)


def write_md(out_md, info, table, raw, title, script, readme, versions, levels, det, det_text):
    """the results page: title, the run's parameters, the table, the notes,
    the details (INFO keys det, explained by det_text) and the raw values"""
    md = []
    md.append(title)
    md.append("")
    md.append("Written by `%s%s` — see [README.md](%s) for what is measured and how." %
              (script, " --quick" if info.get("quick") == "1" else "", readme))
    md.append("")
    md.append("- date: %s" % info.get("date", "?"))
    md.append("- machine: %s CPUs (%s), %s MiB RAM, kernel %s" % (
        info.get("nproc", "?"), info.get("cpu", "?"), info.get("mem_mib", "?"), info.get("kernel", "?")))
    md.append("- ocmod: %s (%s%s)" % (info.get("ocmod_version", "?"), info.get("git", "?"),
                                      ", tracked files modified" if info.get("git_dirty") == "1" else ""))
    md.append(versions)
    md.append("- repetitions: %s (cells: median, then (min–max, n) when n > 1); iperf3 -t %s s; "
              "logins: %s sequential; %s" % (
                  info.get("reps", "?"), info.get("iperf_t", "?"), info.get("logins", "?"), levels))
    md.append("- run time: %s s" % info.get("elapsed", "?"))
    md.append("")
    md.append(table)
    md.append("")
    md.append("## Notes")
    md.append("")
    for k in sorted(info):
        if k.startswith("note"):
            md.append("- " + info[k])
    md.append("")
    if det:
        md.append("## Details")
        md.append("")
        md.append(det_text)
        md.append("")
        md.append("```")
        for k in det:
            md.append("%s: %s" % (k, info[k]))
        md.append("```")
        md.append("")
    md.append("## Raw values")
    md.append("")
    md.append("<details><summary>server, metric, repetition, value, note</summary>")
    md.append("")
    md.append("```")
    with open(raw) as f:
        md.append(f.read().rstrip("\n"))
    md.append("```")
    md.append("")
    md.append("</details>")
    md.append("")
    with open(out_md, "w") as f:
        f.write("\n".join(md))


def main():
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    c = sys.argv[1]
    if c == "pids":
        cmd_pids(int(sys.argv[2]))
    elif c == "cpu":
        cmd_cpu(int(sys.argv[2]))
    elif c == "cpus":
        cmd_cpus(int(sys.argv[2]))
    elif c == "pss":
        cmd_pss(int(sys.argv[2]))
    elif c == "mem":
        cmd_mem(int(sys.argv[2]))
    elif c == "fds":
        cmd_fds(int(sys.argv[2]))
    elif c == "snap":
        cmd_snap(int(sys.argv[2]), [int(x) for x in sys.argv[3:]])
    elif c == "window":
        cmd_window(sys.argv[2:])
    elif c == "memavail":
        cmd_memavail()
    elif c == "iperf":
        cmd_iperf(sys.argv[2])
    elif c == "report":
        cmd_report(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
