"""siptlsd with its TLS profiles in a database (docs/database.md), against
real databases: an SQLite file, and a PostgreSQL server this test starts
itself (tests/pg/pg_server.sh: initdb + pg_ctl as an unprivileged user on
a free loopback port, stopped by PID at the end). ctest-serial: it runs
three daemons and a database server, and measures times.

sqlite   the rows of an imported tls.cfg give the profile set the tls.cfg
         gives (--check counts); --check names a broken row; a running
         daemon (relative `sqlite:` path) applies a change within 2 s
         (real handshakes with SNI), refuses a broken one whole (old
         certificate still served, tls.info names the row); started with
         the database gone it starts from the snapshot in state_dir, with
         a warning; without a snapshot it fails clearly.
fleet    three edges share one PostgreSQL: a profile added, changed and
         removed with `siptlsctl db` is live on every edge within 2 s; a
         broken change is refused on every edge with the same message;
         a TLS 1.3 ticket from edge A resumes on edge B (shared ticket
         keys), and after two rotations gives a full handshake, not an
         error; PostgreSQL stopped for 30 s loses no connection and no
         handshake on any edge (bounded load: one handshake per edge every
         0.3 s, echoes on held connections), a fourth edge starts from its
         snapshot meanwhile, and once the server is back the edges
         reconnect and apply the next change.
Times from a commit to live on all edges are printed (median, max).
"""
# ctest-serial
import json
import re
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_util import BUILD, SIPTLSD, SOURCE, Daemon, check, fail, \
    test_pki  # noqa: E402

CTL = os.path.join(BUILD, "siptlsctl")
PKI = test_pki()
TICKET_LIFETIME = 4


def pki(name):
    return os.path.join(PKI, name)


def der(name):
    with open(pki(name)) as f:
        pem = f.read()
    first = pem[:pem.index("-----END CERTIFICATE-----") + 25]
    return ssl.PEM_cert_to_DER_cert(first)


CERT1, CERT2 = der("server.pem"), der("server2.pem")


def run(cmd, timeout=60, env=None, inp=None):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       env=env, input=inp)
    return r.returncode, r.stdout, r.stderr


def db(*args):
    return run([CTL, "db"] + list(args), timeout=120)


def db_ok(what, *args):
    rc, o, e = db(*args)
    if rc != 0:
        print(o, e)
    check(rc == 0, what)
    return o


def ctx():
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    c.minimum_version = ssl.TLSVersion.TLSv1_3
    return c


CTX = ctx()


