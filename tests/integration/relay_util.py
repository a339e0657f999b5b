"""Helpers for the SIP relay integration tests: SIP messages, a stream
user agent (plain TCP or TLS with python's ssl module), and a scripted UDP
backend (registrar + UAS) in a thread. Loopback only; every wait is
bounded. Not a test itself (no test_ prefix)."""
import os
import queue
import random
import re
import socket
import ssl
import threading
import time

from daemon_util import test_pki

COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id",
           "m": "contact", "l": "content-length", "c": "content-type",
           "k": "supported", "s": "subject"}


class Msg:
    """A parsed SIP message: start line, ordered headers, body."""

    def __init__(self, raw):
        self.raw = raw
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("utf-8", "replace").split("\r\n")
        self.start = lines[0]
        self.hdrs = []
        for line in lines[1:]:
            if line[:1] in (" ", "\t") and self.hdrs:
                self.hdrs[-1][1] += " " + line.strip()
                continue
            name, _, value = line.partition(":")
            self.hdrs.append([name.strip(), value.strip()])
        self.is_request = not self.start.startswith("SIP/2.0")
        self.status = 0 if self.is_request else int(self.start.split()[1])
        self.method = self.start.split()[0] if self.is_request else \
            self.get("cseq", "0 ?").split()[1]
        self.ruri = self.start.split()[1] if self.is_request else None

    @staticmethod
    def _norm(name):
        n = name.lower()
        return COMPACT.get(n, n)

    def all(self, name):
        """Every value of a header, comma lists split (outside <>)."""
        out = []
        for n, v in self.hdrs:
            if self._norm(n) == self._norm(name):
                out.extend(split_commas(v))
        return out

    def get(self, name, default=None):
        vals = self.all(name) if self._norm(name) in (
            "via", "route", "record-route", "path", "contact") else [
            v for n, v in self.hdrs if self._norm(n) == self._norm(name)]
        return vals[0] if vals else default

    def has_prefix(self, prefix):
        return [n for n, _ in self.hdrs
                if n.lower().startswith(prefix.lower())]

    def __repr__(self):
        return self.raw.decode("utf-8", "replace")


def split_commas(v):
    out, depth, cur, quote = [], 0, "", False
    for ch in v:
        if ch == '"':
            quote = not quote
        if not quote:
            if ch == "<":
                depth += 1
            elif ch == ">":
                depth -= 1
            elif ch == "," and depth == 0:
                out.append(cur.strip())
                cur = ""
                continue
        cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def build(start, hdrs, body=b""):
    s = start + "\r\n" + "".join("%s: %s\r\n" % (n, v) for n, v in hdrs)
    s += "Content-Length: %d\r\n\r\n" % len(body)
    return s.encode() + body


def branch():
    return "z9hG4bK" + "%016x" % random.getrandbits(64)


def request(method, ruri, via, call_id, cseq, from_uri, to_uri,
            from_tag="a1", to_tag=None, extra=(), body=b""):
    hdrs = [("Via", "SIP/2.0/%s;branch=%s;rport" % (via, branch())),
            ("Max-Forwards", "70"),
            ("From", "<%s>;tag=%s" % (from_uri, from_tag)),
            ("To", "<%s>%s" % (to_uri, ";tag=" + to_tag if to_tag else "")),
            ("Call-ID", call_id),
            ("CSeq", "%d %s" % (cseq, method))]
    hdrs.extend(extra)
    return build("%s %s SIP/2.0" % (method, ruri), hdrs, body)


def response(req, code, reason, to_tag="b1", extra=(), rr=True):
    hdrs = [("Via", v) for v in req.all("via")]
    if rr:
        hdrs += [("Record-Route", v) for v in req.all("record-route")]
    to = req.get("to")
    if to_tag and ";tag=" not in to:
        to += ";tag=" + to_tag
    hdrs += [("From", req.get("from")), ("To", to),
             ("Call-ID", req.get("call-id")), ("CSeq", req.get("cseq"))]
    hdrs.extend(extra)
    return build("SIP/2.0 %d %s" % (code, reason), hdrs)


def uri_of(nameaddr):
    m = re.search(r"<([^>]*)>", nameaddr)
    return m.group(1) if m else nameaddr.split(";")[0]


def hostport_of(uri):
    """(host, port) of a sip: URI (port None when absent)."""
    m = re.match(r"sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;>]+)(?::(\d+))?", uri)
    return m.group(1).strip("[]"), int(m.group(2)) if m.group(2) else None


class Stream:
    """A SIP stream client (plain or TLS socket): send, read framed
    messages, count CRLF pongs."""

    def __init__(self, sock):
        self.s = sock
        self.buf = b""
        self.pongs = 0

    def send(self, data):
        self.s.sendall(data)

    def read(self, timeout=5.0):
        end = time.time() + timeout
        while True:
            m = self._take()
            if m is not None:
                return m
            left = end - time.time()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                chunk = self.s.recv(65536)
            except (socket.timeout, ssl.SSLError, TimeoutError):
                return None
            except OSError:
                return None
            if not chunk:
                return None
            self.buf += chunk

    def _take(self):
        while self.buf.startswith(b"\r\n"):
            self.buf = self.buf[2:]
            self.pongs += 1
        i = self.buf.find(b"\r\n\r\n")
        if i < 0:
            return None
        m = re.search(rb"(?im)^(?:content-length|l)\s*:\s*(\d+)",
                      self.buf[:i])
        n = int(m.group(1)) if m else 0
        if len(self.buf) < i + 4 + n:
            return None
        raw, self.buf = self.buf[:i + 4 + n], self.buf[i + 4 + n:]
        return Msg(raw)

    def wait_pong(self, timeout=3.0):
        end = time.time() + timeout
        while self.pongs == 0 and time.time() < end:
            m = self.read(0.2)
            if m is not None:
                raise AssertionError("unexpected message: %r" % m)
        return self.pongs > 0

    def closed(self, timeout=3.0):
        end = time.time() + timeout
        while time.time() < end:
            try:
                self.s.settimeout(0.2)
                chunk = self.s.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
            except (socket.timeout, TimeoutError):
                continue
            except (OSError, ssl.SSLError):
                return True
        return False

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def tcp_client(host, port):
    return Stream(socket.create_connection((host, port), 5))


