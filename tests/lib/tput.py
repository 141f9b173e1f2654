#!/usr/bin/python3
"""tput.py - a bounded TCP throughput probe for tests.

  tput.py sink HOST PORT SECONDS    listen on HOST:PORT, take one connection,
                                     read for SECONDS after the first byte and
                                     print "rate=BYTES_PER_S total=BYTES" where
                                     the rate skips the first second (TCP's
                                     slow start)
  tput.py source HOST PORT SECONDS  connect and send random data for SECONDS
Every wait is bounded; both sides give up after SECONDS + 20 s.
"""
import os
import socket
import sys
import time


def sink(host, port, secs):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port))
    ls.listen(1)
    ls.settimeout(secs + 20)
    c, _ = ls.accept()
    c.settimeout(5)
    total = 0
    start = None
    counted = 0
    while True:
        try:
            d = c.recv(65536)
        except socket.timeout:
            break
        if not d:
            break
        now = time.monotonic()
        if start is None:
            start = now
        total += len(d)
        if now - start >= 1.0:
            counted += len(d)
        if now - start >= secs:
            break
    el = (time.monotonic() - start - 1.0) if start else 0
    print("rate=%d total=%d" % (counted / el if el > 0 else 0, total))
    c.close()


def source(host, port, secs):
    buf = os.urandom(16384)
    end = time.monotonic() + secs
    s = None
    for _ in range(50):
        try:
            s = socket.create_connection((host, port), timeout=5)
            break
        except OSError:
            time.sleep(0.2)
    if s is None:
        print("source: cannot connect")
        return 1
    s.settimeout(5)
    try:
        while time.monotonic() < end:
            s.sendall(buf)
    except OSError:
        pass
    s.close()
    return 0


if __name__ == "__main__":
    mode, host, port, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    sys.exit(sink(host, port, secs) if mode == "sink" else source(host, port, secs))
