#!/usr/bin/env python3
"""siptlsd's /metrics ([core] metrics) against real traffic: TLS user
agents (python ssl) register and send requests through siptlsd to a
scripted UDP backend; siptlsd answers an OPTIONS itself and a request too
big for a datagram with 503 (backend send failure); the backend sends to a
TLS peer (an outbound connection); a session is resumed; a client
certificate is refused (untrusted); a non-TLS client fails its handshake;
the backend asks for a flow that is gone (430); one SIGHUP reload works
and one fails. Then:
- `promtool check metrics` (Debian's prometheus) accepts both pages (with
  connections open, after the traffic);
- every family the issue lists is there and moved, with its labels;
- the shipped Grafana dashboard (contrib/grafana) uses only metric names
  and grouping labels that are on the page, and promtool parses each of
  its expressions;
- /metrics is served to loopback, other paths are 404; on 0.0.0.0 a scrape
  from this machine's non-loopback address is refused unless
  metrics_allow lists it;
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

from daemon_util import (Daemon, SIPTLSD, SOURCE, check, fail,
                         free_tcp_port as free_port, test_pki)
from relay_util import (Backend, Stream, TlsPeer, hostport_of, request,
                        tls_client, tls_context, uri_of)

PKI = test_pki()
AOR = "sip:alice@example.test"
AOR2 = "sip:alice2@example.test"


def pki(name):
    return os.path.join(PKI, name)


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


TLS_CFG = """[server:default]
certificate = %(srv)s
private_key = %(srvk)s
verify_client = optional
ca_list = %(ca)s
[client:default]
verify_certificate = yes
ca_list = %(ca)s
verify_server_name = yes
"""


def write_tls_cfg(tmp, broken=False):
    with open(os.path.join(tmp, "tls.cfg"), "w") as f:
        f.write(TLS_CFG % {"srv": pki("server.pem"),
                           "srvk": pki("missing.key" if broken
                                       else "server.key"),
                           "ca": pki("ca.pem")})


def start(be, port):
    tmp = tempfile.mkdtemp(prefix="stls-metrics-")
    write_tls_cfg(tmp)
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


def register(ua, aor, call_id):
    ua.send(request("REGISTER", "sips:example.test", "TLS 10.0.0.7:5061",
                    call_id, 1, aor, aor,
                    extra=[("Contact", "<sips:u@10.0.0.7:5061>")]))
    r = ua.read()
    check(r is not None and r.status == 200, "REGISTER %s: 200" % aor)


def out_request(be, aor, target, call_id, extra=()):
    """The backend sends a request to an outside target (siptlsd dials
    it), to siptlsd's inside address (the registration's Path)."""
    inside = hostport_of(uri_of(be.bindings[aor][1][0]))
    be.send(request("MESSAGE", target, "UDP 127.0.0.1:%d" % be.port,
                    call_id, 1, "sip:pbx@example.test", "sip:peer@x",
                    extra=list(extra)), inside)
    return be.wait(lambda m: not m.is_request and
                   m.get("call-id") == call_id, 8)


class Traffic:
    """What the page must show afterwards, as the clients saw it."""
    cipher = version = None
    resumed = False


def traffic(d, be, mport):
    """Every kind of event the metrics count, made by real TLS peers.
    Returns a Traffic with what the client side negotiated, and the page
    scraped while one inbound and one outbound connection were open."""
    t = Traffic()
    port = [p for proto, _, p in d.addrs if proto == "tls"][0]
    ua = tls_client("127.0.0.1", port, cert="client")
    t.cipher = ua.s.cipher()[0]
    t.version = ua.s.version()
    register(ua, AOR, "reg-1")
    for i in range(3):
        ua.send(request("MESSAGE", "sip:bob@example.test",
                        "TLS 10.0.0.7:5061", "m-%d" % i, 1, AOR,
                        "sip:bob@example.test"))
        check(ua.read() is not None, "MESSAGE %d relayed and answered" % i)
    ua.send(request("OPTIONS", "sip:127.0.0.1:%d" % port,
                    "TLS 10.0.0.7:5061", "o-1", 1, AOR, "sip:127.0.0.1"))
    r = ua.read()
    check(r is not None and r.status == 200, "OPTIONS answered by siptlsd")
    # Too big for a UDP datagram once relayed: the backend send fails
    # and siptlsd answers 503 itself.
    def big(n):
        return request("MESSAGE", "sip:bob@example.test",
                       "TLS 10.0.0.7:5061", "big-1", 1, AOR,
                       "sip:bob@example.test",
                       extra=[("Content-Type", "text/plain")],
                       body=b"x" * n)
    # 65,500 bytes: under max_message_size (65,535), over a datagram's
    # 65,507 once siptlsd added its Via and Record-Route.
    ua.send(big(65500 - len(big(0))))
    r = ua.read()
    check(r is not None and r.status == 503,
          "oversized request: backend send failed, 503 from siptlsd (%s)"
          % (r.start if r else None))
    # Outbound: the backend sends to a TLS peer; siptlsd dials it.
    peer = TlsPeer("server")
    try:
        r = out_request(be, AOR, "sips:peer@127.0.0.1:%d" % peer.port,
                        "out-1", [("X-tls-Server-Name",
                                   "sip.example.test")])
        check(r is not None and r.status == 200,
              "outbound TLS request answered through siptlsd")
        # Both connections are open now: the gauges show them.
        _, t.open_page = scrape(mport)
    finally:
        peer.close()
    # A second connection that resumes the first one's session.
    ctx = tls_context("client")
    raw = socket.create_connection(("127.0.0.1", port), 5)
    first = ctx.wrap_socket(raw, server_hostname="sip.example.test")
    f = Stream(first)
    f.send(request("OPTIONS", "sip:127.0.0.1", "TLS 10.0.0.7:5061", "o-2",
                   1, AOR, "sip:127.0.0.1"))
    check(f.read() is not None, "OPTIONS on a fresh connection")
    sess = first.session
    f.close()
    raw = socket.create_connection(("127.0.0.1", port), 5)
    again = ctx.wrap_socket(raw, server_hostname="sip.example.test",
                            session=sess)
    t.resumed = again.session_reused
    check(t.resumed, "python ssl resumed its session")
    Stream(again).close()
    # A flow that is gone: alice2 registers and leaves; the backend's
    # request along her Path gets 430 Flow Failed.
    ua2 = tls_client("127.0.0.1", port, cert="client")
    register(ua2, AOR2, "reg-2")
    ua2.close()
    time.sleep(0.5)
    be.request_via_path(AOR2, "MESSAGE", "gone-1", 1)
    r = be.wait(lambda m: not m.is_request and
                m.get("call-id") == "gone-1", 8)
    check(r is not None and r.status == 430,
          "request for a closed flow: %s" % (r.start if r else None))
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
    return t


def check_open(s):
    check(value(s, "siptls_tls_connections", direction="in",
                state="established", profile="TLSs<default>") >= 1,
          "an inbound TLS connection established on TLSs<default>")
    check(value(s, "siptls_tls_connections", direction="out",
                state="established", profile="TLSc<default>") >= 1,
          "an outbound TLS connection established on TLSc<default>")
    check(value(s, "siptls_connections_open") >= 2, "connections open")
    check(any(n == "siptls_tls_clear_text_queued_bytes" for n, _ in s),
          "write-queue bytes gauge")
    check(value(s, "siptls_low_memory") == 0 and
          any(n == "siptls_low_memory" for n, _ in s),
          "low-memory state gauge: 0")


def check_page(s, t):
    check(value(s, "siptls_build_info") == 1, "build_info")
    hs = value(s, "siptls_tls_handshakes_total", result="ok",
               profile="TLSs<default>", version=t.version, cipher=t.cipher)
    check(hs >= 4, "ok handshakes on TLSs<default> with the client's "
          "version %s and cipher %s: %d" % (t.version, t.cipher, hs))
    check(value(s, "siptls_tls_handshakes_total", result="ok",
                profile="TLSc<default>") == 1,
          "one outbound handshake on TLSc<default>")
    check(value(s, "siptls_tls_handshakes_total", result="failed") >= 2,
          "failed handshakes counted (untrusted certificate, not TLS)")
    check(value(s, "siptls_tls_resumptions_total",
                profile="TLSs<default>") == 1,
          "one resumption on TLSs<default>")
    check(value(s, "siptls_tls_verify_failures_total", cause="untrusted")
          == 1, "verification failure with cause untrusted")
    check(value(s, "siptls_relay_messages_total", direction="from_client",
                outcome="relayed") >= 6,
          "REGISTER x2, 3 MESSAGE, OPTIONS to the backend relayed")
    check(value(s, "siptls_relay_messages_total", direction="from_client",
                outcome="local_reply") == 1, "1 local reply (OPTIONS)")
    check(value(s, "siptls_relay_messages_total", direction="from_client",
                outcome="error_reply") == 1, "1 error reply (503)")
    check(value(s, "siptls_relay_messages_total", direction="from_backend",
                outcome="relayed") >= 5, "responses and MESSAGE relayed")
    check(value(s, "siptls_relay_messages_total", direction="from_backend",
                outcome="error_reply") == 1, "430 is an error reply")
    check(value(s, "siptls_relay_flow_failures_total") == 1,
          "430 for the gone flow counted")
    lat = value(s, "siptls_relay_latency_seconds_count")
    check(lat >= 4, "relay latency observed for each request: %d" % lat)
    check(value(s, "siptls_relay_latency_seconds_bucket", le="+Inf") ==
          lat, "+Inf bucket equals the count")
    check(value(s, "siptls_tls_handshake_duration_seconds_count") >= 4,
          "handshake durations observed")
    check(value(s, "siptls_backend_sends_total") >= 4, "backend sends")
    check(value(s, "siptls_backend_send_failures_total") == 1,
          "one backend send failure (the oversized datagram)")
    exp = value(s, "siptls_tls_certificate_expiry_seconds",
                profile="TLSs<default>")
    check(exp > 86400, "certificate expiry of TLSs<default>: %d days"
          % (exp // 86400))
    check(value(s, "siptls_connection_closes_total", reason="peer") >= 2,
          "connection closes by reason (peer)")
    check(value(s, "siptls_tls_closes_total", reason="verify") >= 1,
          "TLS close reason verify")
    check(value(s, "siptls_tls_closes_total", reason="handshake") >= 1,
          "TLS close reason handshake")


def dashboard_exprs(node):
    """Every PromQL expression in a Grafana dashboard: panel targets'
    "expr" and template variables' "query", at any depth (rows nest)."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("expr", "query") and isinstance(v, str):
                yield v
            else:
                yield from dashboard_exprs(v)
    elif isinstance(node, list):
        for v in node:
            yield from dashboard_exprs(v)


