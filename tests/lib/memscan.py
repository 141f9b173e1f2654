#!/usr/bin/python3
"""memscan.py - does a process's memory hold a private key's secret numbers?

    memscan.py KEYFILE PID [PID...]

Reads the private numbers of KEYFILE (RSA: d, p, q, dp, dq, qinv; EC: the
scalar) with `openssl pkey -text`, and searches every readable mapping of
each PID (/proc/PID/maps, /proc/PID/mem; needs root) for a 24-byte piece of
each number, big-endian (as in DER) and little-endian (as bignum limbs on
x86 and arm64 hold it), plus the base64 lines of the PEM file.  Mappings
over 1 GiB (sanitizer shadow memory) are skipped.

Prints one line per PID: "PID scanned=BYTES hits=N [names]" and exits 0.
"""
import re
import subprocess
import sys

PIECE = 24
MAX_REGION = 1 << 30


def secrets(keyfile):
    text = subprocess.run(["openssl", "pkey", "-in", keyfile, "-text", "-noout"],
                          check=True, capture_output=True, text=True).stdout
    names = {"privateExponent": "d", "prime1": "p", "prime2": "q",
             "exponent1": "dp", "exponent2": "dq", "coefficient": "qinv",
             "priv": "ec-d"}
    nums, cur, hexs = {}, None, []
    for line in text.splitlines():
        m = re.match(r"^([A-Za-z0-9]+):\s*$", line)
        if m:
            if cur:
                nums[cur] = "".join(hexs)
            cur = names.get(m.group(1))
            hexs = []
            continue
        if cur and re.match(r"^\s+[0-9a-f:]+$", line):
            hexs.append(line.strip().replace(":", ""))
        elif cur and not line.startswith(" "):
            nums[cur] = "".join(hexs)
            cur = None
    if cur:
        nums[cur] = "".join(hexs)
    needles = {}
    for name, h in nums.items():
        b = bytes.fromhex(h).lstrip(b"\0")
        if len(b) < PIECE:
            continue
        mid = len(b) // 2 - PIECE // 2
        needles[name + "/be"] = b[mid:mid + PIECE]
        needles[name + "/le"] = b[::-1][mid:mid + PIECE]
    lines = [l.strip() for l in open(keyfile) if l.strip() and not l.startswith("-----")]
    for i, l in enumerate(lines[1:-1][:4]):
        if len(l) >= 32:
            needles["pem-line%d" % (i + 2)] = l.encode()
    return needles


def scan(pid, needles):
    found, scanned = set(), 0
    tail = max(len(n) for n in needles.values()) - 1
    with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            f = line.split()
            lo, hi = (int(x, 16) for x in f[0].split("-"))
            if "r" not in f[1] or hi - lo > MAX_REGION:
                continue
            if len(f) > 5 and f[5] in ("[vvar]", "[vsyscall]"):
                continue
            prev = b""
            addr = lo
            while addr < hi:
                n = min(1 << 22, hi - addr)
                try:
                    mem.seek(addr)
                    chunk = mem.read(n)
                except OSError:
                    break
                if not chunk:
                    break
                buf = prev + chunk
                for name, nd in needles.items():
                    if name not in found and nd in buf:
                        found.add(name)
                prev = buf[-tail:]
                scanned += len(chunk)
                addr += len(chunk)
    return scanned, sorted(found)


def main():
    needles = secrets(sys.argv[1])
    if not needles:
        print("no secret numbers found in %s" % sys.argv[1], file=sys.stderr)
        return 2
    for pid in (int(p) for p in sys.argv[2:]):
        scanned, found = scan(pid, needles)
        print("%d scanned=%d hits=%d %s" % (pid, scanned, len(found), " ".join(found)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
