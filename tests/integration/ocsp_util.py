"""Helpers for the revocation tests: a small PKI made with the openssl
command (a CA, a delegated OCSP responder, server certificates with an
Authority Information Access OCSP URL and CRL distribution points), an
`openssl ocsp` responder on loopback, an HTTP file server, and
`openssl s_client -status` as the peer. Every process is started here and
stopped by its PID. Not a test itself (no test_ prefix)."""
import os
import re
import socket
import subprocess
import sys
import time

from daemon_util import fail

# Debian's faketime package.
LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


def run(*args, **kw):
    r = subprocess.run(list(args), capture_output=True, text=True,
                       timeout=60, **kw)
    if r.returncode != 0:
        fail("%s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr))
    return r.stdout


def free_port(lo=24000, hi=24999):
    """A port of this test's range that nothing listens on now."""
    for port in range(lo, hi):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            s.close()
            return port
        except OSError:
            s.close()
    fail("no free port in %d-%d" % (lo, hi))


class Pki:
    """A CA in <d>: ca.pem/ca.key, resp.pem/resp.key (id-kp-OCSPSigning),
    index.txt for `openssl ocsp`, crl.pem."""

    def __init__(self, d, ca_cdp=None):
        """ca_cdp: a CRL distribution point URL in the CA certificate
        (where crl_refresh finds the CA's CRL)."""
        self.d = d
        self.serial = 0x1000
        self.index = []
        self.ca = os.path.join(d, "ca.pem")
        self.ca_key = os.path.join(d, "ca.key")
        self.ext = os.path.join(d, "ext.cnf")
        run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-days", "30", "-subj",
            "/O=siptls test/CN=Test CA", "-keyout", self.ca_key, "-out",
            self.ca, "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            *(["-addext", "crlDistributionPoints=URI:" + ca_cdp]
              if ca_cdp else []))
        self.resp, self.resp_key = self.issue(
            "OCSP responder", ["extendedKeyUsage=OCSPSigning"], index=False)

    def _p(self, name):
        return os.path.join(self.d, name)

    def issue(self, cn, exts, index=True, days=20):
        """Issues an EC certificate for <cn> with extra extension lines.
        Returns (cert path, key path)."""
        self.serial += 1
        base = self._p("c%x" % self.serial)
        run("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=" + cn,
            "-keyout", base + ".key", "-out", base + ".csr")
        with open(self.ext, "w") as f:
            f.write("\n".join(["basicConstraints=CA:FALSE"] + exts) + "\n")
        run("openssl", "x509", "-req", "-in", base + ".csr", "-CA", self.ca,
            "-CAkey", self.ca_key, "-set_serial", str(self.serial),
            "-days", str(days), "-extfile", self.ext, "-out",
            base + ".crt")
        # The chain file: leaf then CA (the staple's issuer is looked up
        # in the certificate's chain).
        with open(base + ".pem", "w") as f:
            f.write(open(base + ".crt").read() + open(self.ca).read())
        if index:
            end = run("openssl", "x509", "-in", base + ".crt", "-noout",
                      "-enddate").split("=", 1)[1].strip()
            t = time.strptime(end, "%b %d %H:%M:%S %Y GMT")
            self.index.append(["V", time.strftime("%y%m%d%H%M%SZ", t), "",
                               "%X" % self.serial, "unknown", "/CN=" + cn])
        return base + ".pem", base + ".key"

    def server(self, cn, ocsp_port=None, crl_url=None, must_staple=False,
               days=20):
        exts = ["subjectAltName=DNS:%s,IP:127.0.0.1" % cn,
                "extendedKeyUsage=serverAuth,clientAuth"]
        if ocsp_port:
            exts.append("authorityInfoAccess=OCSP;URI:http://127.0.0.1:%d/"
                        % ocsp_port)
        if crl_url:
            exts.append("crlDistributionPoints=URI:" + crl_url)
        if must_staple:
            exts.append("tlsfeature=status_request")
        return self.issue(cn, exts, days=days)

    def serial_of(self, pem):
        return run("openssl", "x509", "-in", pem, "-noout",
                   "-serial").split("=", 1)[1].strip().lstrip("0")

    def revoke(self, pem):
        s = self.serial_of(pem)
        for e in self.index:
            if e[3] == s:
                e[0] = "R"
                e[2] = time.strftime("%y%m%d%H%M%SZ", time.gmtime(
                    time.time() - 60))
        self.write_index()

    def forget(self, pem):
        """Drops the certificate from the index: the responder then
        answers "unknown"."""
        s = self.serial_of(pem)
        self.index = [e for e in self.index if e[3] != s]
        self.write_index()

    def write_index(self):
        with open(self._p("index.txt"), "w") as f:
            for e in self.index:
                f.write("\t".join(e) + "\n")
        with open(self._p("index.txt.attr"), "w") as f:
            f.write("unique_subject = no\n")

    def crl(self, out, days=1, hours=None, idp=None):
        """A CRL of the revoked index entries, signed by the CA (openssl
        ca with a throwaway configuration)."""
        cnf = self._p("ca.cnf")
        self.write_index()
        if not os.path.exists(self._p("crlnumber")):
            with open(self._p("crlnumber"), "w") as f:
                f.write("1000\n")
        with open(cnf, "w") as f:
            f.write("[ca]\ndefault_ca = d\n[d]\ndatabase = %s\n"
                    "crlnumber = %s\ndefault_md = sha256\n"
                    "crl_extensions = ext\n[ext]\n"
                    "authorityKeyIdentifier = keyid\n"
                    % (self._p("index.txt"), self._p("crlnumber")))
            if idp:
                f.write("issuingDistributionPoint = @idp\n[idp]\n"
                        "fullname = URI:%s\n" % idp)
        args = ["openssl", "ca", "-config", cnf, "-gencrl", "-keyfile",
                self.ca_key, "-cert", self.ca, "-out", out]
        if hours:
            args += ["-crlhours", str(hours)]
        else:
            args += ["-crldays", str(days)]
        run(*args)


