"""Running `presswatch` in a forked child as a user who may not write a folder: `nobody` when
the tests run as root (root writes any folder), else ourselves with the folder made read-only."""

from __future__ import annotations

import io
import os
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from bot.cli.main import main

NOBODY = 65534


def become_nobody(folder: Path) -> None:
    """In a child: drop to `nobody` (as root), or make `folder` read-only (as anyone else)."""
    if os.geteuid() == 0:
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    else:
        folder.chmod(0o555)


def run_as_nobody(folder: Path, argv: list[str]) -> tuple[int, str]:
    """Run `presswatch ARGV` in a forked child that may not write `folder`; return its status
    and its output (stdout and stderr). Import what it needs first: `nobody` may not read it."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns to pytest
        code = 99
        try:
            os.close(read)
            become_nobody(folder)
            out = io.StringIO()
            with redirect_stdout(out), redirect_stderr(out):
                code = main(argv)
            os.write(write, out.getvalue().encode())
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, encoding="utf-8") as pipe:
        output = pipe.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output
