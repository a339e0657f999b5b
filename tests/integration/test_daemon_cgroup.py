#!/usr/bin/env python3
"""workers = auto under a cgroup CPU quota (docs/daemon.md "Workers"):
the real siptlsd started inside a cgroup made here, with 1 and then 1.5
CPUs' time, runs 1 and then 2 workers (the quota rounded up, at most
the affinity mask), each with its handshake thread, and serves; started
outside it, as many workers as CPUs in its affinity mask. Needs a
writable cpu hierarchy (root; cgroup v1, or v2 with the cpu controller
delegated): without one it exits 77 (skipped) and says why."""
import os
import socket
import ssl
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_util import Daemon, check, connect, echo  # noqa: E402

BASE = """
[core]
listen = tls:127.0.0.1:0
backend = udp:127.0.0.1:26999
handler = echo
"""


def cpu_cgroup():
    """(directory of this process's cpu cgroup, v2) or None."""
    with open("/proc/self/cgroup") as f:
        lines = [ln.rstrip("\n").split(":", 2) for ln in f]
    v1 = [p for h, c, p in lines if "cpu" in c.split(",")]
    v2 = [p for h, c, p in lines if h == "0" and c == ""]
    path, want = (v1[0], "cgroup") if v1 else (v2[0] if v2 else None,
                                               "cgroup2")
    if path is None:
        return None
    with open("/proc/self/mountinfo") as f:
        for ln in f:
            a, b = ln.split(" - ", 1)
            fields, post = a.split(), b.split()
            if post[0] != want or (want == "cgroup" and
                                   "cpu" not in post[2].split(",")):
                continue
            root, point = fields[3], fields[4]
            if root != "/" and not (path + "/").startswith(root + "/"):
                continue
            rel = path[len(root):] if root != "/" else path
            return point.rstrip("/") + rel.rstrip("/"), want == "cgroup2"
    return None


def own_quota(d, v2):
    """True when this process's own cpu cgroup (or a parent) has a quota."""
    while True:
        try:
            if v2:
                with open(d + "/cpu.max") as f:
                    if not f.read().startswith("max"):
                        return True
            else:
                with open(d + "/cpu.cfs_quota_us") as f:
                    if int(f.read()) > 0:
                        return True
        except OSError:
            pass
        up = os.path.dirname(d)
        if up == d or not os.path.exists(up + ("/cgroup.procs")):
            return False
        d = up


def threads(pid, prefix):
    n = 0
    for t in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, t)) as f:
                n += f.read().startswith(prefix)
        except OSError:
            pass  # the thread ended while we listed
    return n


def set_quota(cg, v2, micros):
    name = "cpu.max" if v2 else "cpu.cfs_quota_us"
    with open(os.path.join(cg, name), "w") as f:
        f.write("%d 100000\n" % micros if v2 else "%d\n" % micros)
    if not v2:
        with open(os.path.join(cg, "cpu.cfs_period_us"), "w") as f:
            f.write("100000\n")


def run_in(cg, micros, v2, want):
    set_quota(cg, v2, micros)

    def join():
        with open(os.path.join(cg, "cgroup.procs"), "w") as f:
            f.write("0\n")
    d = Daemon(BASE, pre=join)
    try:
        with open("/proc/%d/cgroup" % d.p.pid) as f:
            check(os.path.basename(cg) in f.read(),
                  "siptlsd runs in the test's cgroup")
        check(threads(d.p.pid, "stls-w") == want,
              "quota %d/100000: %d worker(s), found %d" %
              (micros, want, threads(d.p.pid, "stls-w")))
        check(threads(d.p.pid, "stls-hs") == want,
              "one handshake thread per worker")
        port = [a for a in d.addrs if a[0] == "tls"][0][2]
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(connect(socket.AF_INET, "127.0.0.1", port))
        check(echo(s, b"OPTIONS\r\n"), "serves TLS under the quota")
        s.close()
        check(d.stop() == 0, "exit 0")
    finally:
        d.kill()


def main():
    found = cpu_cgroup()
    if not found:
        print("SKIP: no cgroup hierarchy with the cpu controller")
        sys.exit(77)
    parent, v2 = found
    cg = os.path.join(parent, "stls-test-%d" % os.getpid())
    try:
        os.mkdir(cg)
    except OSError as e:
        print("SKIP: cannot make a cgroup in %s: %s" % (parent, e))
        sys.exit(77)
    try:
        if not os.path.exists(os.path.join(cg, "cpu.max" if v2 else
                                           "cpu.cfs_quota_us")):
            print("SKIP: the cpu controller is not delegated to %s" % cg)
            sys.exit(77)
        ncpu = len(os.sched_getaffinity(0))
        run_in(cg, 100000, v2, 1)
        run_in(cg, 150000, v2, min(2, ncpu))
        if not own_quota(parent, v2):
            d = Daemon(BASE)
            try:
                check(threads(d.p.pid, "stls-w") == ncpu,
                      "no quota: one worker per CPU of the mask (%d)" % ncpu)
                check(d.stop() == 0, "exit 0")
            finally:
                d.kill()
    finally:
        os.rmdir(cg)
    print("PASS test_daemon_cgroup")


if __name__ == "__main__":
    main()
