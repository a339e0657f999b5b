#!/usr/bin/env python3
"""Holds the source tree to its layout (docs/layout.md).

Three checks, each failing with the file and what it did wrong:

1. Includes. A file may include headers of its own folder and of the
   folders its room lists in ROOMS below; nothing from a room above it.
   The daemon and the CLI see the library only through its public headers
   (include/stls/), never lib/ internals.
2. Header cycles. No header includes itself through others.
3. Call cycles. From the built objects (nm): a file that calls a function
   defined in another room must be allowed to include that room; and
   within a room, the files' calls form no cycle, except the units that
   ALLOWED_UNITS names (files that together implement one object).

Usage: check-layers.py SOURCE_DIR [BUILD_DIR]. Without BUILD_DIR (or with
no objects built yet) check 3 is skipped and says so. Exit 0 when clean,
1 with one line per problem.
"""
import os
import re
import subprocess
import sys

# Room -> the rooms its files may include (besides their own folder and
# the public headers). Order is bottom-up; a room never lists one above it.
ROOMS = {
    "include/stls": [],
    "include/stls/sip": ["include/stls"],
    "lib/base": [],
    "lib/sip": ["include/stls/sip"],
    "lib/conf": ["lib/base"],
    "lib/x509": ["lib/base"],
    "lib/hsm": ["lib/base", "lib/conf"],
    "lib/revoc": ["lib/base"],
    "lib/tls": ["lib/base", "lib/conf", "lib/x509", "lib/hsm",
                "lib/revoc"],
    # libsiptls_db: a library of its own on top of libsiptls, which it uses
    # through the public headers only (as the daemon and the CLI do).
    "lib/db": [],
    "daemon/config": [],
    "daemon/runtime": ["daemon/config"],
    "daemon/dial": ["daemon/runtime", "daemon/config"],
    "daemon/tlsx": ["daemon/dial", "daemon/runtime", "daemon/config"],
    "daemon/script": ["daemon/runtime", "daemon/config"],
    "daemon/dns": ["daemon/runtime", "daemon/config"],
    "daemon/relay": ["daemon/script", "daemon/dns", "daemon/tlsx",
                     "daemon/dial",
                     "daemon/runtime", "daemon/config"],
    # Profiles from a database: the loader of tlsx's profile store.
    "daemon/dbsrc": ["daemon/tlsx", "daemon/runtime", "daemon/config"],
    "daemon/rpc": ["daemon/config"],
    "daemon/ctl": ["daemon/rpc", "daemon/script", "daemon/dbsrc",
                   "daemon/tlsx", "daemon/dial", "daemon/runtime",
                   "daemon/config"],
    # Prometheus endpoint: reads every room's counters.
    "daemon/metrics": ["daemon/ctl", "daemon/rpc", "daemon/relay",
                       "daemon/script", "daemon/dbsrc", "daemon/tlsx",
                       "daemon/dial", "daemon/runtime", "daemon/config"],
    # systemd notifications and the watchdog (pings the workers).
    "daemon/notify": ["daemon/runtime", "daemon/config"],
    # main.c wires every room together.
    "daemon": ["daemon/config", "daemon/runtime", "daemon/dial",
               "daemon/tlsx", "daemon/script", "daemon/dns",
               "daemon/relay", "daemon/rpc", "daemon/dbsrc", "daemon/ctl",
               "daemon/metrics", "daemon/notify"],
    "cli": [],
}
# Everything may include the public headers.
PUBLIC = ["include/stls", "include/stls/sip"]

# Files of one room that implement one object together and may call each
# other both ways: a worker owns its listeners and connections, and a
# connection schedules its flush and close on its worker.
ALLOWED_UNITS = {
    "daemon/runtime": {"worker", "dconn", "listen", "hsstep"},
}

# Check 3 holds every room to "no call cycle" except those listed here,
# each with the cycle it still has (docs/layout.md, "Known cycles"). An
# entry is removed when its cycle is broken; a new room never gets one.
CYCLE_DEBT = {
    # The engine and the profile set call each other: a connection asks
    # which profile its SSL uses, a profile set builds contexts the engine
    # prepares (conn -> conn_get -> profile_match -> profile_build ->
    # conn_ctx -> conn_handoff -> conn).
    "lib/tls": "engine and profile set",
}
CALL_CHECKED = set(ROOMS) - set(CYCLE_DEBT)

# Where quoted includes are looked up, after the including file's folder
# (the -I order of CMakeLists.txt).
SEARCH = ["include", "lib", "daemon", "cli"]
CHECKED = ["include/stls", "lib", "daemon", "cli"]
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources(top):
    for base in CHECKED:
        for d, _, files in os.walk(os.path.join(top, base)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(d, f), top)


def resolve(top, src, inc):
    for base in [os.path.dirname(src)] + SEARCH:
        p = os.path.normpath(os.path.join(base, inc))
        if os.path.isfile(os.path.join(top, p)):
            return p
    return None


def room_of(path):
    return os.path.dirname(path)


def allowed(src_room, dst_room):
    if dst_room == src_room or dst_room in PUBLIC:
        return True
    return dst_room in ROOMS.get(src_room, [])


# Rooms of lib/ that are not libsiptls and call it through its public API.
API_CLIENTS = {"lib/db"}


