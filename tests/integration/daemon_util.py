"""Helpers for the siptlsd integration tests: start the daemon with a
config, follow its log, talk to it with plain sockets. Loopback only,
every wait bounded. Not a test itself (no test_ prefix)."""
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

BUILD = os.environ.get("STLS_BUILD_DIR", "build")
SIPTLSD = os.path.join(BUILD, "siptlsd")
SOURCE = os.environ.get("STLS_SOURCE_DIR",
                        os.path.join(os.path.dirname(__file__), "..", ".."))


def test_pki():
    """The test PKI (tests/certs/mkcerts.sh), made once per build dir."""
    d = os.path.join(BUILD, "test-certs")
    subprocess.run(["flock", d + ".lock", "bash",
                    os.path.join(SOURCE, "tests", "certs", "mkcerts.sh"), d],
                   check=True, stdout=subprocess.DEVNULL)
    return d


def install_default_cert(tmp):
    """Writes tmp/cert.pem (certificate + key), the file the implicit
    default profiles load when the config names none (as in the seed)."""
    pki = test_pki()
    path = os.path.join(tmp, "cert.pem")
    with open(path, "w") as out:
        for name in ("server.pem", "server.key"):
            with open(os.path.join(pki, name)) as f:
                out.write(f.read())
    os.chmod(path, 0o600)


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)
    print("ok   " + msg, flush=True)


class Daemon:
    """One siptlsd process. cfg is the [core] body (and any extra
    sections); nofile=(soft, hard) sets RLIMIT_NOFILE for it; asan adds
    ASAN_OPTIONS (":quarantine_size_mb=0" for memory measurements); pre
    runs in the child before siptlsd is executed (e.g. to join a cgroup)."""

    def __init__(self, cfg, nofile=None, tmp=None, asan="", pre=None):
        self.tmp = tmp or tempfile.mkdtemp(prefix="stls-daemon-")
        self.conf = os.path.join(self.tmp, "siptlsd.cfg")
        with open(self.conf, "w") as f:
            f.write(cfg.replace("@TMP@", self.tmp))
        if not os.path.exists(os.path.join(self.tmp, "cert.pem")):
            install_default_cert(self.tmp)
        self.lines = []
        self.lock = threading.Lock()

        def limits():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, nofile)
            if pre:
                pre()
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0" + asan
        self.p = subprocess.Popen([SIPTLSD, "-c", self.conf],
                                  stderr=subprocess.PIPE, text=True,
                                  preexec_fn=limits, env=env)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        if not self.wait_log(r"ready:", 15):
            self.p.kill()
            self.p.wait()
            fail("siptlsd did not start:\n" + self.log())
        self.addrs = []
        for m in re.finditer(r"listening on (\w+):(\S+):(\d+) ",
                             self.log()):
            host = m.group(2).strip("[]")
            self.addrs.append((m.group(1), host, int(m.group(3))))

    def _read(self):
        for line in self.p.stderr:
            with self.lock:
                self.lines.append(line.rstrip("\n"))

    def log(self):
        with self.lock:
            return "\n".join(self.lines)

    def wait_log(self, pattern, timeout=5.0, count=1):
        end = time.time() + timeout
        while time.time() < end:
            if len(re.findall(pattern, self.log())) >= count:
                return True
            if self.p.poll() is not None and not self.reader.is_alive():
                return len(re.findall(pattern, self.log())) >= count
            time.sleep(0.02)
        return False

    def stats(self):
        """Per-worker counters from a SIGUSR1 dump: {worker: {name: n}}."""
        n = len(re.findall(r"stats: total:", self.log()))
        self.p.send_signal(signal.SIGUSR1)
        if not self.wait_log(r"stats: total:", 5, n + 1):
            fail("no stats after SIGUSR1")
        out = {}
        block = self.log().split("\n")
        for line in block:
            m = re.search(r"stats: worker (\d+): (.*)", line)
            if m:
                out[int(m.group(1))] = {
                    k: int(v) for k, v in re.findall(r"(\w+)=(\d+)",
                                                     m.group(2))}
        return out

    def kill(self):
        """Kills siptlsd if it still runs (a test's last resort)."""
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            fail("siptlsd did not exit after signal %d" % sig)
        self.reader.join(5)
        return rc


def free_tcp_port(host="127.0.0.1"):
    """A TCP port free on host now (bound and released: a later bind by
    the caller's server may still race with another process)."""
    s = socket.socket()
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def connect(family, host, port, timeout=5.0):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((host, port))
    return s


def echo(s, data):
    s.sendall(data)
    got = b""
    while len(got) < len(data):
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    return got == data


def closed_within(s, seconds):
    """True when the daemon closes s within seconds (EOF or reset)."""
    end = time.time() + seconds
    s.settimeout(0.1)
    while time.time() < end:
        try:
            if s.recv(65536) == b"":
                return True
        except socket.timeout:
            continue
        except OSError:
            return True
    return False
