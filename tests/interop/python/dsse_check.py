"""Checks every officer signature in a custody evidence bundle with Python's `cryptography`.

Usage: python3 dsse_check.py BUNDLE_JSON [PARTS_DIR]

For each entry it decodes the leaf (docs/FORMAT.md §6), takes the DSSE envelope's payload,
builds PAE = "DSSEv1" SP len(type) SP type SP len(body) SP body (§5.2), and verifies each
signature with Ed25519 under the key its keyid names (§3.2) among the public keys the bundle's
own identity statements carry (genesis admin, enrollments, key rotations and replacements).
Which key was valid at which position in the log, and every custody rule, are custody's checks
(`custody bundle verify`), not this program's. `cryptography` follows RFC 8032 through OpenSSL,
which is laxer than custody's strict verification (docs/VERIFYING.md).

With PARTS_DIR it also writes, per entry, PARTS_DIR/SEQ/leaf (the leaf bytes), pae (the signed
bytes), sigN (signature N, raw 64 bytes) and keyN.pem (its public key, SubjectPublicKeyInfo PEM)
for checking one by hand with OpenSSL.

Prints one line per signature and "OK: ..." and exits 0; otherwise prints "FAIL: <reason>" to
standard error and exits 1. Uses only the standard library and `cryptography`.
"""

import base64
import hashlib
import json
import os
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

PAYLOAD_TYPE = "application/vnd.custody.statement+json"


def pae(payload_type: bytes, body: bytes) -> bytes:
    return b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type, len(body), body)


def keys_carried(body: bytes) -> list:
    """The (officer, base64 public key) pairs an identity statement introduces."""
    try:
        statement = json.loads(body)
    except ValueError:
        return []  # Not JSON: its own signature check fails below, naming its seq.
    kind = statement.get("type")
    if kind == "ledger_genesis":
        return [(statement["admin"]["id"], statement["admin"]["public_key"])]
    if kind == "officer_enrolled":
        return [(statement["officer"]["id"], statement["officer"]["public_key"])]
    if kind in ("officer_key_rotated", "officer_key_replaced"):
        return [(statement["officer"], statement["public_key"])]
    return []


def key_id(public: bytes) -> str:
    return hashlib.sha256(public).hexdigest()[:16]


def decode_entries(bundle: dict) -> list:
    out = []
    for entry in bundle["entries"]:
        leaf = base64.b64decode(entry["leaf"], validate=True)
        envelope = json.loads(leaf)["envelope"]
        if envelope["payloadType"] != PAYLOAD_TYPE:
            raise ValueError(f"seq {entry['seq']}: payloadType {envelope['payloadType']!r}")
        body = base64.b64decode(envelope["payload"], validate=True)
        out.append((entry["seq"], leaf, body, envelope["signatures"]))
    return out


def write_parts(parts: str, seq: int, leaf: bytes, signed: bytes, sigs: list) -> None:
    folder = os.path.join(parts, str(seq))
    os.makedirs(folder, exist_ok=True)
    for name, data in [("leaf", leaf), ("pae", signed)] + sigs:
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)


def check(bundle: dict, parts: str | None) -> int:
    entries = decode_entries(bundle)
    keys = {}
    for _, _, body, _ in entries:
        for officer, public in keys_carried(body):
            raw = base64.b64decode(public, validate=True)
            keys[key_id(raw)] = (officer, raw)
    count = 0
    for seq, leaf, body, signatures in entries:
        signed = pae(PAYLOAD_TYPE.encode(), body)
        files = []
        for n, sig in enumerate(signatures):
            if sig["keyid"] not in keys:
                raise ValueError(f"seq {seq}: keyid {sig['keyid']} is no key the bundle enrolls")
            officer, raw = keys[sig["keyid"]]
            signature = base64.b64decode(sig["sig"], validate=True)
            try:
                Ed25519PublicKey.from_public_bytes(raw).verify(signature, signed)
            except InvalidSignature:
                raise ValueError(f"seq {seq}: signature {n} ({sig['keyid']}) does not verify over PAE") from None
            pem = Ed25519PublicKey.from_public_bytes(raw).public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            files += [(f"sig{n}", signature), (f"key{n}.pem", pem)]
            kind = json.loads(body)["type"]
            print(f"seq {seq}: {kind}: signature {n} by {officer} (keyid {sig['keyid']}) valid")
            count += 1
        if parts:
            write_parts(parts, seq, leaf, signed, files)
    return count


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print("usage: python3 dsse_check.py BUNDLE_JSON [PARTS_DIR]", file=sys.stderr)
        return 2
    try:
        with open(sys.argv[1], "rb") as f:
            bundle = json.load(f)
        count = check(bundle, sys.argv[2] if len(sys.argv) == 3 else None)
    except (ValueError, KeyError, TypeError) as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    print(f"OK: {count} signatures over PAE in {len(bundle['entries'])} entries verify")
    return 0


if __name__ == "__main__":
    sys.exit(main())
