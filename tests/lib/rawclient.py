#!/usr/bin/python3
"""rawclient.py - a tiny raw AnyConnect (CSTP over TLS) client for the e2e tests.

Run it with Debian's /usr/bin/python3 inside the client namespace.  Output is
KEY=value lines (values shell-quoted) meant for `eval` by the shell tests.

Usage: rawclient.py SUBCOMMAND --host HOST --port PORT [--pin SHA256HEX]
                     [--timeout S] [--wait S] [--trace] [options]

  auth --user U --password P
      XML aggregate auth exactly like openconnect does (init, username,
      password).  Prints RESULT=ok|fail, STATUS (status line of the final
      response), STATUSES (every status line), ERROR (server's error text),
      MESSAGES (every <message> text, whitespace folded),
      COOKIE (the webvpn cookie on success), CLOSED (server closed the
      connection after the final answer).

  http --kind garbage|bigheader|valid
      send one raw HTTP request on a fresh TLS connection.  Prints SENT_OK,
      STATUS (first line the server answered, may be empty), CLOSED=1 when
      the server closed the connection within --wait seconds, BODY (the
      response body, whitespace folded).

  cstp (--cookie C | --user U --password P) --frame KIND [--frame KIND...]
      auth (if needed), CONNECT /CSCOSSLC/tunnel, then write each frame as
      its own TLS record.  KIND: dpd (valid DPD request), badmagic, longlen
      (length field larger than the payload in the record), byte7 (non-zero
      reserved byte 7), hugelen (length 0xffff, short payload), short (5 bytes).
      Prints CONNECT_STATUS, CLOSED (the server closed within --wait s after
      the last frame), DPD_RESP=1 if a DPD response was seen, ELAPSED.

  negotiate [--authz VALUE] [--no-support] [--second VALUE]
      HTTP Negotiate (RFC 4559) by hand: POST the XML init on a fresh TLS
      connection with `X-Support-HTTP-Auth: true` (not with --no-support)
      and `Authorization: VALUE` when given.  Prints STATUS, WWW_AUTH (the
      WWW-Authenticate values, |-joined), FALLBACK (X-HTTP-Auth-Support),
      FORM=1 when the answer is a login form (username or password field).  With
      --second, a second POST on the same connection carries
      `Authorization: VALUE` (STATUS2, WWW_AUTH2, FORM2).  CLOSED: the
      server closed the connection within --wait s after the last answer.
"""

import argparse
import hashlib
import re
import shlex
import socket
import ssl
import sys
import time

UA = "Open AnyConnect VPN Agent v9.01-3"


def out(key, val):
    if isinstance(val, bool):
        val = 1 if val else 0
    val = " ".join(str(val).splitlines())  # one line per key, always
    print("%s=%s" % (key, shlex.quote(str(val))))
    sys.stdout.flush()


class Closed(Exception):
    pass