def call_allowed(src_room, dst_room):
    # The daemon, the CLI and lib/db call the library through its public
    # API (and the daemon and the CLI call lib/db through its own).
    if dst_room.startswith("lib/") and (not src_room.startswith("lib") or
                                        src_room in API_CLIENTS):
        return True
    return allowed(src_room, dst_room)


def check_includes(top, problems):
    graph = {}
    for src in sources(top):
        room = room_of(src)
        if room not in ROOMS:
            problems.append(f"{src}: folder {room} is not in the layer "
                            "table (scripts/check-layers.py, "
                            "docs/layout.md): add the room there")
            continue
        text = open(os.path.join(top, src), encoding="utf-8").read()
        for m in INCLUDE_RE.finditer(text):
            dst = resolve(top, src, m.group(1))
            line = text.count("\n", 0, m.start()) + 1
            if dst is None:
                problems.append(f"{src}:{line}: \"{m.group(1)}\" not found")
                continue
            if not allowed(room, room_of(dst)):
                problems.append(f"{src}:{line}: includes {dst}: room "
                                f"{room} may not include {room_of(dst)}")
            if src.endswith(".h"):
                graph.setdefault(src, []).append(dst)
    return graph


def find_cycle(graph, nodes=None):
    """A cycle in graph (dict node -> successors) as a list, or None."""
    color = {}
    stack = []

    def visit(n):
        color[n] = 1
        stack.append(n)
        for s in graph.get(n, []):
            if nodes is not None and s not in nodes:
                continue
            if color.get(s) == 1:
                return stack[stack.index(s):] + [s]
            if color.get(s) is None:
                c = visit(s)
                if c:
                    return c
        stack.pop()
        color[n] = 2
        return None

    for n in sorted(graph):
        if color.get(n) is None:
            c = visit(n)
            if c:
                return c
    return None


def check_header_cycles(graph, problems):
    cycle = find_cycle(graph)
    if cycle:
        problems.append("header cycle: " + " -> ".join(cycle))


def object_of(build, src):
    target = {"lib": "siptls", "daemon": "stlsd_core",
              "cli": "stlsctl_core"}[src.split("/")[0]]
    if src.startswith("lib/db/"):
        target = "siptls_db"
    elif src == "daemon/main.c":
        target = "siptlsd"
    elif src == "cli/main.c":
        target = "siptlsctl"
    return os.path.join(build, "CMakeFiles", target + ".dir", src + ".o")


def symbols(objs):
    """{object: (defined, undefined)} for every object, in two nm runs."""
    out = {o: (set(), set()) for o in objs}
    for flag, idx in (("--defined-only", 0), ("-u", 1)):
        text = subprocess.run(["nm", "-A", "-g", flag] + list(objs),
                              capture_output=True, text=True,
                              check=True).stdout
        for line in text.splitlines():
            obj, _, rest = line.partition(":")
            if obj in out and rest.split():
                out[obj][idx].add(rest.split()[-1])
    return out


def module_of(src):
    return os.path.splitext(os.path.basename(src))[0]


def check_calls(top, build, problems):
    paths = {}
    for src in sources(top):
        if not src.endswith(".c") or src.startswith("include"):
            continue
        obj = object_of(build, src)
        if not os.path.isfile(obj):
            return False
        paths[src] = obj
    syms = symbols(paths.values())
    objs = {src: syms[obj] for src, obj in paths.items()}
    owner = {}
    for src, (defined, _) in objs.items():
        for s in defined:
            owner[s] = src
    per_room = {}
    for src, (_, used) in objs.items():
        room = room_of(src)
        for s in sorted(used):
            dst = owner.get(s)
            if dst is None or dst == src:
                continue
            if room_of(dst) != room:
                if not call_allowed(room, room_of(dst)):
                    problems.append(f"{src}: calls {s} ({dst}): room "
                                    f"{room} may not call {room_of(dst)}")
                continue
            per_room.setdefault(room, {}).setdefault(
                module_of(src), set()).add(module_of(dst))
    for room, graph in sorted(per_room.items()):
        if room not in CALL_CHECKED:
            continue
        unit = ALLOWED_UNITS.get(room, set())
        # The allowed unit counts as one node.
        merged = {}
        for a, succ in graph.items():
            na = "<" + "+".join(sorted(unit)) + ">" if a in unit else a
            for b in succ:
                nb = "<" + "+".join(sorted(unit)) + ">" if b in unit else b
                if na != nb:
                    merged.setdefault(na, set()).add(nb)
        cycle = find_cycle({k: sorted(v) for k, v in merged.items()})
        if cycle:
            problems.append(f"{room}: call cycle: " + " -> ".join(cycle))
    return True


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else "."
    build = sys.argv[2] if len(sys.argv) > 2 else None
    problems = []
    graph = check_includes(top, problems)
    check_header_cycles(graph, problems)
    if build and not check_calls(top, build, problems):
        print("check-layers: objects not built: call check skipped")
    elif not build:
        print("check-layers: no build directory: call check skipped")
    for p in problems:
        print(p)
    if problems:
        print(f"check-layers: {len(problems)} problem(s); the rooms and "
              "their rules are in docs/layout.md")
        return 1
    print("check-layers: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
