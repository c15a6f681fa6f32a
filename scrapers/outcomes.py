"""A parsing job's outcome as plain data: its value, or its error as class name and text."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from .errors import ParseError


def call(job: Callable[..., Any], args: tuple, kwargs: dict) -> tuple:
    """Run a job; return ("ok", value), or the error as plain data ("error", class, text)."""
    try:
        return ("ok", job(*args, **kwargs))
    except ParseError as exc:
        return ("error", type(exc).__name__, str(exc))
    except MemoryError:
        return ("memory", "")
    except RecursionError as exc:
        return ("bug", f"RecursionError: {exc}", traceback.format_exc(limit=8))
    except Exception as exc:  # noqa: BLE001 - a bug must reach the log, not kill the worker
        return ("bug", f"{type(exc).__name__}: {exc}", traceback.format_exc())