class Conn:
    def __init__(self, host, port, pin=None, timeout=10.0):
        self.host, self.port, self.timeout = host, port, timeout
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        raw = socket.create_connection((host, port), timeout=timeout)
        self.s = ctx.wrap_socket(raw, server_hostname=None)
        self.s.settimeout(timeout)
        if pin:
            der = self.s.getpeercert(binary_form=True)
            got = hashlib.sha256(der).hexdigest()
            if got.lower() != pin.lower():
                raise SystemExit("certificate pin mismatch: %s" % got)
        self.buf = b""
        self.eof = False

    def send(self, data):
        """One write == one TLS record (for data <= 16 KiB)."""
        try:
            self.s.sendall(data)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError) as e:
            raise Closed(str(e))

    def _fill(self, deadline):
        if self.eof:
            raise Closed("eof")
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("deadline")
        self.s.settimeout(left)
        try:
            d = self.s.recv(65536)
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError, ConnectionResetError,
                BrokenPipeError) as e:
            self.eof = True
            raise Closed(str(e))
        except ssl.SSLError as e:
            self.eof = True
            raise Closed(str(e))
        if not d:
            self.eof = True
            raise Closed("eof")
        self.buf += d

    def read_until(self, marker, deadline, limit=1 << 20):
        while marker not in self.buf:
            if len(self.buf) > limit:
                raise ValueError("response too large")
            self._fill(deadline)
        i = self.buf.index(marker) + len(marker)
        r, self.buf = self.buf[:i], self.buf[i:]
        return r

    def read_n(self, n, deadline):
        while len(self.buf) < n:
            self._fill(deadline)
        r, self.buf = self.buf[:n], self.buf[n:]
        return r

    def read_response(self, deadline, body=True):
        head = self.read_until(b"\r\n\r\n", deadline).decode("latin-1")
        lines = head.split("\r\n")
        status = lines[0]
        headers = []
        for ln in lines[1:]:
            if ":" in ln:
                k, v = ln.split(":", 1)
                headers.append((k.strip().lower(), v.strip()))
        data = b""
        if body:
            clen = [v for k, v in headers if k == "content-length"]
            if clen:
                data = self.read_n(int(clen[0]), deadline)
        return status, headers, data

    def wait_closed(self, seconds):
        """True if the server closes the connection within `seconds`.
        Incoming data (DPD, keepalives) is collected in self.buf."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                self._fill(deadline)
        except Closed:
            return True
        except (socket.timeout, TimeoutError):
            return False

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def cookies_header(jar):
    return "; ".join("%s=%s" % (k, v) for k, v in jar.items())


def update_jar(jar, headers):
    for k, v in headers:
        if k == "set-cookie":
            nv = v.split(";", 1)[0]
            if "=" in nv:
                n, val = nv.split("=", 1)
                jar[n.strip()] = val.strip()


def xml_request(host, port, body, path, jar, extra=None, support=True):
    hdr = [
        "POST %s HTTP/1.1" % path,
        "Host: %s:%d" % (host, port),
        "User-Agent: " + UA,
        "Accept: */*",
        "Accept-Encoding: identity",
        "X-Transcend-Version: 1",
        "X-Aggregate-Auth: 1",
        "X-AnyConnect-Platform: linux-64",
        "X-Support-HTTP-Auth: true",
        "Content-Type: application/x-www-form-urlencoded",
        "Content-Length: %d" % len(body),
    ]
    if not support:
        hdr.remove("X-Support-HTTP-Auth: true")
    hdr += extra or []
    if jar:
        hdr.append("Cookie: " + cookies_header(jar))
    return ("\r\n".join(hdr) + "\r\n\r\n").encode() + body


def xml_init(host, port):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<config-auth client="vpn" type="init" aggregate-auth-version="2">'
            '<version who="vpn">v9.01-3</version><device-id>linux-64</device-id>'
            '<group-access>https://%s:%d/</group-access></config-auth>\n' % (host, port)).encode()


def xml_reply(fields, opaque=""):
    inner = "".join("<%s>%s</%s>" % (k, v, k) for k, v in fields.items())
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<config-auth client="vpn" type="auth-reply" aggregate-auth-version="2">'
            '<version who="vpn">v9.01-3</version><device-id>linux-64</device-id>'
            '%s<auth>%s</auth></config-auth>\n' % (opaque, inner)).encode()


def do_auth(a, report=True):
    """Returns (result, cookie, conn-or-None)."""
    jar = {}
    statuses = []
    messages = []
    error = ""
    deadline = time.monotonic() + a.timeout
    c = Conn(a.host, a.port, a.pin, a.timeout)
    body = xml_init(a.host, a.port)
    path = "/"
    result, cookie, status, closed = "fail", "", "", False
    try:
        for _ in range(6):
            c.send(xml_request(a.host, a.port, body, path, jar))
            status, headers, data = c.read_response(deadline)
            statuses.append(status)
            if a.trace:
                sys.stderr.write("--> %s %s\n%s\n<-- %s\n%s\n%s\n" % (
                    path, jar, body.decode("utf-8", "replace"), status, headers,
                    data.decode("utf-8", "replace")))
            update_jar(jar, headers)
            text = data.decode("utf-8", "replace")
            messages += [" ".join(x.split()) for x in
                         re.findall(r"<message[^>]*>(.*?)</message>", text, re.S)]
            m = re.search(r"<error[^>]*>(.*?)</error>", text, re.S)
            if m:
                error = m.group(1).strip()
            if jar.get("webvpn") or "<session-token>" in text or 'id="success"' in text:
                result = "ok"
                cookie = jar.get("webvpn", "")
                m = re.search(r"<session-token>(.*?)</session-token>", text, re.S)
                if not cookie and m:
                    cookie = m.group(1).strip()
                break
            if not status.split(" ")[1:2] == ["200"]:
                break
            names = re.findall(r'<input[^>]*name="([^"]+)"', text)
            if not names:
                break
            fields = {}
            for n in names:
                if "pass" in n:
                    fields[n] = a.password
                elif "user" in n or n in ("username", "name"):
                    fields[n] = a.user
            if not fields:
                break
            m = re.search(r"<opaque[^>]*>.*?</opaque>", text, re.S)
            body = xml_reply(fields, m.group(0) if m else "")
            mm = re.search(r'<form[^>]*action="([^"]*)"', text)
            path = mm.group(1) if mm and mm.group(1).startswith("/") else "/auth"
            if c.eof:
                c.close()
                c = Conn(a.host, a.port, a.pin, a.timeout)
    except Closed as e:
        closed = True
        error = error or ("connection closed: %s" % e)
    except (socket.timeout, TimeoutError):
        error = error or "timeout"
    if report:
        if result == "fail" and not closed:
            closed = c.wait_closed(a.wait)
        out("RESULT", result)
        out("STATUS", status)
        out("STATUSES", "|".join(statuses))
        out("ERROR", error)
        out("MESSAGES", "|".join(messages))
        out("COOKIE", cookie)
        out("CLOSED", closed)
        c.close()
        return result, cookie, None
    return result, cookie, c


def cmd_auth(a):
    result, _, _ = do_auth(a)
    return 0 if result == "ok" else 1


def cmd_http(a):
    c = Conn(a.host, a.port, a.pin, a.timeout)
    if a.kind == "garbage":
        req = b"\x01GARBAGE\xff\xfe /\x00 HTTP/9.x\r\n\xff\xff\r\n\r\n"
    elif a.kind == "bigheader":
        req = (b"GET / HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nX-Big: " %
               (a.host.encode(), UA.encode()) + b"A" * (256 * 1024) + b"\r\n\r\n")
    else:
        req = b"GET / HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n\r\n" % (a.host.encode(), UA.encode())
    sent_ok, closed, status = True, False, ""
    t0 = time.monotonic()
    try:
        # in 16 KiB chunks, like a real client writing records
        for i in range(0, len(req), 16384):
            c.send(req[i:i + 16384])
    except Closed:
        sent_ok, closed = False, True
    if not closed:
        closed = c.wait_closed(a.wait)
    if c.buf:
        status = c.buf.split(b"\r\n", 1)[0].decode("latin-1")
    out("SENT_OK", sent_ok)
    out("STATUS", status)
    out("CLOSED", closed)
    # the response body (first 8 KiB, whitespace folded) for form checks
    body = c.buf.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in c.buf else b""
    out("BODY", " ".join(body[:8192].decode("latin-1").split()))
    out("ELAPSED", "%.2f" % (time.monotonic() - t0))
    c.close()
    return 0


def cmd_negotiate(a):
    c = Conn(a.host, a.port, a.pin, a.timeout)
    deadline = time.monotonic() + a.timeout
    rounds = [a.authz] + ([a.second] if a.second is not None else [])
    closed = False
    for i, authz in enumerate(rounds):
        sfx = "" if i == 0 else str(i + 1)
        extra = ["Authorization: " + authz] if authz is not None else []
        try:
            c.send(xml_request(a.host, a.port, xml_init(a.host, a.port), "/", {},
                               extra, support=not a.no_support))
            status, headers, data = c.read_response(deadline)
        except (Closed, socket.timeout, TimeoutError) as e:
            out("STATUS" + sfx, "no response: %s" % e)
            closed = True
            break
        text = data.decode("utf-8", "replace")
        out("STATUS" + sfx, status)
        out("WWW_AUTH" + sfx, "|".join(v for k, v in headers if k == "www-authenticate"))
        out("FALLBACK" + sfx, "|".join(v for k, v in headers if k == "x-http-auth-support"))
        out("FORM" + sfx, re.search(r'<input[^>]*name="(username|password)"', text) is not None)
        if a.trace:
            sys.stderr.write("<-- %s\n%s\n%s\n" % (status, headers, text))
    if not closed:
        closed = c.wait_closed(a.wait)
    out("CLOSED", closed)
    c.close()
    return 0


def frame(kind):
    if kind == "dpd":
        return b"STF\x01\x00\x00\x03\x00"
    if kind == "badmagic":
        return b"XTF\x01\x00\x04\x00\x00" + b"\x45\x00\x00\x04"
    if kind == "longlen":
        return b"STF\x01\x00\x40\x00\x00" + b"\x45" + b"\x00" * 19  # says 64, has 20
    if kind == "byte7":
        return b"STF\x01\x00\x00\x03\x01"  # DPD request, reserved byte 7 = 1
    if kind == "hugelen":
        return b"STF\x01\xff\xff\x00\x00" + b"\x45" + b"\x00" * 19
    if kind == "short":
        return b"STF\x01\x00"
    raise SystemExit("unknown frame kind %s" % kind)


def cmd_cstp(a):
    if a.cookie:
        cookie, c = a.cookie, Conn(a.host, a.port, a.pin, a.timeout)
    else:
        result, cookie, c = do_auth(a, report=False)
        if result != "ok":
            out("CONNECT_STATUS", "auth failed")
            out("CLOSED", False)
            return 1
        if c.eof:
            c = Conn(a.host, a.port, a.pin, a.timeout)
    req = ("CONNECT /CSCOSSLC/tunnel HTTP/1.1\r\n"
           "Host: %s:%d\r\n"
           "User-Agent: %s\r\n"
           "Cookie: webvpn=%s\r\n"
           "X-CSTP-Version: 1\r\n"
           "X-CSTP-Hostname: rawclient\r\n"
           "X-CSTP-Base-MTU: 1500\r\n"
           "X-CSTP-Address-Type: IPv4\r\n"
           "X-CSTP-Full-IPv6-Capability: true\r\n"
           "\r\n" % (a.host, a.port, UA, cookie)).encode()
    deadline = time.monotonic() + a.timeout
    try:
        c.send(req)
        status, headers, _ = c.read_response(deadline, body=False)
    except (Closed, socket.timeout, TimeoutError) as e:
        out("CONNECT_STATUS", "no response: %s" % e)
        out("CLOSED", True)
        return 1
    out("CONNECT_STATUS", status)
    addr = [v for k, v in headers if k == "x-cstp-address"]
    out("ADDRESS", addr[0] if addr else "")
    if status.split(" ")[1:2] != ["200"]:
        out("CLOSED", c.wait_closed(a.wait))
        return 1
    time.sleep(a.settle)
    closed = False
    t0 = time.monotonic()
    try:
        for k in a.frame:
            c.send(frame(k))
            time.sleep(0.05)
    except Closed:
        closed = True
    if not closed:
        closed = c.wait_closed(a.wait)
    out("CLOSED", closed)
    # DPD response = STF\x01 len=0 type 4
    out("DPD_RESP", b"STF\x01\x00\x00\x04\x00" in c.buf)
    out("ELAPSED", "%.2f" % (time.monotonic() - t0))
    c.close()
    return 0


def main():
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--host", required=True)
    common.add_argument("--port", type=int, default=443)
    common.add_argument("--pin", help="sha256 hex of the server certificate (DER)")
    common.add_argument("--timeout", type=float, default=10.0)
    common.add_argument("--wait", type=float, default=5.0,
                        help="how long to wait for the server to close")
    common.add_argument("--trace", action="store_true", help="log the exchange on stderr")
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    pa = sub.add_parser("auth", parents=[common])
    pa.add_argument("--user", required=True)
    pa.add_argument("--password", required=True)
    ph = sub.add_parser("http", parents=[common])
    ph.add_argument("--kind", choices=["garbage", "bigheader", "valid"], required=True)
    pn = sub.add_parser("negotiate", parents=[common])
    pn.add_argument("--authz", help="Authorization header value")
    pn.add_argument("--no-support", action="store_true",
                    help="leave out X-Support-HTTP-Auth")
    pn.add_argument("--second", help="Authorization of a second request")
    pc = sub.add_parser("cstp", parents=[common])
    pc.add_argument("--cookie")
    pc.add_argument("--user")
    pc.add_argument("--password")
    pc.add_argument("--frame", action="append", default=[])
    pc.add_argument("--settle", type=float, default=0.3,
                    help="seconds between CONNECT and the first frame")
    a = p.parse_args()
    try:
        if a.cmd == "auth":
            return cmd_auth(a)
        if a.cmd == "http":
            return cmd_http(a)
        if a.cmd == "negotiate":
            return cmd_negotiate(a)
        if not a.cookie and not (a.user and a.password):
            p.error("cstp needs --cookie or --user/--password")
        return cmd_cstp(a)
    except (ConnectionRefusedError, socket.timeout, TimeoutError, OSError) as e:
        out("ERROR", "connection failed: %s" % e)
        return 2


if __name__ == "__main__":
    sys.exit(main())
