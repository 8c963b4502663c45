"""Runs `reviews` commands through CliRunner in one process and prints, as JSON, each
one's exit code and last line of output.

Why a separate program: tests/test_exit_codes.py runs commands where the test process
itself cannot be: without root's file capabilities (setpriv) and in a mount namespace
with a small tmpfs that is full (unshare). One process for all of a walk's commands
saves a Python start-up and the imports per command.

    python -m tests.exit_walk '{"data": DIR, "cases": [{"args": [...], "leave": N}], ...}'

With ``"mount": MNT`` (in a namespace of its own), a tmpfs of ``"size"`` is mounted on
MNT and, before each case, emptied, given a copy of ``"source"`` as MNT/data, and filled
up to ``leave`` bytes of free room. ``{data}`` and ``{mnt}`` in a case's arguments stand
for those folders.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys


def fill(folder: str, leave: int) -> None:
    """Fill the file system of ``folder`` up, then free ``leave`` bytes of it again."""
    path = os.path.join(folder, "filler")
    block = b"\0" * (1 << 16)
    with open(path, "wb", buffering=0) as fh:
        try:
            while fh.write(block):
                pass
        except OSError:  # ENOSPC: full
            pass
    os.truncate(path, max(0, os.path.getsize(path) - leave))


def main() -> None:
    from click.testing import CliRunner

    from cli import main as reviews

    spec = json.loads(sys.argv[1])
    mnt = spec.get("mount")
    if mnt:
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={spec['size']}", "none", mnt], check=True)
    data = os.path.join(mnt, "data") if mnt else spec["data"]
    out = []
    for case in spec["cases"]:
        if mnt:
            for name in os.listdir(mnt):
                path = os.path.join(mnt, name)
                shutil.rmtree(path) if os.path.isdir(path) else os.unlink(path)
            shutil.copytree(spec["source"], data)
            if case.get("leave") is not None:
                fill(mnt, case["leave"])
        args = [a.format(data=data, mnt=mnt) for a in case["args"]]
        env = {"REVIEWS_DATA": data, **case.get("env", {})}
        r = CliRunner().invoke(reviews, args, env=env)
        lines = r.output.strip().splitlines()
        escaped = r.exception is not None and not isinstance(r.exception, SystemExit)  # a bug
        out.append([r.exit_code, lines[-1] if lines else "", escaped])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
