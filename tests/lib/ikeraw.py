#!/usr/bin/python3
"""ikeraw.py - raw IKE/ESP traffic for the ike end-to-end tests.

  sniff IFACE CLIENT SERVER OUTDIR SECONDS
      capture (AF_PACKET) the client's IKE and ESP traffic with the server
      until SECONDS passed or OUTDIR/stop exists; write OUTDIR/state.json
      with the live cookies (from the server's aggressive/main mode
      answer), the client's NAT-T source port, and up to 8 of the client's
      ESP packets (hex).
  attack CLIENT SERVER STATEDIR AM1FILE
      (AM1FILE: a vpnc first message, raw or as the C array of
      tests/unit/ike-vectors.h)
      send malformed and forged datagrams: from the client's own address
      and port (spoofed with a raw socket: they reach the worker's socket of
      the live session) and from fresh ports (they go through main's
      routing).  Prints one line per group.

Only for the tests' private network namespaces (root there).
"""
import json
import os
import random
import socket
import struct
import sys
import time


def ip_csum(b):
    s = 0
    for i in range(0, len(b), 2):
        s += (b[i] << 8) + (b[i + 1] if i + 1 < len(b) else 0)
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def sniff(iface, client, server, outdir, secs):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0003))
    s.bind((iface, 0))
    s.settimeout(0.2)
    state = {"ic": None, "rc": None, "natt_sport": None, "esp": []}
    end = time.time() + secs
    cip, sip = socket.inet_aton(client), socket.inet_aton(server)
    while time.time() < end and not os.path.exists(os.path.join(outdir, "stop")):
        try:
            f = s.recv(65535)
        except socket.timeout:
            continue
        if len(f) < 14 + 20 + 8 or f[12:14] != b"\x08\x00":
            continue
        ip = f[14:]
        ihl = (ip[0] & 15) * 4
        if ip[9] != 17 or len(ip) < ihl + 8:
            continue
        src, dst = ip[12:16], ip[16:20]
        sport, dport = struct.unpack(">HH", ip[ihl:ihl + 4])
        pl = ip[ihl + 8:]
        if src == sip and dst == cip and sport in (500, 4500):
            ike = pl[4:] if sport == 4500 and pl[:4] == b"\0\0\0\0" else pl
            if sport == 4500 and pl[:4] != b"\0\0\0\0":
                continue
            if len(ike) >= 28 and ike[18] in (2, 4) and ike[8:16] != b"\0" * 8 and not state["rc"]:
                state["ic"], state["rc"] = ike[:8].hex(), ike[8:16].hex()
        elif src == cip and dst == sip and dport == 4500:
            state["natt_sport"] = sport
            if len(pl) > 8 and pl[:4] != b"\0\0\0\0" and len(state["esp"]) < 8:
                state["esp"].append(pl.hex())
        tmp = os.path.join(outdir, "state.json.tmp")
        with open(tmp, "w") as o:
            json.dump(state, o)
        os.rename(tmp, os.path.join(outdir, "state.json"))


class Sender:
    def __init__(self, client, server):
        self.client, self.server = client, server
        self.raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.n = 0

    def spoof(self, sport, dport, payload):
        """a datagram from the client's own address and port"""
        udp = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload
        hdr = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), random.randint(0, 65535),
                          0, 64, 17, 0, socket.inet_aton(self.client), socket.inet_aton(self.server))
        hdr = hdr[:10] + struct.pack(">H", ip_csum(hdr)) + hdr[12:]
        self.raw.sendto(hdr + udp, (self.server, 0))
        self.n += 1

    def fresh(self, dport, payload):
        """a datagram from a new port (main routes it)"""
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.sendto(payload, (self.server, dport))
        u.close()
        self.n += 1


def ike_hdr(ic, rc, np, exch, flags, msgid, length):
    return ic + rc + bytes([np, 0x10, exch, flags]) + struct.pack(">II", msgid, length)


