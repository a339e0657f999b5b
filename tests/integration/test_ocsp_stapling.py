"""OCSP stapling against a real responder (docs/ocsp.md): `openssl ocsp`
on loopback answers for a test CA's index; siptlsd's [server:any]
profiles with ocsp_stapling = on fetch from the responder named in each
certificate's AIA, off the workers, and staple in TLS 1.2 and 1.3 what is
good. Peers: `openssl s_client -status` and `gnutls-cli --ocsp`.

Cases: good (stapled), revoked (not stapled), unknown (not stapled),
expired (the responder's answer is past its nextUpdate: not stapled),
unreachable (nothing stapled, the error shown), file:PATH (a response
written by `openssl ocsp -respout`), and the life of a staple whose
responder goes down: kept while it is current, dropped at its nextUpdate.
tls.info shows each certificate's expiry and OCSP state; --check warns
loudly about a must-staple certificate with nothing to staple."""
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_util import SIPTLSD, check, fail  # noqa: E402
from ctl_util import Ctl, Daemon, base_cfg, tls_port  # noqa: E402
from ocsp_util import (Pki, free_port, responder, run,  # noqa: E402
                       s_client_status)


def profile(name, pem, key, staple="on"):
    return ("[server:any]\nserver_name = %s\ncertificate = %s\n"
            "private_key = %s\nocsp_stapling = %s\n\n"
            % (name, pem, key, staple))


def states(ctl):
    """{profile server_name: ocsp dict} from tls.info."""
    out = {}
    for c in ctl.call("tls.info")["certificates"]:
        cn = c["subject"].split("CN=")[-1]
        out[cn] = dict(c["ocsp"], not_after=c["not_after"],
                       expires_in=c["expires_in"],
                       must_staple=c["must_staple"])
    return out


