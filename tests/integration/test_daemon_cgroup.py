#!/usr/bin/env python3
"""workers = auto under a cgroup CPU quota (docs/daemon.md "Workers"):
the real siptlsd started inside a cgroup made here, with 1 and then 1.5
CPUs' time, runs 1 and then 2 workers (the quota rounded up, at most
the affinity mask), each with its handshake thread, and serves; started
outside it, as many workers as CPUs it may use (its affinity mask, and
any quota on the cgroups above the test's). Needs a writable cpu
hierarchy: root on cgroup v1, or on v2 a cgroup that may give its
children the cpu controller (only one without processes of its own:
in practice the root cgroup). Without one it exits 77 (skipped) and
says why."""
import errno
import math
import os
import re
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_util import Daemon, check, connect, echo  # noqa: E402

BASE = """
[core]
listen = tls:127.0.0.1:0
backend = udp:127.0.0.1:26999
handler = echo
"""


def unescape(field):
    """mountinfo writes space, tab, newline and backslash as \\ooo."""
    return re.sub(r"\\([0-3][0-7][0-7])",
                  lambda m: chr(int(m.group(1), 8)), field)


def cpu_cgroup():
    """(directory of this process's cpu cgroup, its mount point, v2) or
    None."""
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
            root, point = unescape(fields[3]), unescape(fields[4])
            if root != "/" and not (path + "/").startswith(root + "/"):
                continue
            rel = path[len(root):] if root != "/" else path
            point = point.rstrip("/")
            d = (point + rel.rstrip("/")) or "/"
            if os.path.exists(os.path.join(d, "cgroup.procs")):
                return d, point or "/", want == "cgroup2"
    return None


def least_quota(d, top, v2):
    """The least quota (in CPUs, a float) set on d and its parents up to
    the mount point top, or None: what already limits the test."""
    least = None
    while True:
        q = None
        try:
            if v2:
                with open(d + "/cpu.max") as f:
                    a, b = f.read().split()
                    if a != "max":
                        q = int(a) / int(b)
            else:
                with open(d + "/cpu.cfs_quota_us") as f:
                    a = int(f.read())
                with open(d + "/cpu.cfs_period_us") as f:
                    b = int(f.read())
                if a > 0:
                    q = a / b
        except (OSError, ValueError):
            pass
        if q is not None and (least is None or q < least):
            least = q
        if len(d) <= len(top) or d == "/":
            return least
        d = os.path.dirname(d)


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


def remove(cg):
    """rmdir, waiting while the kernel still counts a process that left."""
    for _ in range(100):
        try:
            os.rmdir(cg)
            return
        except OSError as e:
            if e.errno != errno.EBUSY:
                raise
            time.sleep(0.01)
    os.rmdir(cg)


def main():
    found = cpu_cgroup()
    if not found:
        print("SKIP: no cgroup hierarchy with the cpu controller")
        sys.exit(77)
    parent, top, v2 = found
    cg = os.path.join(parent, "stls-test-%d-%d" % (os.getpid(),
                                                   int(time.time())))
    try:
        os.mkdir(cg)
    except OSError as e:
        print("SKIP: cannot make a cgroup in %s: %s" % (parent, e))
        sys.exit(77)
    try:
        if not os.path.exists(os.path.join(cg, "cpu.max" if v2 else
                                           "cpu.cfs_quota_us")):
            print("SKIP: %s has no cpu controller (v2 gives it only "
                  "to children of a cgroup without processes)" % cg)
            sys.exit(77)
        r = subprocess.run(["sh", "-c", "echo $$ > %s/cgroup.procs" % cg],
                           capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            print("SKIP: a process cannot join %s: %s" % (cg, r.stderr))
            sys.exit(77)
        ncpu = len(os.sched_getaffinity(0))
        above = least_quota(parent, top, v2)  # what limits us already
        cap = ncpu if above is None else min(ncpu, math.ceil(above))
        for micros in (100000, 150000):
            if above is not None and micros / 100000 > above:
                print("note: quota %d/100000 not tried: a parent allows "
                      "%.2f CPUs" % (micros, above))
                continue
            run_in(cg, micros, v2, min(math.ceil(micros / 100000), cap))
        d = Daemon(BASE)
        try:
            check(threads(d.p.pid, "stls-w") == cap,
                  "outside the test's cgroup: one worker per usable CPU "
                  "(%d)" % cap)
            check(d.stop() == 0, "exit 0")
        finally:
            d.kill()
    finally:
        remove(cg)
    print("PASS test_daemon_cgroup")


if __name__ == "__main__":
    main()
