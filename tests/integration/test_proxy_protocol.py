"""PROXY protocol v2 on tls: and tcp: listeners (docs/daemon.md).

siptlsd listens with `proxy_protocol` behind HAProxy (Debian's, as the
real L4 balancer, `send-proxy-v2`) and behind a hand-built header from a
Python client. The phone's real address, not the balancer's, appears in
Via received/rport at the backend and in tls.list, and requests from the
backend reach the phone through its flow. Refused: a connection from a
source not in proxy_trusted, one whose first bytes are not a PROXY v2
header (a v1 text header, or none), and a listener without the option
is not affected."""
import os
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_util import check, fail  # noqa: E402
from ctl_util import Ctl, Daemon  # noqa: E402
from relay_util import (Backend, Stream, request, tls_context)  # noqa: E402
from ocsp_util import Proc, free_port  # noqa: E402

AOR = "sip:alice@example.test"
SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v2_header(src, sport, dst, dport):
    body = (socket.inet_aton(src) + socket.inet_aton(dst) +
            struct.pack(">HH", sport, dport))
    return SIG + bytes([0x21, 0x11]) + struct.pack(">H", len(body)) + body


def connect_from(src_ip, port, dst_ip="127.0.0.1"):
    s = socket.socket()
    s.settimeout(5)
    s.bind((src_ip, 0))
    s.connect((dst_ip, port))
    return s


def register(ua, call_id, via):
    ua.send(request("REGISTER", "sip:example.test", via, call_id, 1, AOR,
                    AOR, extra=[("Contact", "<sip:alice@10.0.0.7:5060;"
                                 "transport=tls>")]))


def closed_soon(sock, timeout=5):
    sock.settimeout(timeout)
    try:
        return sock.recv(100) == b""
    except (ConnectionResetError, ssl.SSLError):
        return True
    except socket.timeout:
        return False


