"""Pure choice of an article's lead image: declared for sharing, or the body's first large picture.

Candidates come in order of trust: OpenGraph (`og:image` with its `og:image:width/height`),
Twitter's card, JSON-LD's `image`, then the first picture inside the article's body (`<article>`,
`itemprop=articleBody` or `<main>`). A feed item offers its `media:content`, `media:thumbnail`
and image enclosures. Each candidate must be an absolute http(s) URL and no tracking pixel, logo
or stock picture: small or banner-shaped sizes, names such as "logo", "icon", "sprite", "avatar",
"pixel" or "placeholder", counters' hosts, icons' formats, pictures in the site's header,
navigation, sidebars or footer, and the site's own share image (the one its listing page or feed
declares for itself, shown with every article) are refused. The first candidate left is the
article's image; none left is no image (""), never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

from lxml.etree import _Element

from .metadata import in_chrome, json_ld_articles

MIN_SIDE = 200  # pixels; Telegram shows a large preview from about 200 px on, and logos are smaller
MAX_RATIO = 3.0  # wider or taller than 3:1 is a banner or a strip, not a photo
_MAX_URL = 2048
# A whole word of the path: "site-logo.png", "/icons/", "avatar_12.jpg", "1x1.gif".
_NOT_A_PHOTO = re.compile(
    r"(?<![a-z])(logos?|logotype|icons?|favicon|sprites?|avatars?|placeholder|spacer|pixel|"
    r"blank|transparent|1x1|badges?|emoji|gravatar|beacon|tracking|counter)"
    r"(?![a-z])"
)
# The file's whole name: "default.jpg", "og-default.png", "no-image-2.png", "loading.gif" (but
# not "/sites/default/files/", Drupal's folder for every upload, "…_aspect-ratio_default_0.jpg",
# a size variant's name on elDiario.es, or "customer-loading-truck.jpg" on foxbusiness.com).
_STOCK_NAME = re.compile(
    r"(?:og|share|social|site)?[-_]?"
    r"(?:default|no[-_]?image|no[-_]?photo|fallback|dummy|loading|loader|spinner)"
    r"(?:[-_]?(?:image|img|share|og|social|\d+))*"
)
_ICON_TYPES = (".svg", ".svgz", ".ico", ".cur")
# Counters and ad pixels that pages embed as images.
_TRACKER_HOSTS = (
    "doubleclick.net",
    "google-analytics.com",
    "googletagmanager.com",
    "facebook.com",
    "mc.yandex.ru",
    "counter.yadro.ru",
    "top-fwz1.mail.ru",
    "scorecardresearch.com",
    "quantserve.com",
    "pixel.wp.com",
    "stats.wp.com",
)
_LAZY_SOURCES = ("data-src", "data-original", "data-lazy-src", "data-srcset", "src")
_DECLARED = {
    "og:image": "og",
    "og:image:url": "og",
    "og:image:secure_url": "og",
    "twitter:image": "twitter",
    "twitter:image:src": "twitter",
}


@dataclass(frozen=True, slots=True)
class Candidate:
    """A possible lead image: its address as written, its declared size, and where it was found."""

    url: str
    width: int | None = None
    height: int | None = None
    where: str = "declared"  # "og", "twitter", "json-ld", "body", "feed"
    framed: bool = False  # a body picture in a <figure> or with a srcset: a content picture


def lead_image(tree: _Element, *, url: str, site_image: str = "") -> str:
    """Return the page's lead image as an absolute URL, or "" when no candidate passes."""
    return choose_image(_candidates(tree), base=url, site=site_image)


def _candidates(tree: _Element) -> Iterator[Candidate]:
    """Yield the declared images, then the body's pictures, looked for only once reached."""
    # Most pages declare an image that passes: walking the body's pictures and the ancestors
    # of each (page chrome) cost about a millisecond a page for nothing.
    yield from declared_images(tree)
    yield from body_images(tree)


def site_image(tree: _Element, *, url: str) -> str:
    """Return the image a listing page declares for itself (its default share image), or ""."""
    for candidate in declared_images(tree):
        found = absolute(candidate.url, base=url)
        if found:
            return found
    return ""


def choose_image(candidates: Iterable[Candidate], *, base: str, site: str = "") -> str:
    """Return the first candidate that is a real picture, made absolute, or ""."""
    for candidate in candidates:
        found = absolute(candidate.url, base=base)
        if found and refusal(candidate, found, site=site) is None:
            return found
    return ""


