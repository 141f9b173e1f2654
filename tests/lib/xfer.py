#!/usr/bin/python3
"""xfer.py - move whole files through a tunnel for the transfer tests.

  xfer.py serve HOST PORT DOWNFILE UPOUT READYFILE [ACCEPT_WAIT [CONN_WAIT]]
      listen on HOST:PORT (touch READYFILE once listening) and answer two
      connections: "U" + data (kept in UPOUT, answered "OK <bytes> mss <the
      connection's TCP MSS>") and
      "D" (sent DOWNFILE); each accept waits up to ACCEPT_WAIT s (default
      40), each connection up to CONN_WAIT s (default 30)
  xfer.py up HOST PORT FILE [WAIT]       send FILE, print the answer
  xfer.py down HOST PORT OUTFILE [WAIT]  fetch DOWNFILE into OUTFILE
      (connection timeout WAIT s, default 30)
"""
import socket, sys
mode = sys.argv[1]
def recv_all(s, limit):
    d = bytearray()
    while len(d) <= limit:
        b = s.recv(65536)
        if not b:
            break
        d += b
    return bytes(d)
if mode == "serve":  # serve HOST PORT DOWNFILE UPOUT READYFILE [ACCEPT_WAIT [CONN_WAIT]]
    host, port, down, upout, ready = sys.argv[2:7]
    accept_wait = int(sys.argv[7]) if len(sys.argv) > 7 else 40
    conn_wait = int(sys.argv[8]) if len(sys.argv) > 8 else 30
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, int(port)))
    ls.listen(2)
    ls.settimeout(accept_wait)
    open(ready, "w").close()
    for _ in range(2):
        c, _a = ls.accept()
        c.settimeout(conn_wait)
        cmd = c.recv(1)
        if cmd == b"U":
            mss = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)
            data = recv_all(c, 4 << 20)
            open(upout, "wb").write(data)
            c.sendall(b"OK %d mss %d\n" % (len(data), mss))
        elif cmd == b"D":
            c.sendall(open(down, "rb").read())
        c.close()
else:  # up HOST PORT FILE [WAIT] | down HOST PORT OUTFILE [WAIT]
    host, port, f = sys.argv[2:5]
    wait = int(sys.argv[5]) if len(sys.argv) > 5 else 30
    s = socket.create_connection((host, int(port)), timeout=wait)
    if mode == "up":
        s.sendall(b"U" + open(f, "rb").read())
        s.shutdown(socket.SHUT_WR)
        sys.stdout.write(recv_all(s, 100).decode())
    else:
        s.sendall(b"D")
        open(f, "wb").write(recv_all(s, 4 << 20))
    s.close()