def main():
    be = Backend()
    tmp = tempfile.mkdtemp(prefix="stls-proxy-")
    d = Daemon("""[core]
listen = tls:127.0.0.1:0;proxy_protocol
listen = "tcp:127.0.0.1:0 proxy_protocol"
listen = tls:127.0.0.2:0
backend = udp:127.0.0.1:%d
workers = 2
rpc_socket = @TMP@/run/ctl.sock
proxy_trusted = 127.0.0.1/32,10.9.9.0/24
source_max_connections = 1
[relay]
""" % be.port, tmp=tmp)
    ctl = Ctl(d)
    tls_proxy = [a for a in d.addrs if a[0] == "tls" and
                 a[1] == "127.0.0.1"][0][2]
    tls_plain = [a for a in d.addrs if a[0] == "tls" and
                 a[1] == "127.0.0.2"][0][2]
    tcp_proxy = [a for a in d.addrs if a[0] == "tcp"][0][2]
    haproxy = None
    try:
        # 1. A hand-built header on the tcp: listener.
        s = connect_from("127.0.0.1", tcp_proxy)
        s.sendall(v2_header("198.51.100.7", 5070, "127.0.0.1", tcp_proxy))
        ua = Stream(s)
        register(ua, "reg-py", "TCP 10.0.0.7:5060")
        m = be.wait(lambda m: m.get("call-id") == "reg-py")
        check(m is not None, "REGISTER through a PROXY v2 header relayed")
        vias = m.all("via")
        check("received=198.51.100.7" in vias[1] and "rport=5070" in vias[1],
              "Via received/rport carry the header's source: " + vias[1])
        r = ua.read()
        check(r is not None and r.status == 200, "the 200 came back")

        # 2. HAProxy in front of the tls: listener.
        if not shutil.which("haproxy"):
            fail("haproxy is not installed (scripts/install-deps.sh)")
        hport = free_port(24700, 24799)
        cfg = os.path.join(tmp, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write("global\n  maxconn 100\n"
                    "defaults\n  mode tcp\n  timeout connect 5s\n"
                    "  timeout client 60s\n  timeout server 60s\n"
                    "frontend fe\n  bind 127.0.0.1:%d\n"
                    "  default_backend be\n"
                    "backend be\n  server s1 127.0.0.1:%d send-proxy-v2\n"
                    % (hport, tls_proxy))
        haproxy = Proc(["haproxy", "-db", "-f", cfg], hport,
                       os.path.join(tmp, "haproxy.log"))
        raw = connect_from("127.0.0.3", hport)
        cport = raw.getsockname()[1]
        tls = tls_context().wrap_socket(raw,
                                        server_hostname="sip.example.test")
        ua2 = Stream(tls)
        register(ua2, "reg-ha", "TLS 10.0.0.7:5061")
        m = be.wait(lambda m: m.get("call-id") == "reg-ha")
        check(m is not None, "REGISTER over TLS through HAProxy relayed")
        vias = m.all("via")
        check("received=127.0.0.3" in vias[1] and
              "rport=%d" % cport in vias[1],
              "through HAProxy: the phone's address 127.0.0.3:%d in Via: %s"
              % (cport, vias[1]))
        r = ua2.read()
        check(r is not None and r.status == 200, "the 200 came back")
        ent = [e for e in ctl.call("tls.list")
               if e["src_ip"] == "127.0.0.3"]
        check(len(ent) == 1 and ent[0]["src_port"] == cport,
              "tls.list shows the phone's address, not HAProxy's: %s"
              % ent)
        # The flow: a request from the backend along the Path reaches
        # the phone over its connection.
        check(len(m.all("path")) == 1, "Path with the flow: %s"
              % m.all("path"))
        be.request_via_path(AOR, "MESSAGE", "msg-ha", 1)
        got = ua2.read()
        check(got is not None and got.method == "MESSAGE",
              "a backend request reached the phone through its flow "
              "(the flow token of a PROXY connection)")

        # 3. Refused: untrusted source, no header, a v1 header.
        s = connect_from("127.0.0.2", tcp_proxy)
        check(closed_soon(s), "a source not in proxy_trusted is refused")
        check(d.wait_log(r"PROXY: connection from 127\.0\.0\.2:\d+ refused",
                         5), "and logged")
        s = connect_from("127.0.0.1", tcp_proxy)
        s.sendall(b"REGISTER sip:example.test SIP/2.0\r\n\r\n")
        check(closed_soon(s), "no PROXY header: closed")
        s = connect_from("127.0.0.1", tcp_proxy)
        s.sendall(b"PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\n")
        check(closed_soon(s), "a v1 header: closed")
        check(d.wait_log(r"PROXY: connection from .*no PROXY v2 header", 5),
              "logged as no PROXY v2 header")
        # A TLS ClientHello straight to the proxy listener.
        try:
            raw = connect_from("127.0.0.1", tls_proxy)
            tls_context(verify=False).wrap_socket(raw)
            fail("a direct TLS handshake on a proxy_protocol listener "
                 "succeeded")
        except (ssl.SSLError, ConnectionResetError, OSError):
            check(True, "a direct TLS handshake (no header) is refused")
        stats = ctl.call("core.stats")
        check(stats["closed"]["proxy"] >= 4,
              "core.stats closed.proxy counts them (%s)"
              % stats["closed"]["proxy"])

        # 4. A listener without the option is not affected.
        raw = connect_from("127.0.0.2", tls_plain, "127.0.0.2")
        ua3 = Stream(tls_context().wrap_socket(
            raw, server_hostname="sip.example.test"))
        register(ua3, "reg-plain", "TLS 10.0.0.8:5061")
        m = be.wait(lambda m: m.get("call-id") == "reg-plain")
        check(m is not None and "received=127.0.0.2" in m.all("via")[1],
              "plain listener: the socket's address as before")

        # 5. Per-source limits (source_max_connections = 1) count the
        # client's address, not the balancer's: every connection above
        # came from 127.0.0.1 and was admitted; a second one for the
        # client of case 1 (still connected) is refused after its header.
        before = ctl.call("core.stats")
        s = connect_from("127.0.0.1", tcp_proxy)
        s.sendall(v2_header("198.51.100.7", 5071, "127.0.0.1", tcp_proxy))
        check(closed_soon(s), "a second connection of 198.51.100.7 is "
              "refused (source_max_connections = 1)")
        s = connect_from("127.0.0.1", tcp_proxy)
        s.sendall(v2_header("198.51.100.8", 5072, "127.0.0.1", tcp_proxy))
        ua5 = Stream(s)
        register(ua5, "reg-other", "TCP 10.0.0.9:5060")
        check(be.wait(lambda m: m.get("call-id") == "reg-other")
              is not None, "another client behind the same balancer is "
              "served")
        after = ctl.call("core.stats")
        check(after["closed"].get("source-limit", 0) ==
              before["closed"].get("source-limit", 0) + 1,
              "closed by reason source-limit: %s" % after["closed"])
    finally:
        if haproxy:
            haproxy.stop()
        d.stop()
        be.close()
    print("ok")


if __name__ == "__main__":
    main()