def wait_states(ctl, want, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        st = states(ctl)
        if all(st.get(k, {}).get("state") == v for k, v in want.items()):
            return st
        time.sleep(0.2)
    fail("OCSP states not reached: want %s, have %s" % (want, st))


def metric(port, name, contains="", **labels):
    """The value of the first sample of siptlsd's /metrics named <name>
    with these label values and <contains> in its line, or None."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                timeout=10) as r:
        page = r.read().decode()
    for line in page.splitlines():
        if not line.startswith(name + "{") and line.split(" ")[0] != name:
            continue
        if contains in line and all('%s="%s"' % kv in line
                                    for kv in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def gnutls_ocsp(port, name, ca):
    """gnutls-cli --ocsp with SNI <name>: its output (it checks the
    staple it receives against the CA)."""
    r = subprocess.run(["gnutls-cli", "--x509cafile", ca, "--ocsp",
                        "--sni-hostname", name, "--verify-hostname", name,
                        "-p", str(port), "127.0.0.1"],
                       input="", capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout + r.stderr


def main():
    tmp = tempfile.mkdtemp(prefix="stls-ocsp-")
    pki = Pki(tmp)
    p_main, p_old, p_down, p_life = (free_port(24100, 24199),
                                     free_port(24200, 24299),
                                     free_port(24300, 24399),
                                     free_port(24400, 24499))
    p_metrics = free_port(24600, 24699)
    good = pki.server("good.test", p_main)
    revoked = pki.server("revoked.test", p_main)
    unknown = pki.server("unknown.test", p_main)
    expired = pki.server("expired.test", p_old)
    down = pki.server("down.test", p_down)
    life = pki.server("life.test", p_life)
    filec = pki.server("file.test", p_main)
    pki.revoke(revoked[0])
    pki.forget(unknown[0])
    procs = []
    d = None
    try:
        procs.append(responder(pki, p_main))
        # Its answers were made two days ago: nextUpdate long past.
        procs.append(responder(pki, p_old, faketime="-2d"))
        # Answers made 50 s ago, valid one minute: 10 s left each.
        life_resp = responder(pki, p_life, nmin=1, faketime="-50s")
        procs.append(life_resp)
        der = os.path.join(tmp, "file.der")
        run("openssl", "ocsp", "-issuer", pki.ca, "-cert",
            filec[0].replace(".pem", ".crt"), "-url",
            "http://127.0.0.1:%d/" % p_main, "-respout", der, "-noverify")
        with open(os.path.join(tmp, "tls.cfg"), "w") as f:
            for name, (pem, key) in (("good.test", good),
                                     ("revoked.test", revoked),
                                     ("unknown.test", unknown),
                                     ("expired.test", expired),
                                     ("down.test", down),
                                     ("life.test", life)):
                f.write(profile(name, pem, key))
            f.write(profile("file.test", filec[0], filec[1], "file:" + der))
        d = Daemon(base_cfg(extra="metrics = 127.0.0.1:%d\n" % p_metrics,
                            tls_extra="config = tls.cfg\nfetch_timeout = 3\n"),
                   tmp=tmp)
        ctl = Ctl(d)
        port = tls_port(d)
        st = wait_states(ctl, {"good.test": "good", "revoked.test": "revoked",
                               "unknown.test": "unknown",
                               "file.test": "good", "life.test": "good"})
        # Its state is "none" before its fetch as after it: wait for the
        # fetch's error (the fetcher may reach it after the others).
        end = time.time() + 30
        while (time.time() < end and
               "expired" not in st["expired.test"]["error"]):
            time.sleep(0.2)
            st = states(ctl)
        check(st["expired.test"]["state"] == "none" and
              "expired" in st["expired.test"]["error"],
              "expired: nothing held, error says expired (%s)"
              % st["expired.test"])
        st = wait_states(ctl, {"down.test": "none"})
        t0 = time.time()
        while not st["down.test"]["error"] and time.time() - t0 < 20:
            time.sleep(0.2)
            st = states(ctl)
        check(st["down.test"]["error"] != "" and
              st["down.test"]["next_fetch"] != "",
              "unreachable responder: error shown, retried (%s)"
              % st["down.test"])
        check(st["good.test"]["source"] == "http://127.0.0.1:%d/" % p_main
              and st["good.test"]["next_update"] != "" and
              st["good.test"]["expires_in"] > 19 * 86400,
              "tls.info: responder URL, nextUpdate, certificate expiry")
        # The same states on /metrics (docs/metrics.md).
        for cn, state in (("good.test", "good"), ("revoked.test", "revoked"),
                          ("unknown.test", "unknown"),
                          ("file.test", "good")):
            v = metric(p_metrics, "siptls_tls_ocsp_status", state=state,
                       contains="CN=" + cn)
            check(v == 1, "/metrics: %s is %s (%s)" % (cn, state, v))
        left = metric(p_metrics, "siptls_tls_ocsp_response_expiry_seconds")
        check(left is not None and left > 0,
              "/metrics: seconds to the held response's nextUpdate (%s)"
              % left)
        check(metric(p_metrics, "siptls_tls_must_staple_unstapled") == 0,
              "/metrics: no must-staple certificate unstapled")
        for v in ("-tls1_2", "-tls1_3"):
            s, out = s_client_status(port, "good.test", v, pki.ca)
            check(s == "good", "good: stapled in %s (%s)" % (v, s))
            check("Verify return code: 0" in out,
                  "good: s_client verifies the chain in %s" % v)
            s, _ = s_client_status(port, "file.test", v)
            check(s == "good", "file:PATH: stapled in %s" % v)
            for name in ("revoked.test", "unknown.test", "expired.test",
                         "down.test"):
                s, _ = s_client_status(port, name, v)
                check(s is None, "%s: no staple in %s (%s)" % (name, v, s))
        rc, out = gnutls_ocsp(port, "good.test", pki.ca)
        check(rc == 0 and "OCSP" in out and "revoked" not in out.lower(),
              "gnutls-cli --ocsp accepts the good staple (rc %d)" % rc)
        rc, out = gnutls_ocsp(port, "revoked.test", pki.ca)
        check("Certificate is revoked" not in out or rc != 0,
              "gnutls-cli: revoked.test has no good staple")

        # The responder of life.test goes down: the held response stays
        # stapled while current, and is dropped at its nextUpdate.
        life_resp.stop()
        st = states(ctl)["life.test"]
        nu = time.mktime(time.strptime(st["next_update"],
                                       "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        s, _ = s_client_status(port, "life.test")
        if time.time() < nu - 1:
            check(s == "good", "responder down: last good response "
                  "still stapled (%.0f s left)" % (nu - time.time()))
        if not d.wait_log(r"life.test.*(keeping the last good|nothing to "
                          r"staple)", 30):
            fail("no failed refresh logged for life.test:\n" + d.log())
        wait_states(ctl, {"life.test": "expired"}, 30)
        s, _ = s_client_status(port, "life.test")
        check(s is None, "after nextUpdate: no longer stapled")
        check(d.wait_log(r"life.test.*expired at", 5),
              "the expiry is logged")

        # A reload keeps what was fetched (the entries outlive the set).
        ctl.call("tls.reload")
        st = states(ctl)
        check(st["good.test"]["state"] == "good",
              "after tls.reload: still good without a new fetch")
        s, _ = s_client_status(port, "good.test")
        check(s == "good", "after tls.reload: stapled")
        check(ctl.call("tls.info")["last_good_reload"] != "",
              "tls.info: last_good_reload")
    finally:
        if d:
            d.stop()
        for p in procs:
            p.stop()

    # --check: a must-staple certificate whose responder cannot be reached.
    cdir = tempfile.mkdtemp(prefix="stls-ocsp-check-")
    must = pki.server("must.test", free_port(24500, 24599), must_staple=True)
    with open(os.path.join(cdir, "siptlsd.cfg"), "w") as f:
        f.write("[core]\nlisten = tls:127.0.0.1:0\nbackend = udp:127.0.0.1:9"
                "\nhandler = echo\n[tls]\ncertificate = %s\n"
                "private_key = %s\nocsp_stapling = on\nfetch_timeout = 2\n"
                % must)
    r = subprocess.run([SIPTLSD, "-c", os.path.join(cdir, "siptlsd.cfg"),
                        "--check"], capture_output=True, text=True,
                       timeout=60)
    check(r.returncode == 0 and "MUST-STAPLE" in r.stderr and
          "must.test" in r.stderr,
          "--check warns about a must-staple certificate with nothing to "
          "staple:\n" + r.stderr)
    # ... and the running daemon says so on /metrics.
    d = Daemon(base_cfg(extra="metrics = 127.0.0.1:%d\n" % p_metrics,
                        tls_extra="certificate = %s\nprivate_key = %s\n"
                        "ocsp_stapling = on\nfetch_timeout = 2\n" % must),
               tmp=cdir)
    try:
        end = time.time() + 20
        v = None
        while time.time() < end and v != 1:
            v = metric(p_metrics, "siptls_tls_must_staple_unstapled")
            time.sleep(0.2)
        check(v == 1, "/metrics: one must-staple certificate with nothing "
              "to staple (%s)" % v)
    finally:
        d.stop()
    print("ok")


if __name__ == "__main__":
    main()
