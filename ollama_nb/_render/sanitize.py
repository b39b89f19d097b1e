"""The allowlist sanitizer every piece of model or server HTML passes: nh3 (ammonia) with
``policy.json``.

nh3 parses with html5ever, the HTML parser browsers follow, so what it keeps is what a browser
sees. On top of its tag/attribute/scheme allowlists, :func:`_filter` checks the values that an
allowlist of names cannot: a ``class`` keeps only our own names, an ``<img>`` loads only an inline
``data:image/...`` picture, a link never points at ``data:``.

>>> clean('<a href="javascript:alert(1)" onclick="x()">hi</a><img src="http://h/b.png">')
'<a rel="noopener noreferrer nofollow" target="_blank">hi</a><img>'
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

import nh3

__all__ = ["POLICY", "clean", "is_inline_image", "link_scheme_ok"]

POLICY: dict[str, Any] = json.loads(resources.files(__package__).joinpath("policy.json").read_text("utf-8"))

_CLASS = re.compile(POLICY["class_pattern"])
_ALIGN = frozenset(POLICY["align_values"])
_IMAGE_TYPES = "|".join(re.escape(t) for t in POLICY["image_data_types"])
#: The only pictures that may show: bytes inside the answer itself, so nothing is fetched.
_INLINE_IMAGE = re.compile(rf"(?i)^data:(?:{_IMAGE_TYPES});base64,[a-z0-9+/=\s]*$")
_LINK_SCHEMES = frozenset(POLICY["url_schemes"])
# What a browser drops from a URL before reading its scheme (WHATWG URL: tabs, newlines, C0
# controls and spaces around it); "java\tscript:" is javascript: to a browser.
_URL_NOISE = re.compile(r"[\x00-\x20\x7f]+")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")


def is_inline_image(src: str) -> bool:
    """True for ``data:image/(png|jpeg|gif|webp);base64,...``: a picture that loads nothing."""
    return bool(_INLINE_IMAGE.match(src.strip()))


def link_scheme_ok(href: str) -> bool:
    """True when a link may keep this target: an absolute http(s) or mailto URL."""
    match = _SCHEME.match(_URL_NOISE.sub("", href).lower())
    return match is not None and match.group(1) in _LINK_SCHEMES


def _filter(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "class":
        kept = [name for name in value.split() if _CLASS.match(name)]
        return " ".join(kept) or None
    if attribute == "src":  # only <img> has one in the policy
        return value if is_inline_image(value) else None
    if attribute == "href":
        return value if link_scheme_ok(value) else None
    if attribute == "align":
        return value if value.lower() in _ALIGN else None
    if attribute == "start":
        return value if value.isdigit() and len(value) < 10 else None
    return value


@lru_cache(maxsize=1)
def _options() -> dict[str, Any]:
    tags = set(POLICY["tags"])
    return {
        "tags": tags,
        "attributes": {tag: set(attrs) for tag, attrs in POLICY["tags"].items() if attrs},
        "attribute_filter": _filter,
        # Elements dropped with what they hold (text inside a <script> is not prose).
        "clean_content_tags": {
            "script",
            "style",
            "template",
            "textarea",
            "title",
            "noscript",
            "xmp",
            "iframe",
            "noembed",
            "noframes",
            "plaintext",
        }
        - tags,
        "strip_comments": True,
        "link_rel": POLICY["link_rel"],
        "set_tag_attribute_values": {"a": {"target": POLICY["link_target"]}},
        # data: is listed for <img> only; _filter refuses it on links.
        "url_schemes": _LINK_SCHEMES | {"data"},
        # A relative link would resolve against the Jupyter server (its API lives there).
        "url_relative": "deny",
    }


def clean(fragment: str) -> str:
    """``fragment`` with everything outside the policy removed (see the module docstring)."""
    return nh3.clean(fragment, **_options())
