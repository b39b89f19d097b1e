"""What the emulated vision model "sees": the main shape and colours of a simple PNG picture.

Standard library only: the PNG is inflated with zlib and unfiltered here, then the background (the
most common border colour), the figure (the pixels that differ from it), its bounding box and how
much of that box it fills (a circle fills about π/4, a square all, a triangle half) are measured.
That is enough to describe the pictures a notebook draws with PIL; anything else is said honestly.
"""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from dataclasses import dataclass

_COLOURS = {
    "black": (0, 0, 0),
    "white": (255, 255, 255),
    "grey": (128, 128, 128),
    "red": (220, 30, 30),
    "green": (40, 160, 60),
    "blue": (40, 70, 220),
    "yellow": (245, 220, 40),
    "orange": (250, 140, 20),
    "purple": (130, 50, 160),
    "pink": (250, 150, 190),
    "brown": (140, 90, 40),
    "cyan": (40, 200, 220),
    "dark red": (130, 0, 0),
    "dark green": (0, 90, 0),
    "navy blue": (0, 0, 120),
    "light grey": (205, 205, 205),
}
_MAX_PIXELS = 4_000_000  # larger pictures are only measured, not read


@dataclass
class Picture:
    """What a look at one image found."""

    kind: str  # "PNG", "JPEG" or "image"
    width: int = 0
    height: int = 0
    background: str = ""
    figure: str = ""  # colour of the main figure, "" if the picture is plain
    shape: str = ""  # circle, oval, square, rectangle, triangle, shape
    where: str = ""  # "in the middle", "in the top left", ...


def colour_name(rgb: tuple[int, int, int]) -> str:
    return min(_COLOURS, key=lambda name: sum((a - b) ** 2 for a, b in zip(rgb, _COLOURS[name], strict=True)))


def look(data: bytes) -> Picture:
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        try:
            return _look_png(data)
        except (ValueError, zlib.error, struct.error, IndexError):
            return Picture("PNG")
    if data[:2] == b"\xff\xd8":
        return Picture("JPEG", *_jpeg_size(data))
    return Picture("image")


def _look_png(data: bytes) -> Picture:
    width, height, depth, colour_type, interlace = struct.unpack(">IIBBxxB", data[16:29])
    picture = Picture("PNG", width, height)
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(colour_type)
    if depth != 8 or interlace or channels is None or width * height > _MAX_PIXELS:
        return picture  # palette, 16-bit or interlaced PNGs: size only
    idat, pos = b"", 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    rows = _unfilter(zlib.decompress(idat), width, height, channels)
    pixels = [[_rgb(row, x, channels) for x in range(width)] for row in rows]
    border = [pixels[0][x] for x in range(width)] + [pixels[-1][x] for x in range(width)]
    border += [pixels[y][0] for y in range(height)] + [pixels[y][-1] for y in range(height)]
    background = Counter(border).most_common(1)[0][0]
    picture.background = colour_name(background)
    inside = [
        (x, y, p)
        for y, row in enumerate(pixels)
        for x, p in enumerate(row)
        if sum(abs(a - b) for a, b in zip(p, background, strict=True)) > 90
    ]
    if len(inside) < max(4, width * height // 500):
        return picture
    xs, ys = [x for x, _, _ in inside], [y for _, y, _ in inside]
    box_w, box_h = max(xs) - min(xs) + 1, max(ys) - min(ys) + 1
    picture.figure = colour_name(Counter(p for _, _, p in inside).most_common(1)[0][0])
    fill = len(inside) / (box_w * box_h)
    squareish = 0.85 < box_w / box_h < 1.18
    if fill > 0.95:
        picture.shape = "square" if squareish else "rectangle"
    elif 0.7 < fill <= 0.95:
        picture.shape = "circle" if squareish else "oval"
    elif 0.4 < fill <= 0.6:
        picture.shape = "triangle"
    else:
        picture.shape = "shape"
    cx, cy = (min(xs) + max(xs)) / 2 / width, (min(ys) + max(ys)) / 2 / height
    vertical = "top" if cy < 0.36 else "bottom" if cy > 0.64 else ""
    horizontal = "left" if cx < 0.36 else "right" if cx > 0.64 else ""
    side = " ".join(part for part in (vertical, horizontal) if part)
    picture.where = f"in the {side}" if side else "in the middle"
    return picture


def _rgb(row: bytes, x: int, channels: int) -> tuple[int, int, int]:
    i = x * channels
    if channels in (1, 2):
        return (row[i], row[i], row[i])
    return (row[i], row[i + 1], row[i + 2])


def _unfilter(raw: bytes, width: int, height: int, bpp: int) -> list[bytes]:
    """Undo PNG's per-row filters (None, Sub, Up, Average, Paeth)."""
    stride = width * bpp
    rows: list[bytes] = []
    previous = bytearray(stride)
    pos = 0
    for _ in range(height):
        kind = raw[pos]
        line = bytearray(raw[pos + 1 : pos + 1 + stride])
        pos += 1 + stride
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                corner = previous[i - bpp] if i >= bpp else 0
                estimate = left + up - corner
                pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return rows


def _jpeg_size(data: bytes) -> tuple[int, int]:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xD8, 0x01, 0xFF) or 0xD0 <= marker <= 0xD7:
            i += 1 if marker == 0xFF else 2
            continue
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return 0, 0


def _article(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def describe(images: list[bytes], question: str) -> tuple[str, str]:
    """(one sentence, a fuller answer) about the images of a message."""
    if not images:
        text = "I don't see an image in this message. Attach one (the `images` field) and ask again."
        return text, text
    seen = [look(data) for data in images]
    phrases = [_phrase(p) for p in seen]
    if len(seen) == 1:
        one = f"I see {phrases[0]}."
    else:
        one = (
            f"I see {len(seen)} images: "
            + "; ".join(f"the {_ordinal(i)} shows {p}" for i, p in enumerate(phrases))
            + "."
        )
    details = []
    for i, p in enumerate(seen):
        size = f"{p.width} × {p.height} pixels" if p.width else "of a size I cannot read"
        label = "The picture" if len(seen) == 1 else f"The {_ordinal(i)} picture"
        line = f"{label} is a {p.kind} image, {size}"
        if p.shape:
            line += f", and the {p.figure} {p.shape} sits {p.where}"
        details.append(line + ".")
    return one, one + " " + " ".join(details)


def _phrase(p: Picture) -> str:
    if p.shape:
        return f"{_article(p.figure)} {p.shape} on a {p.background} background"
    if p.background:
        return f"a plain {p.background} picture"
    return (
        f"{_article(p.kind)} picture whose content I cannot make out (the built-in emulator only reads simple "
        f"PNG drawings)"
    )


def _ordinal(i: int) -> str:
    return ["first", "second", "third", "fourth", "fifth"][i] if i < 5 else f"{i + 1}th"
