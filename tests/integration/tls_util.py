"""What the tests of tls: listeners share (test_tls_listener.py,
test_daemon_hsoff.py): the test PKI's files, a tls.cfg with three server
profiles (the default, a [server:any] one by SNI, an mTLS one with a
CRL), and two TLS peers nobody here wrote: openssl s_client and Python's
ssl module."""
import os
import socket
import ssl
import subprocess

from daemon_util import test_pki

PKI = test_pki()


def pki(name):
    return os.path.join(PKI, name)


PROFILES = """[server:default]
certificate = %(srv)s
private_key = %(srvk)s
[server:any]
server_name = other.example.test
certificate = %(srv2)s
private_key = %(srv2k)s
[server:127.0.0.1:0]
server_name = mtls.example.test
certificate = %(srv)s
private_key = %(srvk)s
verify_client = on
ca_list = %(ca)s
crl = %(crl)s
[client:default]
verify_certificate = yes
ca_list = %(ca)s
""" % {"srv": pki("server.pem"), "srvk": pki("server.key"),
       "srv2": pki("server2.pem"), "srv2k": pki("server2.key"),
       "ca": pki("ca.pem"), "crl": pki("crl.pem")}


def s_client(port, *args, data=b"hello\n"):
    """openssl s_client against 127.0.0.1:port: (exit code, output)."""
    cmd = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
           "-CAfile", pki("ca.pem"), "-verify_return_error"] + list(args)
    r = subprocess.run(cmd, input=data, capture_output=True, timeout=20)
    return r.returncode, r.stdout.decode(errors="replace") + \
        r.stderr.decode(errors="replace")


def py_ctx(version=None, cert=None, key=None):
    """A client context trusting the test CA (no host name check)."""
    ctx = ssl.create_default_context(cafile=pki("ca.pem"))
    ctx.check_hostname = False
    if version:
        ctx.minimum_version = ctx.maximum_version = version
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


def py_client(port, sni, cert=None, key=None, version=None, ctx=None,
              session=None, timeout=5):
    """A TLS connection to 127.0.0.1:port (Python's ssl)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    ctx = ctx or py_ctx(version, cert, key)
    return ctx.wrap_socket(s, server_hostname=sni, session=session)