class Proc:
    """A helper server (responder, HTTP server), stopped by PID."""

    def __init__(self, args, port, log, ready=None, env=None):
        """ready: a regular expression of the log that says the server
        listens (default: a connection to the port succeeds; a probe
        connection would hold up a one-request-at-a-time server)."""
        self.log = log
        self.p = subprocess.Popen(args, stdout=open(log, "w"),
                                  stderr=subprocess.STDOUT, env=env)
        end = time.time() + 15
        while time.time() < end:
            if self.p.poll() is not None:
                break
            if ready:
                if re.search(ready, open(log).read()):
                    return
            else:
                try:
                    socket.create_connection(("127.0.0.1", port),
                                             0.5).close()
                    return
                except OSError:
                    pass
            time.sleep(0.05)
        self.stop()
        fail("%s did not start: %s" % (args[0], open(log).read()))

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def responder(pki, port, nmin=60, faketime=None):
    """`openssl ocsp` answering for pki's index on 127.0.0.1:port, its
    responses valid <nmin> minutes; faketime shifts its clock
    ("-50s": responses made 50 s in the past)."""
    pki.write_index()
    args = ["openssl", "ocsp", "-index", os.path.join(pki.d, "index.txt"),
            "-port", str(port), "-rsigner", pki.resp, "-rkey",
            pki.resp_key, "-CA", pki.ca, "-nmin", str(nmin), "-ignore_err",
            "-timeout", "5"]
    env = None
    if faketime:
        # libfaketime preloaded into openssl itself (the faketime wrapper
        # would fork, and stopping it by PID would leave openssl running).
        env = dict(os.environ, FAKETIME=faketime, LD_PRELOAD=LIBFAKETIME)
    return Proc(args, port, os.path.join(pki.d, "ocsp-%d.log" % port),
                ready=r"[Ww]aiting for OCSP client", env=env)


def http_server(root, port):
    """python3's http.server serving <root> on 127.0.0.1:port."""
    return Proc([sys.executable, "-m", "http.server", "--bind", "127.0.0.1",
                 "--directory", root, str(port)], port,
                os.path.join(root, "..", "http-%d.log" % port))


def s_client_status(port, name, version="-tls1_3", ca=None):
    """`openssl s_client -status` against 127.0.0.1:port with SNI <name>:
    (OCSP staple status: "good"/"revoked"/"unknown", or None for no
    staple; the full output)."""
    args = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
            "-servername", name, "-status", version]
    if ca:
        args += ["-CAfile", ca]
    r = subprocess.run(args, input="", capture_output=True, text=True,
                       timeout=30)
    out = r.stdout + r.stderr
    if "OCSP response: no response sent" in out:
        return None, out
    m = re.search(r"Cert Status: (\w+)", out)
    return (m.group(1) if m else "?"), out
