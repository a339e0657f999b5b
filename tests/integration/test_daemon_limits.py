"""siptlsd limits and start-up checks on loopback: max_connections
refuses the excess and keeps serving the others; --check reports [core]
errors as FILE:LINE; the open-files limit is raised for max_connections;
out of descriptors (RLIMIT_NOFILE lowered) accepting backs off and
recovers; a live pid file blocks a second instance."""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_util import (SIPTLSD, Daemon, install_default_cert, check, closed_within, connect,  # noqa: E402
                         echo, fail)

BASE = """
[core]
listen = tcp:127.0.0.1:0
backend = udp:127.0.0.1:26999
handler = echo
workers = 2
"""


def max_connections():
    d = Daemon(BASE + "max_connections = 10\n")
    try:
        _, host, port = d.addrs[0]
        kept = [connect(socket.AF_INET, host, port) for _ in range(10)]
        check(all(echo(s, b"in") for s in kept), "10 connections served")
        extra = [connect(socket.AF_INET, host, port) for _ in range(5)]
        check(all(closed_within(s, 3) for s in extra),
              "5 over max_connections closed at once")
        check(all(echo(s, b"still") for s in kept),
              "the 10 others keep being served")
        st = d.stats()
        check(sum(w["refused_max_conn"] for w in st.values()) == 5,
              "refusals counted")
        for s in kept + extra:
            s.close()
        check(d.stop() == 0, "exit 0")
    finally:
        d.kill()


def check_mode():
    tmp = tempfile.mkdtemp(prefix="stls-check-")
    bad = os.path.join(tmp, "bad.cfg")
    with open(bad, "w") as f:
        f.write("[core]\nlisten = tcp:127.0.0.1\nworkers = lots\n"
                "backend = sctp:1.2.3.4:5\nbogus = 1\n")
    r = subprocess.run([SIPTLSD, "-c", bad, "--check"], text=True,
                       capture_output=True, timeout=30)
    print(r.stderr, end="")
    check(r.returncode == 1, "--check on a bad file exits 1")
    for line, key in ((2, "listen"), (3, "workers"), (4, "backend"),
                      (5, "bogus")):
        check(re.search(r"^%s:%d: %s: " % (re.escape(bad), line, key),
                        r.stderr, re.M) is not None,
              "reports %s at line %d" % (key, line))
    good = os.path.join(tmp, "good.cfg")
    with open(good, "w") as f:
        f.write(BASE)
    install_default_cert(tmp)
    r = subprocess.run([SIPTLSD, "-c", good, "--check"], text=True,
                       capture_output=True, timeout=30)
    check(r.returncode == 0 and "configuration OK" in r.stdout,
          "--check on a good file exits 0")
    r = subprocess.run([SIPTLSD, "--bogus"], capture_output=True,
                       timeout=30)
    check(r.returncode == 2, "unknown option: exit 2")
    r = subprocess.run([SIPTLSD, "--version"], capture_output=True,
                       text=True, timeout=30)
    check(r.returncode == 0 and r.stdout.startswith("siptlsd "),
          "--version")


def nofile_raised():
    d = Daemon(BASE + "max_connections = 3000\n", nofile=(256, 20000))
    try:
        m = re.search(r"open files limit raised to (\d+)", d.log())
        check(m is not None and int(m.group(1)) >= 3000,
              "open files limit raised for max_connections: %s"
              % (m.group(1) if m else None))
        with open("/proc/%d/limits" % d.p.pid) as f:
            lim = re.search(r"Max open files\s+(\d+)", f.read())
        check(int(lim.group(1)) >= 3000, "in force: %s" % lim.group(1))
        check(d.stop() == 0, "exit 0")
    finally:
        d.kill()


def emfile_backoff():
    cfg = BASE.replace("workers = 2", "workers = 1") + \
        "max_connections = 1000\naccept_backoff = 50\n"
    d = Daemon(cfg, nofile=(64, 64))
    try:
        check("below the" in d.log(), "warns that the limit is too low")
        _, host, port = d.addrs[0]
        socks = [connect(socket.AF_INET, host, port) for _ in range(90)]
        check(d.wait_log(r"pausing accept", 10), "accept backs off")
        # The first ones are served while the rest wait in the backlog.
        check(echo(socks[0], b"first"), "accepted connections served")
        for s in socks[:60]:
            s.close()
        rest = socks[60:]
        check(all(echo(s, b"late") for s in rest),
              "waiting connections accepted once descriptors are back")
        st = d.stats()
        check(st[0]["accept_backoff"] >= 1,
              "back-off counted (%d)" % st[0]["accept_backoff"])
        for s in rest:
            s.close()
        check(d.stop() == 0, "exit 0")
    finally:
        d.kill()


def pid_file_held():
    tmp = tempfile.mkdtemp(prefix="stls-pid-")
    cfg = BASE + "pid_file = @TMP@/d.pid\n"
    d = Daemon(cfg, tmp=tmp)
    try:
        conf2 = os.path.join(tmp, "second.cfg")
        with open(conf2, "w") as f:
            f.write(cfg.replace("@TMP@", tmp))
        r = subprocess.run([SIPTLSD, "-c", conf2], text=True,
                           capture_output=True, timeout=30)
        check(r.returncode == 1 and "held by running process %d" % d.p.pid
              in r.stderr, "second instance refused: pid file held")
        check(d.p.poll() is None, "first instance unaffected")
        check(d.stop() == 0 and not os.path.exists(tmp + "/d.pid"),
              "first exits 0 and removes its pid file")
    finally:
        d.kill()


def main():
    check_mode()
    max_connections()
    nofile_raised()
    emfile_backoff()
    pid_file_held()


if __name__ == "__main__":
    main()