def hello(port, sni=None, session=None, timeout=5.0):
    """A full TLS connection with an echo: (peer certificate DER, reused,
    session)."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s = CTX.wrap_socket(raw, server_hostname=sni, session=session)
    try:
        s.sendall(b"ping\r\n")
        got = b""
        while len(got) < 6:
            chunk = s.recv(100)
            if not chunk:
                raise OSError("closed before the echo")
            got += chunk
        return s.getpeercert(True), s.session_reused, s.session
    finally:
        s.close()


def served(port, sni):
    try:
        return hello(port, sni)[0]
    except (OSError, ssl.SSLError):
        return None


def wait_served(ports, sni, want, limit):
    """Seconds until every port serves <want> for <sni>, or None."""
    t0 = time.time()
    todo = set(ports)
    while todo and time.time() - t0 < limit:
        for p in list(todo):
            if served(p, sni) == want:
                todo.discard(p)
        if todo:
            time.sleep(0.02)
    return None if todo else time.time() - t0


def edge_cfg(config, state, extra=""):
    return ("[core]\nlisten = tls:127.0.0.1:0\nbackend = udp:127.0.0.1:9\n"
            "handler = echo\nworkers = 1\nrpc_socket = @TMP@/ctl.sock\n"
            "state_dir = %s\nticket_key_lifetime = %d\n%s\n[tls]\n"
            "config = %s\n" % (state, TICKET_LIFETIME, extra, config))


def port_of(d):
    return [a for a in d.addrs if a[0] == "tls"][0][2]


def info(d):
    rc, o, e = run([CTL, "-s", os.path.join(d.tmp, "ctl.sock"), "-w", "10",
                    "tls.info"])
    if rc != 0:
        fail("tls.info: %s" % e)
    return json.loads(o)


def write_tls_cfg(path):
    with open(path, "w") as f:
        f.write("[server:default]\ncertificate = %s\nprivate_key = %s\n\n"
                "[server:any]\ncertificate = %s\nprivate_key = %s\n"
                "server_name = other.example.test\n\n"
                "[client:default]\nverify_certificate = yes\n"
                "ca_list = %s\n"
                % (pki("server.pem"), pki("server.key"),
                   pki("server2.pem"), pki("server2.key"), pki("ca.pem")))


def check_cfg(cfg):
    return run([SIPTLSD, "-c", cfg, "--check"])


def sqlite_part(tmp):
    tls = os.path.join(tmp, "tls.cfg")
    write_tls_cfg(tls)
    src = "sqlite:" + os.path.join(tmp, "tls.db")
    db_ok("sqlite: init", "init", "--db", src)
    db_ok("sqlite: import tls.cfg", "import", tls, "--db", src)
    state = os.path.join(tmp, "state")
    files = os.path.join(tmp, "files.cfg")
    with open(files, "w") as f:
        f.write(edge_cfg(tls, state).replace("@TMP@", tmp))
    dbcfg = os.path.join(tmp, "db.cfg")
    with open(dbcfg, "w") as f:
        f.write(edge_cfg("sqlite:tls.db", state).replace("@TMP@", tmp))
    r1, r2 = check_cfg(files), check_cfg(dbcfg)
    check(r1[0] == 0 and r2[0] == 0 and
          r1[1].split(": ", 1)[1] == r2[1].split(": ", 1)[1],
          "sqlite: --check of the rows gives the tls.cfg's profile set "
          "(%s)" % r2[1].strip())
    run(["sqlite3", os.path.join(tmp, "tls.db"),
         "UPDATE tlscfg SET certificate = '/nonexistent.pem' WHERE id = 2"])
    rc, o, e = check_cfg(dbcfg)
    check(rc == 1 and "tlscfg id=2 column=certificate: certificate: cannot "
          "load '/nonexistent.pem'" in e,
          "sqlite: --check names the row and column")
    run(["sqlite3", os.path.join(tmp, "tls.db"),
         "UPDATE tlscfg SET certificate = '%s' WHERE id = 2"
         % pki("server2.pem")])

    d = Daemon(edge_cfg("sqlite:tls.db", state), tmp=tmp)
    try:
        port = port_of(d)
        check(served(port, "other.example.test") == CERT2,
              "sqlite: SNI other.example.test gets server2")
        run(["sqlite3", os.path.join(tmp, "tls.db"),
             "UPDATE tlscfg SET server_name = 'third.example.test' "
             "WHERE id = 2"])
        t = wait_served([port], "third.example.test", CERT2, 2.0)
        check(t is not None, "sqlite: a change is live within 2 s (%.2f s)"
              % (t or -1))
        check(served(port, "other.example.test") == CERT1,
              "sqlite: the old name gets the default")
        run(["sqlite3", os.path.join(tmp, "tls.db"),
             "UPDATE tlscfg SET private_key = '%s' WHERE id = 2"
             % pki("server.key")])
        check(d.wait_log(r"database change refused", 3),
              "sqlite: a broken change is refused and logged")
        check(d.wait_log(r"tlscfg id=2 column=private_key", 1),
              "sqlite: the log names the row")
        i = info(d)["database"]
        check("tlscfg id=2 column=private_key" in i["last_error"] and
              i["changes_refused"] == 1,
              "sqlite: tls.info counts it and names the row")
        check(served(port, "third.example.test") == CERT2,
              "sqlite: the running set stays")
    finally:
        d.stop()
    os.rename(os.path.join(tmp, "tls.db"), os.path.join(tmp, "gone.db"))
    d = Daemon(edge_cfg("sqlite:tls.db", state), tmp=tmp)
    try:
        check(d.wait_log(r"starting from the snapshot", 1),
              "sqlite: database gone at start: the snapshot, with a warning")
        check(served(port_of(d), "third.example.test") == CERT2,
              "sqlite: the snapshot's profiles serve")
        check(info(d)["database"]["from_snapshot"],
              "sqlite: tls.info says from_snapshot")
    finally:
        d.stop()
    shutil.rmtree(state)
    with open(dbcfg, "w") as f:
        f.write(edge_cfg("sqlite:tls.db", state).replace("@TMP@", tmp))
    rc, o, e = run([SIPTLSD, "-c", dbcfg], timeout=30)
    check(rc != 0 and "no usable snapshot" in e,
          "sqlite: no database and no snapshot: a clear failure")


class Pg:
    """The test's PostgreSQL server; stop()/start() keep its data."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "pg")
        self.script = os.path.join(SOURCE, "tests", "pg", "pg_server.sh")
        rc, o, e = run(["bash", self.script, "start", self.dir], 180)
        if rc != 0:
            fail("PostgreSQL did not start: " + e)
        self.port = int(o.strip())
        os.environ["PGPASSFILE"] = os.path.join(self.dir, "pgpass")
        self.uri = "postgresql://siptls@127.0.0.1:%d/postgres" % self.port
        for d in sorted(os.listdir("/usr/lib/postgresql"), reverse=True):
            self.bin = "/usr/lib/postgresql/%s/bin" % d
            break
        self.data = os.path.join(self.dir, "run", "data")

    def as_pg(self, args):
        if os.getuid() == 0:
            return ["runuser", "-u", "nobody", "--"] + args
        return args

    def pg_ctl(self, *args):
        return run(self.as_pg([os.path.join(self.bin, "pg_ctl"), "-D",
                               self.data] + list(args)), 120)

    def stop(self):
        return self.pg_ctl("-m", "fast", "-w", "stop")[0] == 0

    def start(self):
        opts = ("-c listen_addresses=127.0.0.1 -p %d "
                "-c unix_socket_directories='' -c fsync=off "
                "-c synchronous_commit=off -c shared_buffers=16MB "
                "-c max_connections=40" % self.port)
        return self.pg_ctl("-l", os.path.join(self.dir, "run", "log2"),
                           "-w", "-t", "60", "-o", opts, "start")[0] == 0

    def psql(self, sql):
        psql = os.path.join(self.bin, "psql")
        if not os.path.exists(psql):
            psql = "psql"
        return run([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", self.uri,
                    "-c", sql])

    def destroy(self):
        run(["bash", self.script, "stop", self.dir], 120)