def check_dashboard(page):
    """contrib/grafana's dashboard against a real page: each metric name
    it uses is served, each label it groups by is on one of the
    expression's metrics, and promtool parses every expression (as a
    recording rule, Grafana's variables replaced)."""
    s = samples(page)
    names = {n for n, _ in s}
    labels = {}
    for n, ls in s:
        labels.setdefault(n, set()).update(k for k, _ in ls)
    path = os.path.join(SOURCE, "contrib", "grafana",
                        "siptls-dashboard.json")
    with open(path) as f:
        exprs = list(dashboard_exprs(json.load(f)))
    used, bad_labels, rules = set(), [], []
    for e in exprs:
        here = set(re.findall(r"\bsiptls_[a-zA-Z0-9_]+", e))
        used |= here
        have = set().union(*(labels.get(n, set()) for n in here))
        for group in re.findall(r"\bby \(([^)]*)\)", e):
            for lab in (x.strip() for x in group.split(",")):
                if lab not in have:
                    bad_labels.append("%s in %s" % (lab, e))
        if not e.startswith("label_values("):
            rules.append(e.replace("$__rate_interval", "5m")
                         .replace("$instance", ".*"))
    missing = sorted(used - names)
    check(len(used) >= 20 and not missing,
          "dashboard uses %d metric names, all on the page%s" %
          (len(used), (": missing " + ", ".join(missing)) if missing else ""))
    check(not bad_labels, "labels grouped by are on their metrics%s" %
          ("" if not bad_labels else ": " + "; ".join(bad_labels)))
    tmp = tempfile.mkdtemp(prefix="stls-dash-")
    rf = os.path.join(tmp, "rules.yml")
    with open(rf, "w") as f:
        f.write("groups:\n- name: dashboard\n  rules:\n")
        for i, e in enumerate(rules):
            f.write("  - record: dashboard:expr%d\n    expr: %s\n"
                    % (i, json.dumps(e)))
    p = subprocess.run(["promtool", "check", "rules", rf],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "promtool parses the dashboard's %d "
          "expressions%s" % (len(rules), "" if p.returncode == 0 else
                             ":\n" + p.stdout + p.stderr))


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


