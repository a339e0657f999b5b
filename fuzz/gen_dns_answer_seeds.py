#!/usr/bin/env python3
"""Writes seeds for fuzz/fuzz_dns_answer.c into fuzz/corpus/dns_answer/:
DNS responses (RFC 1035 wire format, written here by hand) of the kinds
the resolver sees: A, AAAA, SRV, NAPTR answers, NXDOMAIN and NODATA with
an SOA, server errors, name compression, and broken ones (truncated,
a compression loop, counts larger than the message)."""
import os
import struct
import sys


def name(n):
    out = b""
    for label in n.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def header(rcode=0, qd=1, an=0, ns=0, ar=0, qr=True):
    flags = (0x8000 if qr else 0) | 0x0180 | rcode
    return struct.pack(">HHHHHH", 0x1234, flags, qd, an, ns, ar)


def question(n, t):
    return name(n) + struct.pack(">HH", t, 1)


def rr(n, t, ttl, rdata, raw_name=None):
    return (raw_name if raw_name is not None else name(n)) + \
        struct.pack(">HHIH", t, 1, ttl, len(rdata)) + rdata


def soa(zone, ttl, minimum):
    rd = name("ns." + zone) + name("admin." + zone) + \
        struct.pack(">IIIII", 1, 60, 60, 600, minimum)
    return rr(zone, 6, ttl, rd)


def srv(prio, weight, port, target):
    return struct.pack(">HHH", prio, weight, port) + name(target)


def naptr(order, pref, flags, service, regexp, repl):
    def cs(s):
        return bytes([len(s)]) + s.encode()
    return struct.pack(">HH", order, pref) + cs(flags) + cs(service) + \
        cs(regexp) + name(repl)


def seeds():
    q = "example.test"
    s = {}
    s["a"] = header(an=2) + question(q, 1) + \
        rr(q, 1, 300, bytes([192, 0, 2, 1])) + \
        rr(q, 1, 60, bytes([192, 0, 2, 2]))
    s["aaaa"] = header(an=1) + question(q, 28) + \
        rr(q, 28, 60, bytes(15) + b"\x01")
    srvq = "_sips._tcp." + q
    s["srv"] = header(an=3) + question(srvq, 33) + \
        rr(srvq, 33, 30, srv(10, 60, 5061, "a.example.test")) + \
        rr(srvq, 33, 30, srv(10, 40, 5061, "b.example.test")) + \
        rr(srvq, 33, 30, srv(20, 0, 5062, "c.example.test"))
    s["srv_dot"] = header(an=1) + question(srvq, 33) + \
        rr(srvq, 33, 30, srv(0, 0, 0, "."))
    # Answer names compressed to the question (offset 12).
    s["srv_compressed"] = header(an=1) + question(srvq, 33) + \
        rr(None, 33, 30, srv(1, 1, 5061, "a.example.test"),
           raw_name=b"\xc0\x0c")
    s["naptr"] = header(an=3) + question(q, 35) + \
        rr(q, 35, 90, naptr(10, 10, "S", "SIPS+D2T", "", srvq)) + \
        rr(q, 35, 90, naptr(20, 10, "s", "SIP+D2T", "",
                            "_sip._tcp." + q)) + \
        rr(q, 35, 90, naptr(30, 10, "s", "SIP+D2U", "",
                            "_sip._udp." + q))
    s["naptr_regexp"] = header(an=1) + question(q, 35) + \
        rr(q, 35, 90, naptr(10, 10, "u", "E2U+sip",
                            "!^.*$!sip:info@example.test!", ""))
    s["nxdomain_soa"] = header(rcode=3, ns=1) + question("nope." + q, 35) + \
        soa(q, 3600, 45)
    s["nodata_soa"] = header(ns=1) + question(q, 28) + soa(q, 600, 30)
    s["nodata_bare"] = header() + question(q, 28)
    s["servfail"] = header(rcode=2) + question(q, 1)
    s["refused"] = header(rcode=5) + question(q, 33)
    s["cname_then_a"] = header(an=2) + question("w." + q, 1) + \
        rr("w." + q, 5, 60, name(q)) + rr(q, 1, 60, bytes([192, 0, 2, 9]))
    s["top_bit_ttl"] = header(an=1) + question(q, 1) + \
        rr(q, 1, 0x80000001, bytes([192, 0, 2, 1]))
    full = s["srv"]
    s["truncated"] = full[:len(full) - 7]
    s["pointer_loop"] = header(an=1) + question(q, 1) + \
        b"\xc0\x1d" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes(4) + \
        b"\xc0\x1d"
    s["counts_too_big"] = header(an=40, ns=40) + question(q, 1) + \
        rr(q, 1, 60, bytes(4))
    s["query_not_response"] = header(qr=False) + question(q, 1)
    s["rdlength_past_end"] = header(an=1) + question(q, 33) + \
        name(srvq) + struct.pack(">HHIH", 33, 1, 60, 500) + bytes(8)
    s["many_a"] = header(an=40) + question(q, 1) + b"".join(
        rr(q, 1, 60, bytes([10, 0, 0, i])) for i in range(40))
    return s


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "dns_answer")
    os.makedirs(out, exist_ok=True)
    for k, v in seeds().items():
        with open(os.path.join(out, k + ".bin"), "wb") as f:
            f.write(v)
    return 0


if __name__ == "__main__":
    sys.exit(main())
