# ctest-serial: timing- and memory-sensitive, runs alone
"""The control plane end to end: the real siptlsd with a tls: listener and
the real siptlsctl. Every method with valid and invalid parameters, the
--help listing, -t tables, and cfg.set changing behaviour a TLS client can
observe: connection_timeout on new connections, send_close_notify seen by
the peer, queue limits in tls.options, tls.log / tls.debug in the log.
SIGHUP reloads like tls.reload; the loopback TCP port is read-only."""
import os
import signal
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_util import check, fail  # noqa: E402
from ctl_util import (Ctl, Daemon, base_cfg, echo, tcp_port,  # noqa: E402
                      tls_connect, tls_port)

METHODS = ["tls.info", "tls.list", "tls.options", "tls.reload", "tls.kill",
           "cfg.get", "cfg.set", "cfg.set_now_int", "cfg.set_now_string",
           "core.stats", "core.version", "core.uptime", "system.listMethods"]

RUNTIME = [  # name, good value, bad value (out of range or not a value)
    ("connection_timeout", 600, -2), ("send_close_notify", 0, "maybe"),
    ("con_ct_wq_max", 65536, 4194305), ("ct_wq_max", 10485760, -1),
    ("ct_wq_blk_size", 4096, 0), ("log", 3, 1001), ("debug", 3, -1),
    ("low_mem_threshold1", -1, -2), ("low_mem_threshold2", -1, "x"),
]


def closed_how(s, timeout):
    """'notify' (close_notify), 'abrupt' (TCP close without it), or
    'open' when nothing happened within timeout seconds."""
    s.settimeout(timeout)
    try:
        data = s.recv(100)
        return "notify" if data == b"" else "data"
    except ssl.SSLEOFError:
        return "abrupt"
    except (ConnectionResetError, BrokenPipeError):
        return "abrupt"
    except (socket.timeout, TimeoutError):
        return "open"


def conn_id(ctl, s):
    port = s.getsockname()[1]
    for e in ctl.call("tls.list"):
        if e["src_port"] == port:
            return e
    fail("connection from port %d not in tls.list" % port)


def test_help_and_listing(ctl):
    rc, out, _ = ctl.run("--help")
    check(rc == 0 and all(m in out for m in METHODS),
          "siptlsctl --help lists every method")
    check("Close the TLS connection with this id" in out and
          "runtime variable of group tls" in out,
          "--help shows each method's description")
    names = ctl.call("system.listMethods")
    check(all(m in names for m in METHODS), "system.listMethods")
    rc, out, _ = ctl.run("--help", "tls.reload")
    check(rc == 0 and "changes state" in out, "--help METHOD")


def test_core(ctl):
    check(ctl.call("core.version")["name"] == "siptlsd", "core.version")
    check(ctl.call("core.uptime")["uptime"] >= 0, "core.uptime")
    st = ctl.call("core.stats")
    check("accepted" in st and "killed" in st["closed"] and
          "generation" in st["reloads"], "core.stats fields")
    rc, _, err = ctl.run("core.stats", "extra")
    check(rc == 1 and "-32602" in err, "core.stats with a parameter: -32602")


def test_info_list_options(ctl, d):
    s = tls_connect(tls_port(d))
    check(echo(s, b"hello"), "TLS echo through siptlsd")
    info = ctl.call("tls.info")
    check(info["opened_connections"] == 1 and info["handshakes"] >= 1 and
          "clear_text_write_queued_bytes" in info and
          info["max_connections"] == 10000, "tls.info fields and counts")
    e = conn_id(ctl, s)
    want = ["id", "sni", "timestamp", "timeout", "src_ip", "src_port",
            "dst_ip", "dst_port", "cipher", "ct_wq_size", "enc_rd_buf",
            "flags", "state", "profile", "direction", "version",
            "peer_subject", "verified", "generation"]
    check(all(k in e for k in want) and e["state"] == "established" and
          e["dst_port"] == tls_port(d) and e["direction"] == "in" and
          e["version"] == "TLSv1.3" and e["flags"] & 2,
          "tls.list entry: every field, peer/local addresses")
    plain = socket.create_connection(("127.0.0.1", tcp_port(d)), timeout=5)
    plain.sendall(b"x")
    plain.recv(1)
    check(len(ctl.call("tls.list")) == 1, "tls.list skips tcp: connections")
    rc, out, _ = ctl.run("tls.list", table=True)
    head = out.splitlines()[0].split()
    check(rc == 0 and head[:4] == ["id", "sni", "timestamp", "timeout"] and
          len(out.splitlines()) == 2, "tls.list -t: header and one row")
    rc, out, _ = ctl.run("tls.info", table=True)
    check(rc == 0 and "opened_connections:" in out, "tls.info -t")
    opts = ctl.call("tls.options")
    check(opts["connection_timeout"] == 600 and opts["method"] == "TLSv1.2+"
          and "ssl_freelist_max" in opts and "config" in opts,
          "tls.options: every parameter")
    rc, out, _ = ctl.run("tls.options", table=True)
    check(rc == 0 and "ct_wq_max:" in out, "tls.options -t")
    rc, _, err = ctl.run("tls.list", "1")
    check(rc == 1 and "-32602" in err, "tls.list with a parameter: -32602")
    plain.close()
    return s


