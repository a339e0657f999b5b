#!/usr/bin/env python3
"""siptlsd under a service manager, without systemd: the test plays
systemd's part with an AF_UNIX datagram socket of its own named in
NOTIFY_SOCKET, and checks what siptlsd tells it: READY=1 once it serves,
WATCHDOG=1 every half of WATCHDOG_USEC (only while every worker answers
its pings), RELOADING=1 with MONOTONIC_USEC on SIGHUP followed by READY=1,
STOPPING=1 on SIGTERM. And that without NOTIFY_SOCKET it runs as
before. ctest-serial: the watchdog rhythm is timed."""
import os
import signal
import socket
import tempfile
import threading
import time

from daemon_util import Daemon, check, fail

CFG = """[core]
listen = tcp:127.0.0.1:0
backend = udp:127.0.0.1:9
workers = 2
handler = echo
"""


class FakeSystemd(threading.Thread):
    """Receives sd_notify datagrams; keeps (time, {key: value})."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.1)
        self.msgs = []
        self.lock = threading.Lock()
        self.stop_ev = threading.Event()
        self.start()

    def run(self):
        while not self.stop_ev.is_set():
            try:
                data = self.sock.recv(4096)
            except (socket.timeout, TimeoutError):
                continue
            kv = dict(line.split("=", 1)
                      for line in data.decode().split("\n") if "=" in line)
            with self.lock:
                self.msgs.append((time.monotonic(), kv))

    def find(self, key, since=0.0):
        with self.lock:
            return [(t, kv) for t, kv in self.msgs
                    if key in kv and t >= since]

    def wait(self, key, since=0.0, timeout=10.0):
        end = time.time() + timeout
        while time.time() < end:
            got = self.find(key, since)
            if got:
                return got[0]
            time.sleep(0.02)
        return None

    def close(self):
        self.stop_ev.set()
        self.join(2)
        self.sock.close()


def main():
    tmp = tempfile.mkdtemp(prefix="stls-notify-")
    path = os.path.join(tmp, "notify.sock")
    sd = FakeSystemd(path)
    os.environ["NOTIFY_SOCKET"] = path
    os.environ["WATCHDOG_USEC"] = "1000000"  # 1 s: pings every 0.5 s
    t0 = time.monotonic()
    d = Daemon(CFG, tmp=tmp)
    del os.environ["NOTIFY_SOCKET"]
    del os.environ["WATCHDOG_USEC"]
    ready = sd.wait("READY", t0)
    check(ready is not None and ready[1]["READY"] == "1",
          "READY=1 after start")
    check(ready[1].get("STATUS") == "serving", "STATUS=serving with it")
    check(d.wait_log(r"watchdog: every 500 ms, when all 2 workers", 2),
          "watchdog interval is half of WATCHDOG_USEC")
    # The rhythm: about 0.5 s between pings, over 3 s.
    time.sleep(3.2)
    pings = [t for t, _ in sd.find("WATCHDOG", ready[0])]
    check(5 <= len(pings) <= 8, "%d WATCHDOG=1 in 3.2 s" % len(pings))
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    check(all(0.35 <= g <= 0.8 for g in gaps),
          "gaps between pings 0.35-0.8 s: %s" %
          ", ".join("%.2f" % g for g in gaps))
    # Reload: RELOADING=1 with a monotonic time, then READY=1 again.
    t1 = time.monotonic()
    d.p.send_signal(signal.SIGHUP)
    rel = sd.wait("RELOADING", t1)
    check(rel is not None, "RELOADING=1 on SIGHUP")
    usec = int(rel[1].get("MONOTONIC_USEC", "0"))
    check(abs(usec / 1e6 - time.monotonic()) < 5,
          "MONOTONIC_USEC is CLOCK_MONOTONIC now")
    again = sd.wait("READY", rel[0])
    check(again is not None and again[0] >= rel[0],
          "READY=1 after the reload")
    t2 = time.monotonic()
    rc = d.stop()
    check(rc == 0, "exit 0 on SIGTERM")
    check(sd.wait("STOPPING", t2, 2) is not None, "STOPPING=1 on SIGTERM")
    stop_t = sd.find("STOPPING", t2)[0][0]
    check(not [t for t, _ in sd.find("WATCHDOG", stop_t + 0.05)],
          "no WATCHDOG=1 after STOPPING=1")
    sd.close()

    # No service manager: no watchdog, no complaint, same service.
    d = Daemon(CFG)
    check("watchdog" not in d.log() and "systemd" not in d.log(),
          "without NOTIFY_SOCKET nothing is said about systemd")
    check(d.stop() == 0, "and it stops cleanly")
    # A socket nobody reads: sd_notify fails, the daemon still runs.
    os.environ["NOTIFY_SOCKET"] = os.path.join(tmp, "nobody.sock")
    d = Daemon(CFG)
    del os.environ["NOTIFY_SOCKET"]
    check(d.wait_log(r"systemd notify: ", 2),
          "an unreachable NOTIFY_SOCKET is logged")
    check(d.stop() == 0, "and does not stop the daemon")
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