def same_on_all(edges, key, timeout):
    end = time.time() + timeout
    while time.time() < end:
        vals = [info(d)["database"][key] for d in edges]
        if all(vals) and len(set(vals)) == 1:
            return vals[0]
        time.sleep(0.1)
    return None


def fleet_part(tmp):
    pg = Pg(tmp)
    edges = []
    try:
        src = pg.uri + "?table=tlscfg"
        tls = os.path.join(tmp, "tls.cfg")
        write_tls_cfg(tls)
        db_ok("fleet: init (table, trigger, key table)", "init", "--db", src)
        db_ok("fleet: import", "import", tls, "--db", src)
        for n in "abc":
            et = os.path.join(tmp, "edge-" + n)
            os.mkdir(et)
            edges.append(Daemon(edge_cfg(src, os.path.join(et, "state")),
                                tmp=et))
        ports = [port_of(d) for d in edges]
        check(all(served(p, "other.example.test") == CERT2 for p in ports),
              "fleet: three edges serve the table's profiles")

        # Changes with siptlsctl db, live everywhere within 2 s.
        times = []
        db_ok("fleet: add", "add", "server:any", "certificate=" +
              pki("server2.pem"), "private_key=" + pki("server2.key"),
              "server_name=new.example.test", "--db", src)
        t = wait_served(ports, "new.example.test", CERT2, 2.0)
        check(t is not None, "fleet: an added profile is live on all edges "
              "within 2 s (%.3f s)" % (t or -1))
        times.append(t)
        db_ok("fleet: set", "set", "4", "server_name=newer.example.test",
              "--db", src)
        t = wait_served(ports, "newer.example.test", CERT2, 2.0)
        check(t is not None, "fleet: a changed profile is live on all "
              "edges within 2 s (%.3f s)" % (t or -1))
        times.append(t)
        db_ok("fleet: rm", "rm", "4", "--db", src)
        t = wait_served(ports, "newer.example.test", CERT1, 2.0)
        check(t is not None, "fleet: a removed profile is gone on all "
              "edges within 2 s (%.3f s)" % (t or -1))
        times.append(t)
        for i in range(7):
            db_ok("fleet: change %d" % i, "set", "2",
                  "server_name=n%d.example.test" % i, "--db", src)
            t = wait_served(ports, "n%d.example.test" % i, CERT2, 5.0)
            check(t is not None, "fleet: change %d live (%.3f s)"
                  % (i, t or -1))
            times.append(t)
        print("figure: commit to live on 3 edges: median %.3f s, max "
              "%.3f s over %d changes" % (statistics.median(times),
                                          max(times), len(times)))

        # A broken change (written past siptlsctl's checks) is refused on
        # every edge with the same message.
        rc, o, e = pg.psql("UPDATE tlscfg SET private_key = '%s' "
                           "WHERE id = 2" % pki("server.key"))
        check(rc == 0, "fleet: a broken row written with psql")
        msg = same_on_all(edges, "last_error", 5)
        check(msg is not None and "tlscfg id=2 column=private_key" in msg,
              "fleet: refused on every edge with the same message (%s)"
              % msg)
        check(all(served(p, "n6.example.test") == CERT2 for p in ports),
              "fleet: the running sets stay")
        pg.psql("UPDATE tlscfg SET private_key = '%s' WHERE id = 2"
                % pki("server2.key"))
        check(same_on_all(edges, "last_error", 1) is None and
              wait_served(ports, "n6.example.test", CERT2, 2.0) is not None,
              "fleet: the fix applies")

        # Session resumption across the fleet.
        time.sleep(0.5)
        _, reused, sess = hello(ports[0])
        check(not reused and sess is not None and sess.has_ticket,
              "fleet: edge A issues a ticket")
        _, reused, _ = hello(ports[1], session=sess)
        check(reused, "fleet: edge A's ticket resumes on edge B")
        _, reused, _ = hello(ports[2], session=sess)
        check(reused, "fleet: and on edge C")
        time.sleep(2 * TICKET_LIFETIME + 1.5)
        rot = sum(info(d)["database"]["ticket_key_rotations"]
                  for d in edges)
        check(rot >= 2, "fleet: keys rotated (%d keys added by the fleet)"
              % rot)
        try:
            _, reused, _ = hello(ports[1], session=sess)
            ok = not reused
        except (OSError, ssl.SSLError) as e:
            print("  %s" % e)
            ok = False
        check(ok, "fleet: after two rotations the old ticket gives a full "
              "handshake, not an error")
        check(not any(re.search(r"[0-9a-f]{64}", d.log()) for d in edges),
              "fleet: no key material in the logs")

        outage(pg, src, edges, ports, tmp)
    finally:
        for d in edges:
            try:
                d.stop()
            except SystemExit:  # logged by fail(); stop the others too
                pass
        pg.destroy()


