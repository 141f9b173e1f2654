#!/usr/bin/python3
"""promcheck.py - fetch (or read) a Prometheus text-format page and check it.

usage: promcheck.py URL|FILE [NAME{LABELS}>=N ...]

Checks the text format 0.0.4: every sample line is NAME[{labels}] VALUE, each
family has one HELP and one TYPE line before its samples, counters end in
_total, histogram buckets are cumulative and end with le="+Inf" equal to
_count.  Each further argument is an expectation on one sample, e.g.
'ocmod_logins_total>=1' or 'ocmod_sessions_closed_total{reason="idle_timeout"}>=1'
(operators >=, ==, >).  Prints every sample as NAME{labels}=VALUE and exits 0,
or prints the first problem and exits 1.
"""
import re
import sys
import urllib.request

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.]+(?:e[+-]?[0-9]+)?|\+Inf|-Inf|NaN)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:\\.|[^"\\])*)"')


def fail(msg):
    print("promcheck: " + msg)
    sys.exit(1)


def main():
    src = sys.argv[1]
    if src.startswith("http://"):
        with urllib.request.urlopen(src, timeout=20) as r:
            ctype = r.headers.get("Content-Type", "")
            if not ctype.startswith("text/plain") or "version=0.0.4" not in ctype:
                fail("Content-Type is %r" % ctype)
            text = r.read().decode("utf-8")
    else:
        with open(src, encoding="utf-8") as f:
            text = f.read()
    helps, types, samples = {}, {}, {}
    order = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line:
            continue
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            parts = line.split(" ", 3)
            if len(parts) < 4:
                fail("line %d: malformed comment" % n)
            d = helps if parts[1] == "HELP" else types
            if parts[2] in d:
                fail("line %d: second %s for %s" % (n, parts[1], parts[2]))
            d[parts[2]] = parts[3]
            if parts[1] == "TYPE" and parts[3] not in ("counter", "gauge", "histogram", "summary", "untyped"):
                fail("line %d: bad type %s" % (n, parts[3]))
            continue
        if line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            fail("line %d is not a sample: %r" % (n, line))
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        if labels:
            inner = labels[1:-1]
            rebuilt = ",".join('%s="%s"' % (k, v) for k, v in LABEL.findall(inner))
            if rebuilt != inner:
                fail("line %d: malformed labels %s" % (n, labels))
        fam = name
        for suf in ("_bucket", "_sum", "_count"):
            if name.endswith(suf) and name[: -len(suf)] in types and types[name[: -len(suf)]] == "histogram":
                fam = name[: -len(suf)]
        if fam not in types or fam not in helps:
            fail("line %d: sample %s before its HELP/TYPE" % (n, name))
        if types[fam] == "counter" and not name.endswith("_total"):
            fail("counter %s does not end in _total" % name)
        key = name + labels
        if key in samples:
            fail("line %d: duplicate sample %s" % (n, key))
        samples[key] = float(value)
        order.append(key)
    # histograms: cumulative buckets, +Inf == _count
    for fam, t in types.items():
        if t != "histogram":
            continue
        buckets = [(k, v) for k, v in samples.items() if k.startswith(fam + "_bucket{")]
        if not buckets:
            fail("histogram %s has no buckets" % fam)
        prev = -1
        for k, v in buckets:
            if v < prev:
                fail("histogram %s buckets are not cumulative at %s" % (fam, k))
            prev = v
        if not buckets[-1][0].endswith('le="+Inf"}'):
            fail("histogram %s does not end with le=\"+Inf\"" % fam)
        if samples.get(fam + "_count") != buckets[-1][1]:
            fail("histogram %s: +Inf bucket != _count" % fam)
    for k in order:
        print("%s=%s" % (k, samples[k]))
    for exp in sys.argv[2:]:
        m = re.match(r'^(.*?)(>=|==|>)([0-9.]+)$', exp)
        if not m:
            fail("bad expectation %r" % exp)
        key, op, want = m.group(1), m.group(2), float(m.group(3))
        if key not in samples:
            fail("no sample %s" % key)
        got = samples[key]
        ok = got >= want if op == ">=" else got == want if op == "==" else got > want
        if not ok:
            fail("%s is %s, expected %s %s" % (key, got, op, want))
    return 0


if __name__ == "__main__":
    sys.exit(main())
