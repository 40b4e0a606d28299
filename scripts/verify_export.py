#!/usr/bin/env python3
"""Independent verifier of a Tally audit export (JSONL), written apart from Tally's Swift code
so that an auditor can read what is checked. Needs Python 3 and PyPI's `xxhash`.

    python3 scripts/verify_export.py export.jsonl        # reads export.jsonl.manifest.json beside it

Checks, as docs/format.md describes the formats:
  1. the file's XXH3-64 and SHA-256 against the manifest;
  2. every line: position, checksum and previous_checksum present; positions increasing;
     for an unfiltered export (chain_complete), positions gap-free from the manifest's first,
     each previous_checksum equal to the line before's checksum (the first to
     previous_checksum_at_start), the last checksum equal to checksum_at_end;
  3. with proof (the "record" field, base64): the record's own XXH3-64, and that every field of
     the line (position, stream, version, id, type, time, metadata, payload, checksums) is what
     the record bytes say;
  4. the seals of the manifest: every commit wholly inside the export whose previous seal is
     known is recomputed, SHA-256(previous seal || first position (u64 LE) || record bytes);
  5. the line count against the manifest.
Prints one line per problem ("line N: ...", line 0 for the file or manifest).
Exit status: 0 valid, 1 invalid, 2 usage (missing file, unreadable manifest, no xxhash).
"""
import base64
import hashlib
import json
import struct
import sys
import time
import uuid

try:
    import xxhash
except ImportError:
    print("verify_export.py needs PyPI's xxhash: python3 -m pip install xxhash", file=sys.stderr)
    sys.exit(2)

HEADER = struct.Struct("<IHHQQQ16sHHIII")  # length, version, flags, position, stream version, recorded-at, id, S, T, M, P, reserved


def rfc3339(nanoseconds):
    seconds, fraction = divmod(nanoseconds, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + ".%09dZ" % fraction


def decode_record(data):
    """The fields a record's bytes hold, after checking its length, version and XXH3-64."""
    if len(data) < HEADER.size + 16:
        raise ValueError("shorter than a record header")
    length, version, _flags, position, stream_version, recorded_at, event_id, s, t, m, p, _ = HEADER.unpack_from(data)
    if length != len(data) or version != 1 or HEADER.size + s + t + m + p + 16 != length:
        raise ValueError("length or format version is wrong")
    previous, checksum = struct.unpack_from("<QQ", data, length - 16)
    if xxhash.xxh3_64_intdigest(data[: length - 8]) != checksum:
        raise ValueError("its XXH3-64 does not match its bytes")
    offset = HEADER.size
    stream = data[offset : offset + s].decode(); offset += s
    type_ = data[offset : offset + t].decode(); offset += t
    metadata_bytes = data[offset : offset + m]; offset += m
    payload = data[offset : offset + p]
    metadata = {}
    if m:
        (count,) = struct.unpack_from("<H", metadata_bytes, 0)
        at = 2
        for _ in range(count):
            (key_length,) = struct.unpack_from("<H", metadata_bytes, at); at += 2
            key = metadata_bytes[at : at + key_length].decode(); at += key_length
            (value_length,) = struct.unpack_from("<H", metadata_bytes, at); at += 2
            metadata[key] = metadata_bytes[at : at + value_length].decode(); at += value_length
    try:
        payload_value = json.loads(payload)
    except ValueError:
        payload_value = payload.decode(errors="replace")
    return {
        "position": position, "stream": stream, "stream_version": stream_version,
        "event_id": str(uuid.UUID(bytes=event_id)), "type": type_, "recorded_at": rfc3339(recorded_at),
        "metadata": metadata, "payload": payload_value,
        "checksum": "%016x" % checksum, "previous_checksum": "%016x" % previous,
    }


def verify(path):
    problems = []
    fail = lambda line, message: problems.append((line, message))
    try:
        with open(path + ".manifest.json", "rb") as file:
            manifest = json.load(file)
        with open(path, "rb") as file:
            content = file.read()
    except (OSError, ValueError) as error:
        print("cannot read the export or its manifest: %s" % error, file=sys.stderr)
        sys.exit(2)
    if manifest.get("format") != "jsonl":
        print("this verifier checks JSONL exports; the manifest says %r" % manifest.get("format"), file=sys.stderr)
        sys.exit(2)
    if xxhash.xxh3_64_hexdigest(content) != manifest["xxh3"]:
        fail(0, "the file's XXH3 differs from the manifest's")
    if hashlib.sha256(content).hexdigest() != manifest["sha256"]:
        fail(0, "the file's SHA-256 differs from the manifest's")

    complete = manifest.get("chain_complete", False)
    with_proof = manifest.get("with_proof", False)
    previous_checksum = manifest.get("previous_checksum_at_start")
    previous_position = None
    records = {}
    lines = content.decode(errors="replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, text in enumerate(lines, start=1):
        try:
            line = json.loads(text)
            position, checksum, previous = line["position"], line["checksum"], line["previous_checksum"]
        except (ValueError, KeyError, TypeError):
            fail(number, "not an export line (position, checksum and previous_checksum are required)")
            continue
        if previous_position is not None:
            if position <= previous_position:
                fail(number, "position %d is duplicated or out of order (after %d)" % (position, previous_position))
            elif complete and position != previous_position + 1:
                fail(number, "positions jump from %d to %d: a line is missing" % (previous_position, position))
        elif complete and manifest.get("first_position") is not None and position != manifest["first_position"]:
            fail(number, "the first line is position %d, the manifest says %d" % (position, manifest["first_position"]))
        if complete and previous_checksum is not None and previous != previous_checksum:
            fail(number, "previous_checksum %s does not chain onto %s: a line was changed, dropped, reordered or inserted" % (previous, previous_checksum))
        if with_proof:
            try:
                data = base64.b64decode(line["record"], validate=True)
                fields = decode_record(data)
            except (KeyError, ValueError, struct.error, UnicodeDecodeError) as error:
                fail(number, "the record (proof) does not verify: %s" % error)
            else:
                for key, value in fields.items():
                    if line.get(key) != value:
                        fail(number, "field %s differs from the record's (%r vs %r)" % (key, line.get(key), value))
                records[fields["position"]] = data
        previous_checksum, previous_position = checksum, position

    if len(lines) != manifest["count"]:
        fail(0, "the file holds %d events, the manifest says %d" % (len(lines), manifest["count"]))
    if complete and manifest["count"] > 0 and previous_checksum != manifest.get("checksum_at_end"):
        fail(len(lines), "the last checksum is not the manifest's checksum_at_end: the end was cut or extended")

    if with_proof and complete:
        known = {}  # last position of a commit -> its seal
        for seal in manifest.get("seals", []):
            first, last = seal["first"], seal["last"]
            before = bytes(32) if first == 1 else known.get(first - 1)
            known[last] = bytes.fromhex(seal["seal"])
            if before is None or any(p not in records for p in range(first, last + 1)):
                continue  # the commit starts before the export, or its records are not all here
            digest = hashlib.sha256(before + struct.pack("<Q", first) + b"".join(records[p] for p in range(first, last + 1))).hexdigest()
            if digest != seal["seal"]:
                fail(0, "the seal of positions %d...%d does not match the exported records" % (first, last))
    return problems


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(2)
    found = verify(sys.argv[1])
    for line, message in found:
        print("line %d: %s" % (line, message))
    print("valid" if not found else "INVALID: %d problem(s)" % len(found))
    sys.exit(1 if found else 0)