def outage(pg, src, edges, ports, tmp):
    """PostgreSQL stopped for 30 s: nothing lost, then changes apply."""
    held = []
    for p in ports:
        for _ in range(3):
            raw = socket.create_connection(("127.0.0.1", p), timeout=5)
            held.append(CTX.wrap_socket(raw))
    check(pg.stop(), "outage: PostgreSQL stopped")
    t0 = time.time()
    n = failed = 0
    lost = 0
    extra = None
    while time.time() - t0 < 30:
        for p in ports:
            n += 1
            if served(p, "n6.example.test") != CERT2:
                failed += 1
        for s in held:
            try:
                s.sendall(b"x")
                if s.recv(10) != b"x":
                    lost += 1
            except OSError:
                lost += 1
        if extra is None and time.time() - t0 > 5:
            # A fourth edge starts while the database is away: from a
            # copy of edge A's snapshot.
            et = os.path.join(tmp, "edge-d")
            os.mkdir(et)
            shutil.copytree(os.path.join(edges[0].tmp, "state"),
                            os.path.join(et, "state"))
            extra = Daemon(edge_cfg(src, os.path.join(et, "state")),
                           tmp=et)
            check(extra.wait_log("starting from the snapshot", 1) and
                  served(port_of(extra), "n6.example.test") == CERT2,
                  "outage: a new edge starts from its snapshot and serves")
        time.sleep(0.3)
    check(failed == 0, "outage: %d handshakes in 30 s, none failed" % n)
    check(lost == 0, "outage: no held connection lost (%d)" % len(held))
    check(all(d.wait_log("connection lost", 1) for d in edges),
          "outage: every edge logged the loss")
    check(pg.start(), "outage: PostgreSQL started again")
    end = time.time() + 15
    while time.time() < end:
        if all(info(d)["database"]["connected"] for d in edges + [extra]):
            break
        time.sleep(0.2)
    i = [info(d)["database"] for d in edges + [extra]]
    check(all(x["connected"] and x["reconnects"] >= 1 for x in i),
          "outage: every edge reconnected (failures counted: %s)"
          % [x["failures"] for x in i])
    check(not info(extra)["database"]["from_snapshot"],
          "outage: the new edge now runs the database's set")
    db_ok("outage: a change after the outage", "set", "2",
          "server_name=back.example.test", "--db", src)
    t = wait_served(ports + [port_of(extra)], "back.example.test", CERT2,
                    2.0)
    check(t is not None, "outage: live on all edges within 2 s (%.3f s)"
          % (t or -1))
    for s in held:
        s.close()
    extra.stop()


def main():
    tmp = tempfile.mkdtemp(prefix="stls-dbd-")
    os.chmod(tmp, 0o755)  # the server runs as nobody
    try:
        os.mkdir(os.path.join(tmp, "sq"))
        sqlite_part(os.path.join(tmp, "sq"))
        fleet_part(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("ok: siptlsd with a database")


if __name__ == "__main__":
    main()