def test_kill(ctl, s):
    rc, _, err = ctl.run("tls.kill", "abc")
    check(rc == 1 and "must be an integer" in err, "tls.kill abc: -32602")
    rc, _, err = ctl.run("tls.kill")
    check(rc == 1 and "-32602" in err, "tls.kill without id: -32602")
    rc, _, err = ctl.run("tls.kill", "12345")
    check(rc == 1 and "404" in err and "not found" in err,
          "tls.kill unknown id: 404")
    e = conn_id(ctl, s)
    check(ctl.call("tls.kill", e["id"]) == "OK", "tls.kill ID: OK")
    check(closed_how(s, 5) != "open", "killed connection is closed")
    check(ctl.call("tls.info")["closed_killed"] == 1, "closed_killed")


def test_cfg_values(ctl):
    for name, good, bad in RUNTIME:
        r = ctl.call("cfg.set", "tls", name, good)
        ok = r["value"] == good and ctl.call("cfg.get", "tls", name) == good
        rc, _, err = ctl.run("cfg.set", "tls", name, bad)
        check(ok and rc == 1 and "400" in err,
              "cfg.set tls %s: %s accepted, %s refused" % (name, good, bad))
    for alias in ("cfg.set_now_int", "cfg.set_now_string"):
        ctl.call(alias, "tls", "ct_wq_blk_size", 2048)
        check(ctl.call("cfg.get", "tls", "ct_wq_blk_size") == 2048, alias)
    rc, _, err = ctl.run("cfg.set", "tls", "verify_depth", "3")
    check(rc == 1 and "403" in err and "cannot be changed at runtime" in err,
          "cfg.set of a fixed variable: 403 with the reason")
    rc, _, err = ctl.run("cfg.get", "tls", "nope")
    check(rc == 1 and "404" in err, "cfg.get unknown variable: 404")
    rc, _, err = ctl.run("cfg.get", "core", "debug")
    check(rc == 1 and "404" in err, "cfg.get unknown group: 404")
    rc, _, err = ctl.run("cfg.set_now_int", "tls", "log", "x")
    check(rc == 1 and "-32602" in err, "cfg.set_now_int text: -32602")
    ctl.call("cfg.set", "tls", "con_ct_wq_max", 1000)
    ctl.call("cfg.set", "tls", "ct_wq_max", 5000)
    opts = ctl.call("tls.options")
    check(opts["con_ct_wq_max"] == 1000 and opts["ct_wq_max"] == 5000,
          "queue limits visible in tls.options")
    ctl.call("cfg.set", "tls", "con_ct_wq_max", 65536)
    ctl.call("cfg.set", "tls", "ct_wq_max", 10485760)


def test_timeout_effect(ctl, d):
    old = tls_connect(tls_port(d))
    ctl.call("cfg.set", "tls", "connection_timeout", 1)
    new = tls_connect(tls_port(d))
    echoed = echo(new, b"x")
    t0 = time.time()  # the last activity: the idle timer starts here
    check(echoed and conn_id(ctl, new)["timeout"] <= 1,
          "tls.list shows the new connection's 1 s timeout")
    how = closed_how(new, 8)
    check(how != "open" and 0.7 <= time.time() - t0 < 6,
          "connection_timeout 1: a new connection idles out in ~1 s "
          "(%.1f s)" % (time.time() - t0))
    check(echo(old, b"still"), "an older connection keeps its timeout")
    ctl.call("cfg.set", "tls", "connection_timeout", 600)
    old.close()