def promtool(page, what):
    p = subprocess.run(["promtool", "check", "metrics"], input=page,
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "promtool check metrics (%s): clean%s" %
          (what, "" if p.returncode == 0 else ":\n" + p.stdout + p.stderr))


def reloads(d):
    """One good SIGHUP reload, then one that fails (a key file that is
    not there) and keeps the running set."""
    d.p.send_signal(signal.SIGHUP)
    check(d.wait_log(r"TLS profiles reloaded", 10), "reload done")
    t_ok = time.time()
    write_tls_cfg(d.tmp, broken=True)
    d.p.send_signal(signal.SIGHUP)
    check(d.wait_log(r"SIGHUP: reload failed", 10), "broken reload refused")
    write_tls_cfg(d.tmp)
    return t_ok


def local_address():
    """A non-loopback IPv4 address of this machine, or None."""
    out = subprocess.run(["ip", "-4", "-o", "addr", "show"],
                         capture_output=True, text=True).stdout
    for a in re.findall(r"inet (\d+\.\d+\.\d+\.\d+)/", out):
        if not a.startswith("127."):
            return a
    return None


def check_sources(be):
    """metrics on every address: loopback scrapes are served, one from
    a local non-loopback address outside metrics_allow is closed unread,
    and served once metrics_allow lists it."""
    addr = local_address()
    if addr is None:
        print("skip source checks: no non-loopback IPv4 address here")
        return
    for allow, served in (("198.51.100.0/24", False),
                          ("%s/32" % addr, True)):
        mport = free_port()
        d = Daemon("""[core]
listen = tls:127.0.0.1:0
backend = udp:127.0.0.1:%d
metrics = 0.0.0.0:%d
metrics_allow = %s
""" % (be.port, mport, allow))
        try:
            check(d.wait_log(r"metrics: serving", 5), "metrics on 0.0.0.0")
            try:
                with urllib.request.urlopen(
                        "http://%s:%d/metrics" % (addr, mport),
                        timeout=10) as r:
                    got = r.status == 200
            except (urllib.error.URLError, OSError, ConnectionError):
                got = False
            check(got == served, "scrape from %s with metrics_allow = %s: "
                  "%s" % (addr, allow, "served" if got else "refused"))
            _, page = scrape(mport)
            check(value(samples(page), "siptls_metrics_refused_total") ==
                  (0 if served else 1), "refusals counted")
        finally:
            d.stop()