def attack(client, server, statedir, am1file):
    st = json.load(open(os.path.join(statedir, "state.json")))
    am1 = open(am1file, "rb").read()
    if am1file.endswith(".h"):  # the unit tests' C array of a real vpnc message
        import re
        am1 = bytes(int(x, 16) for x in re.findall(rb"0x([0-9a-fA-F]{2})", am1))
    ic, rc = bytes.fromhex(st["ic"]), bytes.fromhex(st["rc"])
    nport = st["natt_sport"]
    esp = [bytes.fromhex(x) for x in st["esp"]]
    s = Sender(client, server)
    rnd = random.Random(4711)
    mk = b"\0\0\0\0"

    def both(payload, natt=True):
        if natt:
            s.spoof(nport, 4500, payload)
            s.fresh(4500, payload)
        else:
            s.spoof(500, 500, payload)
            s.fresh(500, payload)

    # 1. garbage of every size
    for n in list(range(0, 64)) + [100, 200, 1000, 1400]:
        g = bytes(rnd.getrandbits(8) for _ in range(n))
        both(g)
        both(g, natt=False)
    print("garbage: sent")
    # 2. headers with live cookies: bad lengths, bad versions, payload overruns
    for length in (0, 27, 28, 29, 5000, 0xffffffff):
        both(mk + ike_hdr(ic, rc, 8, 5, 1, 1, length) + b"\0" * 32)
    both(mk + ike_hdr(ic, rc, 8, 5, 0, 1, 28 + 4) + bytes([0, 0, 0xff, 0xff]))
    both(mk + ike_hdr(ic, rc, 8, 5, 0, 1, 28 + 4) + bytes([0, 0, 0, 2]))
    both(mk + ic + rc + bytes([8, 0x20, 5, 1]) + struct.pack(">II", 1, 60) + b"\0" * 32)
    print("headers: sent")
    # 3. forged encrypted messages with the live cookies (random bodies)
    for exch in (5, 6, 32, 4, 2):
        for k in range(8):
            body = bytes(rnd.getrandbits(8) for _ in range(16 * (k + 1)))
            msgid = rnd.getrandbits(32) if exch not in (2, 4) else 0
            both(mk + ike_hdr(ic, rc, 8, exch, 1, msgid, 28 + len(body)) + body)
    # unencrypted informational DELETE of the live SA: must be ignored
    dpl = struct.pack(">BBH", 0, 0, 4 + 8 + 16) + struct.pack(">IBBH", 1, 1, 16, 1) + ic + rc
    both(mk + ike_hdr(ic, rc, 12, 5, 0, rnd.getrandbits(32), 28 + len(dpl)) + dpl)
    hpl = struct.pack(">BBH", 12, 0, 24) + b"\0" * 20
    both(mk + ike_hdr(ic, rc, 8, 5, 0, rnd.getrandbits(32), 28 + len(hpl) + len(dpl)) + hpl + dpl)
    print("forged IKE: sent")
    # 4. fragments with the live cookies: many ids, odd numbers, overflow
    for fid in range(40):
        for num in (0, 1, 2, 17, 33, 255):
            data = bytes(rnd.getrandbits(8) for _ in range(300))
            fr = struct.pack(">BBHHBB", 0, 0, 8 + len(data), fid, num, num & 1) + data
            both(mk + ike_hdr(ic, rc, 132, 4, 0, 0, 28 + len(fr)) + fr)
    print("fragments: sent")
    # 5. ESP: replays of real packets, flipped bits, truncations, unknown SPIs
    for p in esp:
        both(p)
        for i in (8, 20, len(p) - 1):
            q = bytearray(p)
            q[i] ^= 0x40
            both(bytes(q))
        both(p[:20])
        both(p[:-1])
        q = bytearray(p)
        q[4:8] = b"\xff\xff\xff\xff"
        both(bytes(q))
    for k in range(50):
        both(struct.pack(">II", rnd.randint(256, 0xffffffff), k + 1) + bytes(64))
    print("ESP: sent")
    # 6. malformed first messages from fresh ports (new cookies)
    def am1_with(cookie):
        return cookie + am1[8:]
    for k in range(20):
        c = os.urandom(8)
        m = bytearray(am1_with(c))
        j = rnd.randint(28, len(m) - 1)
        m[j] ^= 1 << rnd.randint(0, 7)
        s.fresh(500, bytes(m))
        s.fresh(500, am1_with(c)[:rnd.randint(1, len(am1) - 1)])
    print("malformed AM1: sent")
    # 7. a flood of first messages (more than max-halfopen)
    for k in range(60):
        s.fresh(500, am1_with(os.urandom(8)))
    print("AM1 flood: sent (%d datagrams in all)" % s.n)


def main():
    if sys.argv[1] == "sniff":
        sniff(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], float(sys.argv[6]))
    elif sys.argv[1] == "attack":
        attack(*sys.argv[2:6])
    else:
        sys.exit("usage: ikeraw.py sniff|attack ...")


if __name__ == "__main__":
    main()
