"""Start-up cost: commands that never deduplicate do not load what only deduplication needs."""

from __future__ import annotations

import subprocess
import sys

# datasketch imports SciPy at import time: about a second of start-up on this project's machines,
# paid by every `presswatch search`, `status` or `--help` if the command line imported it.
HEAVY_FOR_DEDUP_ONLY = ("datasketch", "scipy")


def _modules_loaded_by(statement: str) -> set[str]:
    """Return the top-level modules a fresh interpreter has loaded after running `statement`."""
    probe = f"import sys; {statement}; print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return set(run.stdout.split())


def test_the_command_line_starts_without_the_dedup_libraries() -> None:
    loaded = _modules_loaded_by("import bot.cli.main")
    assert "bot" in loaded
    assert not loaded & set(HEAVY_FOR_DEDUP_ONLY), loaded & set(HEAVY_FOR_DEDUP_ONLY)


def test_signing_a_text_loads_them_on_first_use() -> None:
    loaded = _modules_loaded_by(
        "from storage.neardup import signature; signature(frozenset({'a b c'}), num_perm=16)"
    )
    assert "datasketch" in loaded
