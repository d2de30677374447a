"""Colour contrast (WCAG 2.x relative luminance), for brand colours from site.yaml."""
from __future__ import annotations

from functools import lru_cache

AA_TEXT = 4.5


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@lru_cache(maxsize=64)
def ink(hex_colour: str) -> str:
    """The colour for text and lines on a light panel: itself when dark enough (relative luminance at most 0.14,
    a contrast of about 5.5:1 or more against white), otherwise the first shade darker by steps of 4 % that is
    (the `ink` filter of the themes; the brand colours are the same on every page, so it is worked out once)."""
    channels = [int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]
    for k in range(100, -1, -4):
        shade = [int(round(c * k / 100, 0)) for c in channels]
        linear = [v / 255 / 12.92 if v / 255 <= 0.04045 else ((v / 255 + 0.055) / 1.055) ** 2.4 for v in shade]
        if 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2] <= 0.14:
            return "#%02X%02X%02X" % tuple(shade)
    return ""
