#!/usr/bin/env python3
"""Writes seeds for fuzz/fuzz_rec13.c into fuzz/corpus/rec13/.

Raw-mode seeds are TLS 1.3 record streams sealed under the fixed client
secret the target reads with (bytes 1, 4, 7, ...), one per suite; sealed-mode
seeds are plain chunk lists. Needs the Python cryptography package.
"""
import os
import struct
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

SUITES = [(hashes.SHA256, 16, AESGCM), (hashes.SHA384, 32, AESGCM),
          (hashes.SHA256, 32, ChaCha20Poly1305)]


def expand_label(h, secret, label, length):
    full = b"tls13 " + label
    info = struct.pack(">HB", length, len(full)) + full + b"\x00"
    return HKDFExpand(h(), length, info).derive(secret)


def seal(aead, iv, seq, inner):
    nonce = bytes(a ^ b for a, b in zip(iv, seq.to_bytes(12, "big")))
    hdr = b"\x17\x03\x03" + struct.pack(">H", len(inner) + 16)
    return hdr + aead.encrypt(nonce, inner, hdr)


def main(out):
    os.makedirs(out, exist_ok=True)
    for i, (h, klen, cls) in enumerate(SUITES):
        hl = h.digest_size
        secret = bytes((j * 3 + 1) & 0xFF for j in range(48))[:hl]
        aead = cls(expand_label(h, secret, b"key", klen))
        iv = expand_label(h, secret, b"iv", 12)
        recs = [b"REGISTER sip:x SIP/2.0\r\n\x17", b"\x18\x00\x00\x01\x01\x16",
                b"\x01\x00\x15", b"pad\x17\x00\x00\x00", b"\x17" + b"A" * 300]
        stream = b"".join(seal(aead, iv, s, r) for s, r in enumerate(recs))
        with open(os.path.join(out, "raw-suite%d" % i), "wb") as f:
            f.write(bytes([i, 0]) + stream)
        with open(os.path.join(out, "sealed-suite%d" % i), "wb") as f:
            f.write(bytes([i, 1]) + b"\x17\x00\x05hello" + b"\x16\x00\x05"
                    + b"\x18\x00\x00\x01\x00" + b"\x00\x00\x04ab\x17\x00")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else
         os.path.join(os.path.dirname(__file__), "corpus", "rec13"))
