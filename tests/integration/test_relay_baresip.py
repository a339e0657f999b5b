#!/usr/bin/env python3
"""Real phones through siptlsd: two baresip instances (Debian
baresip-core, headless: no sound card; the ausine module as microphone
and aubridge as speaker, G.711 over RTP on loopback) with TLS accounts whose outbound proxy is siptlsd, and
Kamailio 5.6 (Debian) as the UDP registrar behind it (use_path), once
with record_route() in its script and once without.

For each script: both phones register (through siptlsd, Path stored by
Kamailio); alice calls bob (INVITE through siptlsd and Kamailio back
through siptlsd on bob's TLS connection), bob answers (200, ACK), alice
hangs up (BYE); then bob calls alice and bob hangs up. Both phones must
see each call established and closed within seconds (a lost ACK or BYE
shows as a phone that keeps the call or closes it on a timer), and RTP
flow both ways while it lasts (baresip's rtp_stats). The phones
are driven through baresip's ctrl_tcp module (netstring JSON commands
and events). Everything on loopback; every process started here is
stopped by its PID."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

from daemon_util import Daemon, check, test_pki
from kam_util import Kamailio, have_kamailio, free_udp_port

PKI = os.path.abspath(test_pki())
MODULES = "/usr/lib/baresip/modules"


def free_sip_port():
    """A port free for UDP and TCP, with the next one free for TCP: baresip
    listens on sip_listen's port for UDP and TCP, on the next for TLS."""
    for _ in range(50):
        port = free_udp_port()
        socks = []
        try:
            for typ, p in ((socket.SOCK_DGRAM, port),
                           (socket.SOCK_STREAM, port),
                           (socket.SOCK_STREAM, port + 1)):
                s = socket.socket(socket.AF_INET, typ)
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise OSError("no free SIP port")


def free_tcp_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Phone:
    """One baresip process with a ctrl_tcp connection."""

    def __init__(self, tmp, user, proxy_port):
        self.user = user
        self.dir = os.path.join(tmp, user)
        os.makedirs(self.dir, exist_ok=True)
        self.ctrl_port = free_tcp_port()
        rtp = 30000 + (os.getpid() * 7 + len(user) * 100) % 20000
        with open(os.path.join(self.dir, "config"), "w") as f:
            f.write("""poll_method epoll
sip_listen 127.0.0.1:%(sip)d
sip_cafile %(ca)s
call_local_timeout 30
audio_player aubridge,%(user)s-out
audio_source ausine,440
ausrc_srate 48000
ausrc_channels 2
net_interface 127.0.0.1
rtp_stats yes
audio_alert aubridge,%(user)s-alert
rtp_ports %(rtp)d-%(rtp2)d
module_path %(mods)s
module g711.so
module aubridge.so
module ausine.so
module_tmp uuid.so
module_tmp account.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:%(ctrl)d
""" % {"sip": free_sip_port(), "ca": os.path.join(PKI, "ca.pem"),
                "user": user, "rtp": rtp, "rtp2": rtp + 20,
                "mods": MODULES, "ctrl": self.ctrl_port})
        with open(os.path.join(self.dir, "accounts"), "w") as f:
            f.write('<sip:%s@example.test;transport=tls>;outbound='
                    '"sip:127.0.0.1:%d;transport=tls";regint=600;'
                    'answermode=manual;audio_codecs=pcmu\n'
                    % (user, proxy_port))
        self.log = open(os.path.join(self.dir, "baresip.log"), "w")
        self.p = subprocess.Popen(["baresip", "-f", self.dir, "-v", "-s"],
                                  stdin=subprocess.DEVNULL,
                                  stdout=self.log, stderr=subprocess.STDOUT)
        self.s = None
        end = time.time() + 10
        while time.time() < end and self.p.poll() is None:
            try:
                self.s = socket.create_connection(
                    ("127.0.0.1", self.ctrl_port), 1)
                break
            except OSError:
                time.sleep(0.1)
        self.buf = b""
        self.events = []

    def command(self, cmd, params=""):
        data = json.dumps({"command": cmd, "params": params,
                           "token": cmd}).encode()
        self.s.sendall(b"%d:%s," % (len(data), data))

    def _pump(self, timeout):
        self.s.settimeout(timeout)
        try:
            chunk = self.s.recv(65536)
        except (socket.timeout, TimeoutError):
            return
        if not chunk:
            raise OSError("ctrl_tcp closed")
        self.buf += chunk
        while True:
            m = re.match(rb"(\d+):", self.buf)
            if not m:
                return
            n, start = int(m.group(1)), m.end()
            if len(self.buf) < start + n + 1:
                return
            msg = json.loads(self.buf[start:start + n])
            self.buf = self.buf[start + n + 1:]
            if msg.get("event"):
                self.events.append(msg)

    def wait_event(self, kind, timeout=10.0):
        """Seconds until an event of <kind> (consumed), or None."""
        t0 = time.time()
        end = t0 + timeout
        while time.time() < end:
            for i, e in enumerate(self.events):
                if e.get("type") == kind:
                    del self.events[i]
                    return time.time() - t0
            self._pump(max(0.05, min(0.5, end - time.time())))
        return None

    def registered(self, timeout=15.0):
        """True once baresip logs the 200 to its REGISTER (its
        REGISTER_OK event may come before ctrl_tcp is connected)."""
        end = time.time() + timeout
        while time.time() < end:
            if re.search(r"%s@example.test: \{\d+/TLS/v4\} 200 OK" %
                         self.user, self.tail(100000)):
                return True
            time.sleep(0.1)
        return False

    def rtp_received(self, calls):
        """RTP packets received in call number <calls> (1-based), from
        the statistics baresip prints when a call ends (rtp_stats)."""
        end = time.time() + 3
        while time.time() < end:
            got = re.findall(r"packets:\s+(\d+)\s+(\d+)",
                             self.tail(1000000))
            if len(got) >= calls:
                return int(got[calls - 1][1])
            time.sleep(0.1)
        return None

    def tail(self, n=3000):
        self.log.flush()
        with open(os.path.join(self.dir, "baresip.log")) as f:
            return f.read()[-n:]

    def stop(self):
        if self.s:
            self.s.close()
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


