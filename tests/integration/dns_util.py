"""A real DNS server for the tests: NSD (Debian's nsd, installed by
scripts/install-deps.sh) started on a loopback address and a free port,
serving one zone the test writes, reloaded on demand (nsd-control over a
Unix socket). Also a raw DNS query for checking what NSD serves, and a
UDP socket that never answers. Loopback only; every wait is bounded.
Not a test itself (no test_ prefix)."""
import os
import random
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time

from daemon_util import fail

NSD_CONF = """server:
  ip-address: %(addr)s@%(port)d
  username: ""
  chroot: ""
  zonesdir: "%(dir)s"
  pidfile: "%(dir)s/nsd.pid"
  database: ""
  xfrdfile: "%(dir)s/xfrd.state"
  zonelistfile: "%(dir)s/zone.list"
  xfrdir: "%(dir)s"
  logfile: "%(dir)s/nsd.log"
  server-count: 1
  do-ip6: no
  verbosity: 1
remote-control:
  control-enable: yes
  control-interface: "%(dir)s/nsd.ctl"
zone:
  name: "%(zone)s"
  zonefile: "zone"
"""


def free_port(host, kind=socket.SOCK_DGRAM):
    """A port free for UDP and TCP on host."""
    for _ in range(50):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind((host, 0))
        port = u.getsockname()[1]
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind((host, port))
            return port
        except OSError:
            continue
        finally:
            u.close()
            t.close()
    fail("no free port on %s" % host)


def query(server, name, qtype, timeout=2.0):
    """One UDP query: (rcode, [(type, ttl, rdata bytes)]) of the answer
    section, or None when nothing came back."""
    qid = random.getrandbits(16)
    msg = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        msg += bytes([len(label)]) + label.encode()
    msg += b"\0" + struct.pack(">HH", qtype, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(msg, server)
        r = s.recv(65535)
    except OSError:
        return None
    finally:
        s.close()
    an = struct.unpack(">H", r[6:8])[0]
    off = 12
    off = _skip_name(r, off) + 4
    out = []
    for _ in range(an):
        off = _skip_name(r, off)
        t, _, ttl, rdlen = struct.unpack(">HHIH", r[off:off + 10])
        off += 10
        out.append((t, ttl, r[off:off + rdlen]))
        off += rdlen
    return r[3] & 0x0f, out


def _skip_name(r, off):
    while True:
        n = r[off]
        if n & 0xc0 == 0xc0:
            return off + 2
        if n == 0:
            return off + 1
        off += 1 + n


def srv_ports(server, name):
    """The ports of the SRV records NSD serves for name."""
    r = query(server, name, 33)
    if r is None:
        return None
    return sorted(struct.unpack(">H", rd[4:6])[0]
                  for t, _, rd in r[1] if t == 33)


class Nsd:
    """nsd -d on addr:port with one zone. zone_text is the zone file
    (origin <zone>); set_zone() rewrites it and reloads."""

    def __init__(self, zone, zone_text, addr="127.0.0.53"):
        if not shutil.which("nsd") or not shutil.which("nsd-control"):
            fail("nsd is not installed (scripts/install-deps.sh installs "
                 "it)")
        self.zone = zone
        self.addr = addr
        self.port = free_port(addr)
        self.dir = tempfile.mkdtemp(prefix="stls-nsd-")
        self.conf = os.path.join(self.dir, "nsd.conf")
        with open(self.conf, "w") as f:
            f.write(NSD_CONF % {"addr": addr, "port": self.port,
                                "dir": self.dir, "zone": zone})
        self._write(zone_text)
        self.p = subprocess.Popen(["nsd", "-d", "-c", self.conf],
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.STDOUT)
        end = time.time() + 15
        while time.time() < end:
            if self.p.poll() is not None:
                fail("nsd exited:\n" + self.log())
            r = query(self.server, zone, 6, 0.3)
            if r is not None and r[0] == 0:
                return
            time.sleep(0.1)
        self.stop()
        fail("nsd did not answer:\n" + self.log())

    @property
    def server(self):
        return (self.addr, self.port)

    def _write(self, text):
        with open(os.path.join(self.dir, "zone"), "w") as f:
            f.write(text)

    def set_zone(self, text):
        """New zone contents, reloaded; returns once NSD says ok."""
        self._write(text)
        r = subprocess.run(["nsd-control", "-c", self.conf, "reload",
                            self.zone], capture_output=True, text=True,
                           timeout=10)
        if r.returncode != 0 or "ok" not in r.stdout:
            fail("nsd-control reload: %s %s" % (r.stdout, r.stderr))

    def log(self):
        try:
            with open(os.path.join(self.dir, "nsd.log")) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class Silent(threading.Thread):
    """A UDP socket that reads queries and never answers (a DNS server
    that does not answer: no ICMP refusal either). Counts what came."""

    def __init__(self, addr="127.0.0.54"):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((addr, 0))
        self.server = self.sock.getsockname()
        self.count = 0
        self.stop_ev = threading.Event()
        self.start()

    def run(self):
        self.sock.settimeout(0.1)
        while not self.stop_ev.is_set():
            try:
                self.sock.recvfrom(4096)
                self.count += 1
            except (socket.timeout, TimeoutError):
                continue
            except OSError:
                return

    def close(self):
        self.stop_ev.set()
        self.join(2)
        self.sock.close()