def test_close_notify(ctl, d):
    for value, want in ((0, "abrupt"), (1, "notify")):
        ctl.call("cfg.set", "tls", "send_close_notify", value)
        s = tls_connect(tls_port(d))
        echo(s, b"x")
        ctl.call("tls.kill", conn_id(ctl, s)["id"])
        how = closed_how(s, 5)
        check(how == want, "send_close_notify %d: the peer sees %s (%s)"
              % (value, want, how))
        s.close()


def count(d, pattern):
    return d.log().count(pattern)


def test_log_levels(ctl, d):
    msg = "tls: accepted established"
    ctl.call("cfg.set", "tls", "log", 3)
    before = count(d, msg)
    tls_connect(tls_port(d)).close()
    time.sleep(0.3)
    check(count(d, msg) == before, "log 3: new connections not logged "
          "(core debug 2)")
    ctl.call("cfg.set", "tls", "log", 1)
    tls_connect(tls_port(d)).close()
    check(d.wait_log("NOTICE: " + msg, 5, before + 1),
          "log 1: new connections logged as NOTICE")
    ctl.call("cfg.set", "tls", "log", 3)
    trace = "tls: conn "
    before = count(d, trace)
    ctl.call("cfg.set", "tls", "debug", 2)
    tls_connect(tls_port(d)).close()
    check(d.wait_log("INFO: " + trace, 5, before + 1),
          "debug 2: handshake state traces logged as INFO")
    ctl.call("cfg.set", "tls", "debug", 3)


def test_reload(ctl, d):
    gen = ctl.call("tls.info")["generation"]
    r = ctl.call("tls.reload")
    check(r["generation"] == gen + 1 and r["profiles"] == 2,
          "tls.reload: new generation, profile count")
    rc, _, err = ctl.run("tls.reload", "now")
    check(rc == 1 and "-32602" in err, "tls.reload with a parameter: -32602")
    bad = os.path.join(d.tmp, "bad.cfg")
    with open(bad, "w") as f:
        f.write("[server:default]\nverify_depth = many\n"
                "[client:default]\nverify_depth = lots\n")
    ctl.call("cfg.set", "tls", "config", bad)
    rc, _, err = ctl.run("tls.reload")
    check(rc == 1 and "error 500" in err and "bad.cfg:2:" in err and
          "bad.cfg:4:" in err, "broken config: 500 listing every FILE:LINE")
    check(ctl.call("tls.info")["generation"] == gen + 1,
          "broken config: running set unchanged")
    check(echo(tls_connect(tls_port(d)), b"after"),
          "broken config: new connections still served")
    ctl.call("cfg.set", "tls", "config", "")
    n = count(d, "TLS profiles reloaded")
    d.p.send_signal(signal.SIGHUP)
    check(d.wait_log("TLS profiles reloaded", 5, n + 1) and
          ctl.call("tls.info")["generation"] == gen + 2,
          "SIGHUP reloads like tls.reload")


def test_tcp_readonly(d):
    import re
    m = re.search(r"control socket: TCP port (\d+)", d.log())
    if not m:
        fail("no TCP control port in the log")
    port = m.group(1)
    from ctl_util import SIPTLSCTL
    import subprocess
    r = subprocess.run([SIPTLSCTL, "-T", "127.0.0.1:" + port, "tls.info"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, "tls.info over the TCP port")
    r = subprocess.run([SIPTLSCTL, "-T", "127.0.0.1:" + port, "tls.reload"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 1 and "403" in r.stderr,
          "tls.reload over the read-only TCP port: 403")


def main():
    d = Daemon(base_cfg("rpc_tcp = 127.0.0.1:0\n"))
    ctl = Ctl(d)
    try:
        st = os.stat(os.path.dirname(ctl.sock))
        check(st.st_mode & 0o777 == 0o750, "socket directory made 0750")
        check(os.stat(ctl.sock).st_mode & 0o777 == 0o660, "socket mode 0660")
        test_help_and_listing(ctl)
        test_core(ctl)
        s = test_info_list_options(ctl, d)
        test_kill(ctl, s)
        test_cfg_values(ctl)
        test_timeout_effect(ctl, d)
        test_close_notify(ctl, d)
        test_log_levels(ctl, d)
        test_reload(ctl, d)
        test_tcp_readonly(d)
    finally:
        rc = d.stop()
    check(rc == 0, "siptlsd exits 0")
    check(not os.path.exists(ctl.sock), "control socket removed at exit")
    check("ERROR: AddressSanitizer" not in d.log() and
          "runtime error" not in d.log(), "no sanitizer reports")


if __name__ == "__main__":
    main()