def tls_context(cert=None, verify=True):
    pki = test_pki()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if verify:
        ctx.load_verify_locations(os.path.join(pki, "ca.pem"))
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(os.path.join(pki, cert + ".pem"),
                            os.path.join(pki, cert + ".key"))
    return ctx


def tls_client(host, port, cert=None, sni="sip.example.test"):
    ctx = tls_context(cert)
    raw = socket.create_connection((host, port), 5)
    return Stream(ctx.wrap_socket(raw, server_hostname=sni))


class Backend(threading.Thread):
    """A scripted UDP registrar + UAS. Answers REGISTER (keeps Contact and
    Path per AOR), INVITE, BYE, OPTIONS and the rest with 200 unless
    `script` (method -> (code, reason) or None for silence) says
    otherwise. Every message received goes to self.q as (Msg, addr)."""

    def __init__(self, host="127.0.0.1"):
        super().__init__(daemon=True)
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.q = queue.Queue()
        self.bindings = {}
        self.script = {}
        self.stop_ev = threading.Event()
        self.start()

    def run(self):
        self.sock.settimeout(0.1)
        while not self.stop_ev.is_set():
            try:
                data, addr = self.sock.recvfrom(65536)
            except (socket.timeout, TimeoutError):
                continue
            except OSError:
                return
            if data.strip(b"\r\n") == b"":
                continue
            m = Msg(data)
            self.q.put((m, addr))
            if m.is_request:
                self._answer(m, addr)

    def _answer(self, m, addr):
        if m.method == "ACK":
            return
        code, reason = self.script.get(m.method, (200, "OK"))
        if code is None:
            return
        extra = []
        if m.method == "REGISTER" and code == 200 and m.get("contact"):
            aor = uri_of(m.get("to"))
            self.bindings[aor] = (m.get("contact"), m.all("path"))
            extra = [("Contact", m.get("contact") + ";expires=300")]
        if m.method == "INVITE":
            extra = [("Contact", "<sip:uas@127.0.0.1:%d>" % self.port)]
        self.sock.sendto(response(m, code, reason, extra=extra), addr)

    def wait(self, pred=lambda m: True, timeout=5.0):
        """Next message matching pred (others are dropped)."""
        end = time.time() + timeout
        while time.time() < end:
            try:
                m, addr = self.q.get(timeout=max(0.01, end - time.time()))
            except queue.Empty:
                return None
            if pred(m):
                self.last_addr = addr
                return m
        return None

    def send(self, data, hostport):
        self.sock.sendto(data, hostport)

    def request_via_path(self, aor, method, call_id, cseq, to_tag=None,
                         extra=(), from_tag="bk1"):
        """Sends a request to the registered contact of aor, with the
        Path entries as Route (RFC 3327), to the first Path hop."""
        contact, path = self.bindings[aor]
        routes = [("Route", p) for p in path]
        data = request(method, uri_of(contact),
                       "UDP 127.0.0.1:%d" % self.port, call_id, cseq,
                       "sip:pbx@example.test", aor, from_tag=from_tag,
                       to_tag=to_tag, extra=list(routes) + list(extra))
        host, port = hostport_of(uri_of(path[0]))
        self.send(data, (host, port))

    def close(self):
        self.stop_ev.set()
        self.join(2)
        self.sock.close()


class TlsPeer(threading.Thread):
    """A TLS SIP server (a carrier's SBC) on an ephemeral port: records
    the SNI of each handshake and every request, and answers 200."""

    def __init__(self, cert="server"):
        super().__init__(daemon=True)
        pki = test_pki()
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(os.path.join(pki, cert + ".pem"),
                                 os.path.join(pki, cert + ".key"))
        self.snis = []
        self.requests = []
        self.accepted = 0

        def on_sni(sock, name, ctx):
            self.snis.append(name)
        self.ctx.sni_callback = on_sni
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(64)
        self.port = self.ls.getsockname()[1]
        self.stop_ev = threading.Event()
        self.start()

    def run(self):
        self.ls.settimeout(0.1)
        while not self.stop_ev.is_set():
            try:
                raw, _ = self.ls.accept()
            except (socket.timeout, TimeoutError):
                continue
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._serve, args=(raw,),
                             daemon=True).start()

    def _serve(self, raw):
        try:
            raw.settimeout(5)
            s = self.ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            return
        st = Stream(s)
        while not self.stop_ev.is_set():
            m = st.read(1.0)
            if m is None:
                if st.closed(0.01):
                    break
                continue
            self.requests.append(m)
            if m.is_request and m.method != "ACK":
                try:
                    st.send(response(m, 200, "OK", to_tag="c1"))
                except OSError:
                    break
        st.close()

    def close(self):
        self.stop_ev.set()
        self.ls.close()
        self.join(2)