def refusal(candidate: Candidate, url: str, *, site: str = "") -> str | None:
    """Return why an (absolute) candidate is no lead image, or None when it is one."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    path = unquote(parts.path).lower()
    name = path.rsplit("/", 1)[-1]
    if site and same_image(url, site):
        return "the site's own share image, shown with every article"
    if any(host == h or host.endswith("." + h) for h in _TRACKER_HOSTS):
        return f"a counter's host ({host})"
    if name.endswith(_ICON_TYPES):
        return "an icon format"
    if _NOT_A_PHOTO.search(path) or _STOCK_NAME.fullmatch(name.rsplit(".", 1)[0]):
        return "named as a logo, an icon, a pixel or a placeholder"
    return _size_refusal(candidate)


def _size_refusal(candidate: Candidate) -> str | None:
    """Refuse declared sizes too small or too elongated; a body picture must show it is large."""
    sides = [s for s in (candidate.width, candidate.height) if s is not None]
    if any(side < MIN_SIDE for side in sides):
        return f"smaller than {MIN_SIDE} px"
    if len(sides) == 2 and max(sides) > MAX_RATIO * min(sides):
        return "a banner's shape"
    if candidate.where == "body" and len(sides) < 2 and not candidate.framed:
        return "a body picture of unknown size outside a figure"
    return None


def absolute(raw: str, *, base: str) -> str:
    """Return `raw` resolved against `base` when it is an http(s) URL with a host, else ""."""
    text = raw.strip().replace(" ", "%20")
    if not text or len(text) > _MAX_URL or any(ord(c) < 32 or c == "\x7f" for c in text):
        return ""
    if text.startswith("//"):
        text = f"{urlsplit(base).scheme or 'https'}:{text}"
    try:
        # A written scheme is kept as it is (urljoin would put a bare "https://" on the base).
        found = text if urlsplit(text).scheme else urljoin(base, text)
        parts = urlsplit(found)
    except ValueError:
        return ""
    return found if parts.scheme in ("http", "https") and parts.hostname else ""


def same_image(a: str, b: str) -> bool:
    """Tell whether two image URLs name one picture (scheme, "www." and query ignored)."""
    return _identity(a) == _identity(b)


def _identity(url: str) -> str:
    parts = urlsplit(url)
    return (parts.hostname or "").removeprefix("www.") + parts.path.rstrip("/")


def declared_images(tree: _Element) -> list[Candidate]:
    """Return the images the page declares: OpenGraph (with sizes), Twitter, then JSON-LD."""
    root = tree.getroottree().getroot()
    og: list[Candidate] = []
    twitter: list[Candidate] = []
    for meta in root.iter("meta"):
        key = str(meta.get("property") or meta.get("name") or "").strip().lower()
        content = str(meta.get("content") or "").strip()
        if not content:
            continue
        if key in _DECLARED:
            (og if _DECLARED[key] == "og" else twitter).append(
                Candidate(content, where=_DECLARED[key])
            )
        elif key in ("og:image:width", "og:image:height") and og:
            og[-1] = _sized(og[-1], key.rsplit(":", 1)[-1], content)
    found = [*og, *twitter]
    for item in json_ld_articles(list(root.iter("script"))):
        found += _ld_images(item.get("image"))
    return found


def _sized(candidate: Candidate, side: str, value: str) -> Candidate:
    """Return the candidate with one declared side (og:image:width/height follow their og:image)."""
    number = pixels(value)
    if side == "width":
        return Candidate(candidate.url, number, candidate.height, candidate.where)
    return Candidate(candidate.url, candidate.width, number, candidate.where)


def _ld_images(value) -> list[Candidate]:
    """Return JSON-LD image values: URLs, ImageObjects with their sizes, or lists of either."""
    if isinstance(value, str):
        return [Candidate(value, where="json-ld")]
    if isinstance(value, list):
        return [c for item in value[:5] for c in _ld_images(item)]
    if isinstance(value, dict):
        url = value.get("url") or value.get("contentUrl") or ""
        if isinstance(url, str) and url:
            width, height = (pixels(str(value.get(k) or "")) for k in ("width", "height"))
            return [Candidate(url, width, height, "json-ld")]
    return []


def body_images(tree: _Element) -> list[Candidate]:
    """Return the pictures inside the article's body, in page order, outside its page chrome."""
    root = tree.getroottree().getroot()
    container = next(
        (
            found
            for found in (
                next(root.iter("article"), None),
                next(iter(root.xpath("//*[@itemprop='articleBody']")), None),
                next(root.iter("main"), None),
            )
            if found is not None
        ),
        None,
    )
    if container is None:
        return []
    found = []
    for img in container.iter("img"):
        source = _source(img)
        if not source or in_chrome(img):
            continue
        framed = next(img.iterancestors("figure", "picture"), None) is not None
        framed = framed or bool(img.get("srcset"))
        width, height = pixels(img.get("width") or ""), pixels(img.get("height") or "")
        found.append(Candidate(source, width, height, "body", framed))
    return found


def _source(img: _Element) -> str:
    """Return an <img>'s real address: lazy-loading pages keep it in data-src, with a stub in src."""
    for attr in _LAZY_SOURCES:
        value = str(img.get(attr) or "").strip()
        if attr.endswith("srcset"):
            value = value.split(",")[0].strip().split(" ")[0] if value else ""
        if value and not value.lower().startswith("data:"):
            return value
    return ""


def pixels(value: str) -> int | None:
    """Return a size in whole pixels ("600", "600px"), or None for a percentage or nonsense."""
    match = re.fullmatch(r"\s*(\d{1,5})(?:\.\d+)?\s*(?:px)?\s*", value or "")
    return int(match[1]) if match else None
