#!/usr/bin/env python3
"""Where a relayed message waits: two summaries for bench/scenario.sh.

sched_delay.py sched FILE COMM...
    FILE is the text of `perf sched timehist` (over a perf sched record of
    the busy hour). For each COMM (a process or thread name, as perf shows
    it before the [tid/pid]; a COMM ending in * takes every name that
    begins with what precedes it) prints one NOTE line: how many times a thread
    of it was woken and then run, and the p50/p99/p999/max of the
    scheduling delay ("sch delay": from the wake-up to getting a CPU).
    That is the time a message ready in a socket waits before anyone can
    read it: no program's code, the machine's CPUs. Also the p99 and max
    of the run time (on a CPU without a break), which bounds how long one
    thread kept others waiting.

sched_delay.py histo BEFORE AFTER NAME
    BEFORE and AFTER are two scrapes of siptlsd's /metrics; NAME a
    histogram family (siptls_relay_latency_seconds). Prints one NOTE line
    with the observations between the scrapes and the bucket bounds that
    hold their p50, p99 and p999 (an upper bound on each).
"""
import re
import sys


def pctl(v, p):
    if not v:
        return 0.0
    v = sorted(v)
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


def sched(path, comms):
    delays = {c: [] for c in comms}
    runs = {c: [] for c in comms}
    line_re = re.compile(
        r"^\s*\d+\.\d+\s+\[\d+\]\s+(.+?)\[[\d/]+\]\s+([\d.]+)\s+([\d.]+)\s+"
        r"([\d.]+)")
    with open(path, errors="replace") as f:
        for line in f:
            m = line_re.match(line)
            if not m:
                continue
            name = m.group(1).strip()
            for c in comms:
                if name == c or (c.endswith("*") and
                                 name.startswith(c[:-1])):
                    delays[c].append(float(m.group(3)))
                    runs[c].append(float(m.group(4)))
                    break
    for c in comms:
        v, r = delays[c], runs[c]
        print("NOTE scheduling delay of %s (wake-up to a CPU, perf sched): "
              "%d runs, p50 %.3f ms p99 %.3f ms p999 %.3f ms max %.3f ms; "
              "run time p99 %.3f ms max %.3f ms, %.2f s in all"
              % (c, len(v), pctl(v, 50), pctl(v, 99), pctl(v, 99.9),
                 max(v) if v else 0.0, pctl(r, 99), max(r) if r else 0.0,
                 sum(r) / 1e3))


def buckets(path, name):
    out = {}
    with open(path) as f:
        for line in f:
            m = re.match(r'^%s_bucket\{le="([^"]+)"\}\s+(\S+)' % name, line)
            if m:
                le = float("inf") if m.group(1) == "+Inf" else \
                    float(m.group(1))
                out[le] = out.get(le, 0) + float(m.group(2))
    return out


def histo(before, after, name):
    a, b = buckets(before, name), buckets(after, name)
    les = sorted(b)
    cum = [b[le] - a.get(le, 0) for le in les]
    total = cum[-1] if cum else 0
    res = []
    for p in (50, 99, 99.9):
        bound = "none"
        for le, c in zip(les, cum):
            if total and c >= total * p / 100.0:
                bound = "+Inf" if le == float("inf") else "%g ms" % (le * 1e3)
                break
        res.append(bound)
    print("NOTE siptlsd %s (in-process, between the scrapes): %d "
          "observations, p50 <= %s, p99 <= %s, p999 <= %s"
          % (name, total, res[0], res[1], res[2]))


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "sched":
        sched(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) == 5 and sys.argv[1] == "histo":
        histo(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