def call(caller, callee, hangup_by, tag, n):
    t0 = time.time()
    caller.command("dial", "sip:%s@example.test" % callee.user)
    check(callee.wait_event("CALL_INCOMING") is not None,
          "%s: %s's INVITE reached %s" % (tag, caller.user, callee.user))
    callee.command("accept")
    check(callee.wait_event("CALL_ESTABLISHED") is not None,
          "%s: %s answered (200)" % (tag, callee.user))
    check(caller.wait_event("CALL_ESTABLISHED") is not None,
          "%s: %s established (200 received, ACK sent)" %
          (tag, caller.user))
    time.sleep(1.0)  # a second of media; the ACK must have arrived
    other = callee if hangup_by is caller else caller
    hangup_by.command("hangup")
    check(hangup_by.wait_event("CALL_CLOSED") is not None,
          "%s: %s hung up" % (tag, hangup_by.user))
    dt = other.wait_event("CALL_CLOSED", 10)
    check(dt is not None and dt < 5,
          "%s: %s's BYE reached %s (closed after %s s)" %
          (tag, hangup_by.user, other.user,
           "%.1f" % dt if dt is not None else "never"))
    for ph in (caller, callee):
        rx = ph.rtp_received(n)
        check(rx is not None and rx > 10, "%s: %s received %s RTP "
              "packets (G.711, a sine source, loopback)" % (tag, ph.user,
                                                            rx))
    return time.time() - t0


def run(rr, tmp):
    tag = "record_route" if rr else "no record_route"
    kam = Kamailio(tmp, rr=rr, tag="kam-%d" % rr)
    check(kam.alive(), "%s: kamailio started" % tag)
    d = Daemon("""[core]
listen = tls:127.0.0.1:0
backend = udp:127.0.0.1:%d
workers = 2
[tls]
config = @TMP@/tls.cfg
""" % kam.port, tmp=tmp)
    port = d.addrs[0][2]
    phones = []
    try:
        for user in ("alice", "bob"):
            phones.append(Phone(tmp, user + str(int(rr)), port))
        alice, bob = phones
        for ph in phones:
            check(ph.s is not None, "%s: %s's baresip is up" % (tag,
                                                               ph.user))
            check(ph.registered(),
                  "%s: %s registered through siptlsd" % (tag, ph.user))
        t1 = call(alice, bob, alice, tag, 1)
        t2 = call(bob, alice, bob, tag, 2)
        print("FIGURES baresip %s call1=%.1fs call2=%.1fs" %
              (tag.replace(" ", "_"), t1, t2))
        for ph in phones:
            ph.stop()
        d.stats()
        direct = int(re.findall(r"relay stats:.*\bdirect=(\d+)",
                                d.log())[-1])
        check(direct == 0 if rr else direct >= 4,
              "%s: in-dialog requests %s (relay stats direct=%d)" %
              (tag, "through Kamailio" if rr else
               "from flow to flow, Kamailio not in the dialog", direct))
        phones = []
        check(d.stop() == 0, "%s: siptlsd exited cleanly" % tag)
    except SystemExit:
        print(d.log()[-4000:])
        print(kam.tail())
        for ph in phones:
            print("--- %s" % ph.user)
            print(ph.tail())
        raise
    finally:
        for ph in phones:
            ph.stop()
        if d.p.poll() is None:
            d.stop()
        kam.stop()


def main():
    check(have_kamailio(), "kamailio installed (scripts/install-deps.sh)")
    check(os.path.exists("/usr/bin/baresip") and
          os.path.exists(os.path.join(MODULES, "ctrl_tcp.so")),
          "baresip-core installed (scripts/install-deps.sh)")
    t0 = time.time()
    for rr in (True, False):
        tmp = tempfile.mkdtemp(prefix="stls-baresip-")
        with open(os.path.join(tmp, "tls.cfg"), "w") as f:
            f.write("[server:default]\ncertificate = %s/server.pem\n"
                    "private_key = %s/server.key\n" % (PKI, PKI))
        run(rr, tmp)
    print("FIGURES baresip total=%.1fs" % (time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
