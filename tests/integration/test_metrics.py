#!/usr/bin/env python3
"""siptlsd's /metrics ([core] metrics) against real traffic: TLS user
agents (python ssl) send requests through siptlsd to a scripted UDP
backend, one is refused for its certificate, one handshake is broken,
one OPTIONS is answered by siptlsd itself, the backend sends a request
for a flow that is gone (430), and a SIGHUP reload happens. Then:
- `promtool check metrics` (Debian's prometheus) accepts the page;
- the counters show what happened, with their labels;
- the shipped Grafana dashboard (contrib/grafana) uses only metric names
  that are on the page;
- /metrics is served to loopback, other paths are 404;
- `siptlsd --check` refuses a non-loopback `metrics` address unless
  metrics_allow lists it, and a wildcard one without metrics_allow."""
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from daemon_util import Daemon, SIPTLSD, SOURCE, check, fail, test_pki
from relay_util import Backend, request, tls_client

PKI = test_pki()


def pki(name):
    return os.path.join(PKI, name)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def scrape(port, path="/metrics"):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                timeout=10) as r:
        return r.headers.get("Content-Type"), r.read().decode()


def samples(page):
    """{(name, frozenset(labels)): value} of every sample line."""
    out = {}
    for line in page.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
        if not m:
            fail("unparsable sample line: " + line)
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"',
                                      m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def value(s, name, **labels):
    want = set(labels.items())
    return sum(v for (n, ls), v in s.items() if n == name and want <= ls)


def start(be, port):
    tmp = tempfile.mkdtemp(prefix="stls-metrics-")
    with open(os.path.join(tmp, "tls.cfg"), "w") as f:
        f.write("""[server:default]
certificate = %s
private_key = %s
verify_client = optional
ca_list = %s
""" % (pki("server.pem"), pki("server.key"), pki("ca.pem")))
    return Daemon("""[core]
listen = tls:127.0.0.1:0
backend = udp:127.0.0.1:%d
workers = 2
metrics = 127.0.0.1:%d
[tls]
config = @TMP@/tls.cfg
[relay]
options_reply = 1
""" % (be.port, port), tmp=tmp)


def traffic(d, be):
    port = [p for proto, _, p in d.addrs if proto == "tls"][0]
    ua = tls_client("127.0.0.1", port, cert="client")
    for i in range(3):
        ua.send(request("MESSAGE", "sip:bob@example.test",
                        "TLS 10.0.0.7:5061", "m-%d" % i, 1,
                        "sip:alice@example.test", "sip:bob@example.test"))
        check(ua.read() is not None, "MESSAGE %d relayed and answered" % i)
    ua.send(request("OPTIONS", "sip:127.0.0.1:%d" % port,
                    "TLS 10.0.0.7:5061", "o-1", 1, "sip:alice@example.test",
                    "sip:127.0.0.1"))
    r = ua.read()
    check(r is not None and r.status == 200, "OPTIONS answered by siptlsd")
    ua.close()
    # A client certificate the CA did not sign: refused (untrusted).
    try:
        bad = tls_client("127.0.0.1", port, cert="client-untrusted")
        bad.send(b"OPTIONS sip:x SIP/2.0\r\n\r\n")
        bad.read(1)
    except OSError:
        pass
    # Not TLS at all: a failed handshake.
    s = socket.create_connection(("127.0.0.1", port), 5)
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    s.settimeout(5)
    try:
        s.recv(100)
    except OSError:
        pass
    s.close()
    # The backend asks for a flow that does not exist: 430.
    be.send(request("MESSAGE", "sip:alice@10.0.0.7;ob",
                    "UDP 127.0.0.1:%d" % be.port, "gone-1", 1,
                    "sip:pbx@example.test", "sip:alice@example.test",
                    extra=[("Route", "<sip:127.0.0.1:%d;lr;ob;"
                            "ftok=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA>" %
                            port)]),
            ("127.0.0.1", port))


