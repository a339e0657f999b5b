#!/usr/bin/env python3
"""Profiles from PostgreSQL, measured on a fleet of siptlsd edges
(docs/database.md, docs/performance.md). Loopback only; every loop is
bounded in count and time; the PostgreSQL server is started by this script
(tests/pg/pg_server.sh) and stopped by PID at the end.

  python3 bench/db_fleet.py [BUILD_DIR] [--changes N] [--profiles N]
                            [--reloads N]

1. change-to-live: N changes (default 100), each one UPDATE committed by a
   psql session kept open (the commit is when psql says so); the time until
   all three edges serve the new server_name (real TLS handshakes with SNI,
   polled every 5 ms). Median, p99, max.
2. 10,000 profiles: the table is filled with N server profiles (one per SNI
   name, default 10,000), then: time from a commit to live on all edges
   (each edge reloads the whole table), and `tls.reload` on one edge as
   the control socket reports it.
3. reloads under load: one edge, 4 client threads doing full TLS 1.3
   handshakes with an echo in a loop, while N changes (default 100) are
   committed, each waited for until live; handshakes done and failed.
   Run twice: with the 10,000 profiles of step 2 in the table (every
   change rebuilds all of them on all three edges), and with 3.
"""
import json
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))


def arg(name, default):
    if name in sys.argv:
        return int(sys.argv[sys.argv.index(name) + 1])
    return default


BUILD = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith(
    "--") else os.path.join(HERE, "..", "build-release")
os.environ["STLS_BUILD_DIR"] = os.path.abspath(BUILD)
os.environ.setdefault("STLS_SOURCE_DIR", os.path.join(HERE, ".."))

import test_siptlsd_db as t  # noqa: E402
from daemon_util import Daemon, check  # noqa: E402

CHANGES = arg("--changes", 100)
PROFILES = arg("--profiles", 10000)
RELOADS = arg("--reloads", 100)


class Psql:
    """One psql session: statements committed one at a time."""

    def __init__(self, pg):
        psql = os.path.join(pg.bin, "psql")
        self.p = subprocess.Popen([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1",
                                   pg.uri], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)

    def commit(self, sql):
        """Runs sql (autocommit) and returns when psql says it is done."""
        self.p.stdin.write(sql + ";\n\\echo done\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if line.strip() != "done":
            raise RuntimeError("psql: %r" % line)
        return time.time()

    def close(self):
        self.p.stdin.close()
        self.p.wait(30)


def live_after(ports, sni, want, commit_t, limit=10.0):
    todo = set(ports)
    while todo and time.time() - commit_t < limit:
        for p in list(todo):
            if t.served(p, sni) == want:
                todo.discard(p)
        if todo:
            time.sleep(0.005)
    return None if todo else time.time() - commit_t


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]


def summary(name, v):
    print("figure: %s: n=%d median %.1f ms, p99 %.1f ms, max %.1f ms"
          % (name, len(v), 1000 * statistics.median(v), 1000 * pct(v, 0.99),
             1000 * max(v)), flush=True)


def change_to_live(psql, ports, n, tag):
    times = []
    for i in range(n):
        sni = "%s%d.example.test" % (tag, i)
        c = psql.commit("UPDATE tlscfg SET server_name = '%s' WHERE id = 2"
                        % sni)
        d = live_after(ports, sni, t.CERT2, c)
        if d is None:
            check(False, "change %d live on all edges" % i)
        times.append(d)
    return times


def reloads_under_load(psql, edge, n, tag="r"):
    port = t.port_of(edge)
    stop = threading.Event()
    counts = {"ok": 0, "failed": 0}
    lock = threading.Lock()
    errors = []

    def client():
        end = time.time() + 600
        while not stop.is_set() and time.time() < end:
            try:
                t.hello(port, "load.example.test")
                with lock:
                    counts["ok"] += 1
            except (OSError, ssl.SSLError) as e:
                with lock:
                    counts["failed"] += 1
                    errors.append(str(e))
    th = [threading.Thread(target=client) for _ in range(4)]
    for x in th:
        x.start()
    try:
        times = change_to_live(psql, [port], n, tag)
    finally:
        stop.set()
        for x in th:
            x.join(30)
    return times, counts, errors[:5]