def main():
    be = Backend()
    mport = free_port()
    d = start(be, mport)
    try:
        check(d.wait_log(r"metrics: serving http://127\.0\.0\.1:%d/metrics"
                         % mport, 5), "metrics endpoint announced")
        t = traffic(d, be, mport)
        promtool(t.open_page, "connections open")
        check_open(samples(t.open_page))
        time.sleep(1.0)
        t_ok = reloads(d)
        ctype, page = scrape(mport)
        check(ctype == "text/plain; version=0.0.4; charset=utf-8",
              "content type of the text format")
        promtool(page, "after the traffic")
        s = samples(page)
        check_page(s, t)
        check(value(s, "siptls_reloads_total", result="ok") == 1,
              "one good reload")
        check(value(s, "siptls_reloads_total", result="failed") == 1,
              "one failed reload")
        check(abs(value(s, "siptls_reload_last_success_timestamp_seconds")
                  - t_ok) < 5, "time of the last good reload")
        check(value(s, "siptls_tls_profile_generation") >= 2,
              "generation after the reload")
        check_dashboard(page)
        try:
            scrape(mport, "/")
            fail("/ should be 404")
        except urllib.error.HTTPError as e:
            check(e.code == 404, "other paths: 404")
        _, page2 = scrape(mport)
        check(value(samples(page2), "siptls_metrics_scrapes_total") >= 3,
              "scrapes counted")
        check(d.stop() == 0, "siptlsd stopped")
        check_sources(be)
    finally:
        d.kill()
        be.close()
    check_config_rules()
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
