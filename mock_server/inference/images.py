"""Placeholder images: real JPEG/PNG files whose size follows the aspect ratio and whose
bytes depend only on the inputs, visibly marked as made by tunemock."""

from __future__ import annotations

import hashlib
import io
import json
import textwrap
from collections.abc import Mapping
from typing import Any

#: The long side of every image; the short side follows the aspect ratio (multiple of 16).
LONG_SIDE = 1024

#: The inputs that decide the picture (the docs' parameters that change an image).
IDENTITY = ("finetune_id", "prompt", "seed", "steps", "sampler_name", "scheduler",
            "lora_strength", "aspect_ratio")  # fmt: skip


def size_for(aspect_ratio: str) -> tuple[int, int]:
    """(width, height) for "W:H", the long side LONG_SIDE pixels."""
    w, h = (int(part) for part in aspect_ratio.split(":"))
    if w >= h:
        return LONG_SIDE, max(16, round(LONG_SIDE * h / w / 16) * 16)
    return max(16, round(LONG_SIDE * w / h / 16) * 16), LONG_SIDE


def fingerprint(params: Mapping[str, Any]) -> bytes:
    identity = {k: params.get(k) for k in IDENTITY}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).digest()


def render(params: Mapping[str, Any], fmt: str = "JPEG") -> bytes:
    """The image for these parameters: same inputs, same bytes."""
    # Pillow is imported at the first image, not at start: most runs never open one
    from PIL import Image, ImageDraw

    digest = fingerprint(params)
    width, height = size_for(str(params.get("aspect_ratio", "1:1")))
    background = tuple(40 + b % 160 for b in digest[:3])
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    # a pattern from the digest, so different seeds give visibly different pictures
    for i in range(8):
        x0, y0 = digest[4 + i] * width // 256, digest[12 + i] * height // 256
        x1, y1 = x0 + width // 5, y0 + height // 5
        draw.ellipse((x0, y0, x1, y1), fill=tuple(digest[20 + i : 23 + i]))
    lines = [
        "tunemock placeholder image",
        f"model: {params.get('finetune_id')}",
        f"seed: {params.get('seed')}  steps: {params.get('steps')}",
        *textwrap.wrap(f"prompt: {params.get('prompt')}", 48)[:6],
    ]
    draw.multiline_text((24, 24), "\n".join(lines), fill=(255, 255, 255), spacing=6)
    out = io.BytesIO()
    image.save(out, format=fmt, quality=85) if fmt == "JPEG" else image.save(out, format=fmt)
    return out.getvalue()