def main():
    tmp = tempfile.mkdtemp(prefix="stls-dbbench-")
    os.chmod(tmp, 0o755)
    pg = t.Pg(tmp)
    edges = []
    psql = None
    try:
        src = pg.uri + "?table=tlscfg"
        tls = os.path.join(tmp, "tls.cfg")
        t.write_tls_cfg(tls)
        t.db_ok("init", "init", "--db", src)
        t.db_ok("import", "import", tls, "--db", src)
        for n in "abc":
            et = os.path.join(tmp, "edge-" + n)
            os.mkdir(et)
            edges.append(Daemon(t.edge_cfg(src, os.path.join(et, "state")),
                                tmp=et))
        ports = [t.port_of(d) for d in edges]
        psql = Psql(pg)

        summary("change to live on 3 edges (3 profiles)",
                change_to_live(psql, ports, CHANGES, "c"))

        t0 = time.time()
        psql.commit("INSERT INTO tlscfg (profile_type, profile_name, "
                    "server_name, certificate, private_key) SELECT "
                    "'server', 'any', 't' || g || '.example.test', '%s', "
                    "'%s' FROM generate_series(1, %d) g"
                    % (t.pki("server2.pem"), t.pki("server2.key"),
                       PROFILES))
        d = live_after(ports, "t%d.example.test" % PROFILES, t.CERT2, t0,
                       300)
        check(d is not None, "%d profiles live on 3 edges" % PROFILES)
        print("figure: %d rows inserted to live on 3 edges: %.2f s"
              % (PROFILES, d), flush=True)
        summary("change to live on 3 edges (%d profiles)" % (PROFILES + 3),
                change_to_live(psql, ports, min(CHANGES, 20), "k"))
        rc, o, e = t.run([t.CTL, "-s", os.path.join(edges[0].tmp,
                                                    "ctl.sock"),
                          "-w", "300", "tls.reload"], timeout=300)
        t1 = time.time()
        rc, o, e = t.run([t.CTL, "-s", os.path.join(edges[0].tmp,
                                                    "ctl.sock"),
                          "-w", "300", "tls.reload"], timeout=300)
        print("figure: tls.reload of %d profiles from PostgreSQL: %.2f s "
              "(%s)" % (PROFILES + 3, time.time() - t1,
                        o.strip().replace("\n", " ")), flush=True)
        times, counts, errs = reloads_under_load(psql, edges[0], RELOADS,
                                                 "q")
        summary("change to live under load (1 edge, %d profiles)"
                % (PROFILES + 3), times)
        print("figure: %d reloads of %d profiles under load: %d handshakes,"
              " %d failed %s" % (RELOADS, PROFILES + 3,
                                 counts["ok"] + counts["failed"],
                                 counts["failed"], errs), flush=True)
        psql.commit("DELETE FROM tlscfg WHERE id > 3")
        live_after(ports, "t1.example.test", t.CERT1, time.time(), 300)

        times, counts, errs = reloads_under_load(psql, edges[0], RELOADS)
        summary("change to live under load (1 edge)", times)
        print("figure: %d reloads under load: %d handshakes, %d failed %s"
              % (RELOADS, counts["ok"] + counts["failed"], counts["failed"],
                 errs), flush=True)
        i = json.loads(t.run([t.CTL, "-s", os.path.join(edges[0].tmp,
                                                        "ctl.sock"),
                              "tls.info"])[1])
        print("figure: edge a: reloads %d, refused %d, handshake_failures "
              "%d" % (i["reloads"], i["reloads_refused"],
                      i["handshake_failures"]), flush=True)
    finally:
        if psql:
            psql.close()
        for d in edges:
            try:
                d.stop()
            except SystemExit:  # logged by fail(); stop the others too
                pass
        pg.destroy()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
