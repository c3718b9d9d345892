#!/usr/bin/env python3
"""Writes a Portero data directory with N accounts, fast, for the start-up benchmark (bench/http/run.py).

    gen-users.py --template DATA_DIR --output DATA_DIR --users 1000000

The template is a data directory the daemon itself wrote and stopped cleanly (so its newest snapshot covers its
log), holding one verified account. The output is a copy of it whose newest snapshot holds that account and N-1
more: the same record with another id, email and email key (user<i>@bench.example), and the same password hash —
one precomputed argon2id hash instead of hashing a million passwords. The snapshot is written in the format of
docs/data-directory.md (`{"format":1,"seq":…,"at":…,"state":{…},"crc":…}`, CRC-32C of the bytes before `,"crc"`),
so the daemon reads it as its own. Needs the `crc32c` package (PyPI; the bench venv has it).
"""

import argparse
import json
import os
import re
import shutil

import crc32c


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--template", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--users", type=int, required=True)
    args = parser.parse_args()

    snapshots = sorted((int(m.group(1)), name) for name in os.listdir(args.template)
                       if (m := re.fullmatch(r"snapshot-(\d+)\.json", name)))
    if not snapshots:
        raise SystemExit("the template has no snapshot (stop its daemon cleanly first)")
    seq, snapshot_name = snapshots[-1]
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    shutil.copytree(args.template, args.output, ignore=shutil.ignore_patterns("LOCK", "mail", "*.sock"))
    os.chmod(args.output, 0o700)

    with open(os.path.join(args.template, snapshot_name), "rb") as handle:
        envelope = json.loads(handle.read())
    state = envelope["state"]
    if len(state["users"]) != 1:
        raise SystemExit("the template must hold exactly one account")
    user = state["users"][0]
    template_id, template_email = user["id"], user["email"]
    # The record as text, with the id and every spelling of the address (email, email key) as placeholders.
    record = json.dumps(user, separators=(",", ":"), ensure_ascii=False)
    record = record.replace(template_id, "\x00ID\x00").replace(template_email.lower(), "\x00EMAIL\x00")
    if "\x00ID\x00" not in record or "\x00EMAIL\x00" not in record:
        raise SystemExit("could not find the template account's id and address in its record")

    state["users"] = ["\x00USERS\x00"]
    head, tail = json.dumps(state, separators=(",", ":"), ensure_ascii=False).split('"\\u0000USERS\\u0000"')
    prefix = f'{{"format":{envelope["format"]},"seq":{seq},"at":"{envelope["at"]}","state":'.encode()

    path = os.path.join(args.output, snapshot_name)
    temporary = path + ".gen"
    crc = 0
    with open(temporary, "wb") as out:
        def emit(data):
            nonlocal crc
            crc = crc32c.crc32c(data, crc)
            out.write(data)

        emit(prefix + head.encode())
        emit(json.dumps(user, separators=(",", ":"), ensure_ascii=False).encode())
        batch = []
        for index in range(1, args.users):
            # A valid UUID text made from the index (version 4 and variant bits in place), unique per account.
            identifier = f"{index >> 16 & 0xffffffff:08x}-{index & 0xffff:04x}-4000-8000-{index:012x}"
            batch.append(record.replace("\x00ID\x00", identifier)
                         .replace("\x00EMAIL\x00", f"user{index}@bench.example"))
            if len(batch) == 10000:
                emit(("," + ",".join(batch)).encode())
                batch = []
        if batch:
            emit(("," + ",".join(batch)).encode())
        emit(tail.encode())
        out.write(f',"crc":"{crc:08x}"}}\n'.encode())
        out.flush()
        os.fsync(out.fileno())
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


if __name__ == "__main__":
    main()
