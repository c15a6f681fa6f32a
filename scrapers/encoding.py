"""Pure byte handling: content decoding with a size cap, and charset detection for HTML."""

from __future__ import annotations

import codecs
import re
import zlib

from charset_normalizer import from_bytes

from .errors import FetchError, ResponseTooLarge

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)


class CappedDecoder:
    """Undo gzip or deflate content encoding chunk by chunk, refusing to grow past `limit` bytes.

    httpx inflates each 64 KiB network chunk with no output bound, so a compression bomb is
    expanded before any cap can look at it; inflating here with `max_length` stops it at the cap.
    """

    def __init__(self, encoding: str, *, limit: int, url: str = "") -> None:
        self._limit, self._url, self._size = limit, url, 0
        self._chunks: list[bytes] = []
        name = encoding.strip().lower()
        if name in ("", "identity"):
            self._inflater = None
        elif name in ("gzip", "x-gzip"):
            self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif name == "deflate":
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)
        else:
            raise FetchError(f"{url}: unsupported content encoding {encoding!r}", url=url)

    def feed(self, chunk: bytes) -> None:
        """Decode one raw chunk, raising ResponseTooLarge once the output passes the limit."""
        if self._inflater is None:
            self._keep(chunk)
            return
        data = chunk
        while data:
            try:
                out = self._inflater.decompress(data, self._limit - self._size + 1)
            except zlib.error as exc:
                raise FetchError(
                    f"{self._url}: corrupt compressed body ({exc})", url=self._url
                ) from exc
            self._keep(out)
            data = self._inflater.unconsumed_tail

    def finish(self) -> bytes:
        """Return the whole decoded body."""
        if self._inflater is not None:
            self._keep(self._inflater.flush())
        return b"".join(self._chunks)

    def _keep(self, data: bytes) -> None:
        """Append decoded bytes, enforcing the cap."""
        self._size += len(data)
        if self._size > self._limit:
            raise ResponseTooLarge(
                f"{self._url}: body is larger than {self._limit} bytes after decoding",
                url=self._url,
            )
        self._chunks.append(data)


def decode_html(content: bytes, *, content_type: str = "") -> str:
    """Decode an HTML body: BOM, then valid UTF-8, then the declared charsets, then a guess.

    Valid UTF-8 wins over a declaration because a site's header or meta tag is often wrong (a
    CMS template says utf-8 while the page is windows-1251, or the other way round), whereas
    text in another encoding is almost never valid UTF-8 by accident. Russian sites often serve
    windows-1251 with no charset at all; the statistical guess finds it.
    """
    bom = _charset_from_bom(content)
    if bom:
        return content.decode(bom, errors="replace").lstrip("\ufeff")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for name in (_charset_from_header(content_type), _charset_from_meta(content)):
        if name and _python_codec(name) not in ("utf-8", "utf8"):
            try:
                return content.decode(_python_codec(name))
            except (LookupError, UnicodeDecodeError):
                continue
    best = from_bytes(content, cp_isolation=["cp1251", "koi8_r", "cp1252", "latin_1"]).best()
    return str(best) if best is not None else content.decode("cp1251", errors="replace")


def _charset_from_header(content_type: str) -> str:
    """Return the charset parameter of a Content-Type header, or ''."""
    match = _HEADER_CHARSET.search(content_type or "")
    return match.group(1) if match else ""


def _charset_from_bom(content: bytes) -> str:
    """Return the encoding a byte-order mark announces, or ''."""
    for bom, name in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if content.startswith(bom):
            return name
    return ""


def _charset_from_meta(content: bytes) -> str:
    """Return the charset a <meta> tag in the first 4 KiB declares, or ''."""
    match = _META_CHARSET.search(content[:4096])
    return match.group(1).decode("ascii", "ignore") if match else ""


def _python_codec(name: str) -> str:
    """Map web charset labels to Python codecs (WHATWG treats latin-1 labels as windows-1252)."""
    lowered = name.lower()
    return (
        "cp1252" if lowered in ("iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii") else lowered
    )