def check_page(s):
    check(value(s, "siptls_build_info") == 1, "build_info")
    hs = value(s, "siptls_tls_handshakes_total", result="ok",
               profile="TLSs<default>")
    check(hs >= 1, "ok handshakes on TLSs<default>: %d" % hs)
    check(any(n == "siptls_tls_handshakes_total" and
              ("version", "TLSv1.3") in ls and
              ("cipher", "TLS_AES_256_GCM_SHA384") in ls
              for n, ls in s), "version and cipher labels")
    check(value(s, "siptls_tls_handshakes_total", result="failed") >= 2,
          "failed handshakes counted (untrusted certificate, not TLS)")
    check(value(s, "siptls_tls_verify_failures_total", cause="untrusted")
          == 1, "verification failure with cause untrusted")
    check(value(s, "siptls_relay_messages_total", direction="from_client",
                outcome="relayed") >= 3, "3 requests relayed")
    check(value(s, "siptls_relay_messages_total", direction="from_client",
                outcome="local_reply") == 1, "1 local reply (OPTIONS)")
    check(value(s, "siptls_relay_messages_total", direction="from_backend",
                outcome="relayed") >= 3, "3 responses relayed back")
    lat = value(s, "siptls_relay_latency_seconds_count")
    check(lat >= 3, "relay latency observed for each request: %d" % lat)
    check(value(s, "siptls_relay_latency_seconds_bucket", le="+Inf") ==
          lat, "+Inf bucket equals the count")
    check(value(s, "siptls_tls_handshake_duration_seconds_count") >= 1,
          "handshake durations observed")
    check(value(s, "siptls_backend_sends_total") >= 3, "backend sends")
    exp = value(s, "siptls_tls_certificate_expiry_seconds",
                profile="TLSs<default>")
    check(exp > 86400, "certificate expiry of TLSs<default>: %d days"
          % (exp // 86400))
    check(value(s, "siptls_connection_closes_total") >= 2,
          "connection closes by reason")
    check(value(s, "siptls_tls_closes_total", reason="verify") >= 1,
          "TLS close reason verify")


def check_dashboard(page):
    names = set(re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", page, re.M))
    path = os.path.join(SOURCE, "contrib", "grafana",
                        "siptls-dashboard.json")
    with open(path) as f:
        dash = json.load(f)
    used = set()
    for p in dash["panels"]:
        for t in p.get("targets", []):
            used |= set(re.findall(r"\bsiptls_[a-zA-Z0-9_]+", t["expr"]))
    for v in dash["templating"]["list"]:
        used |= set(re.findall(r"\bsiptls_[a-zA-Z0-9_]+", v["query"]))
    missing = sorted(used - names)
    check(len(used) >= 20 and not missing,
          "dashboard uses %d metric names, all on the page%s" %
          (len(used), (": missing " + ", ".join(missing)) if missing else ""))


def check_config_rules():
    tmp = tempfile.mkdtemp(prefix="stls-metrics-cfg-")
    cert = os.path.join(tmp, "cert.pem")
    with open(cert, "w") as out:
        for n in ("server.pem", "server.key"):
            out.write(open(pki(n)).read())
    cases = [("192.0.2.10:9161", None, 1, "is not a loopback address"),
             ("192.0.2.10:9161", "192.0.2.0/24", 0, "configuration OK"),
             ("0.0.0.0:9161", None, 1, "listens on every address"),
             ("0.0.0.0:9161", "10.0.0.0/8", 0, "configuration OK"),
             ("[::1]:9161", None, 0, "configuration OK")]
    for addr, allow, rc, text in cases:
        cfg = os.path.join(tmp, "s.cfg")
        with open(cfg, "w") as f:
            f.write("[core]\nlisten = tls:127.0.0.1:0\n"
                    "backend = udp:127.0.0.1:9\nmetrics = %s\n%s" %
                    (addr, "metrics_allow = %s\n" % allow if allow else ""))
        p = subprocess.run([SIPTLSD, "-c", cfg, "--check"],
                           capture_output=True, text=True, timeout=60)
        check(p.returncode == rc and text in p.stdout + p.stderr,
              "--check metrics = %s, metrics_allow = %s: exit %d (%s)" %
              (addr, allow, p.returncode, text))


def main():
    be = Backend()
    mport = free_port()
    d = start(be, mport)
    check(d.wait_log(r"metrics: serving http://127\.0\.0\.1:%d/metrics"
                     % mport, 5), "metrics endpoint announced")
    traffic(d, be)
    time.sleep(1.0)
    d.p.send_signal(signal.SIGHUP)
    check(d.wait_log(r"TLS profiles reloaded", 10), "reload done")
    ctype, page = scrape(mport)
    check(ctype == "text/plain; version=0.0.4; charset=utf-8",
          "content type of the text format")
    p = subprocess.run(["promtool", "check", "metrics"], input=page,
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "promtool check metrics: clean%s" %
          ("" if p.returncode == 0 else ":\n" + p.stdout + p.stderr))
    s = samples(page)
    check_page(s)
    check(value(s, "siptls_reloads_total", result="ok") == 1,
          "one good reload")
    check(abs(value(s, "siptls_reload_last_success_timestamp_seconds") -
              time.time()) < 30, "time of the last good reload")
    check(value(s, "siptls_tls_profile_generation") >= 2,
          "generation after the reload")
    check(value(s, "siptls_relay_flow_failures_total") == 1,
          "430 for the gone flow counted")
    check(value(s, "siptls_relay_messages_total", direction="from_backend",
                outcome="error_reply") == 1, "430 is an error reply")
    check_dashboard(page)
    try:
        scrape(mport, "/")
        fail("/ should be 404")
    except urllib.error.HTTPError as e:
        check(e.code == 404, "other paths: 404")
    _, page2 = scrape(mport)
    check(value(samples(page2), "siptls_metrics_scrapes_total") >= 2,
          "scrapes counted")
    check(d.stop() == 0, "siptlsd stopped")
    be.close()
    check_config_rules()
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
