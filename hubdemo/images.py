"""Turn image files into the model's input: RGB, upright, resized, floats in [0, 1]."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from hubdemo.errors import HubDemoError
from hubdemo.i18n import N_, _

# Phones save HEIC by default; Pillow reads it once pillow-heif registers its opener.
pillow_heif.register_heif_opener()

# A photo from a 48-megapixel phone fits; a decompression bomb does not.
MAX_PIXELS = 64_000_000
FORMATS_HINT = N_("JPEG, PNG, HEIC, WebP, GIF, BMP or TIFF")


def read_image(data: bytes, name: str = "image", *, at_least: int | None = None) -> Image.Image:
    """Decode ``data`` into an upright RGB ``PIL.Image``.

    Applies EXIF orientation; converts grayscale, palette, CMYK, 16-bit and
    transparent images to RGB (transparency is laid on white); reads the first
    frame of an animation.

    Args:
        at_least: if given, a JPEG may be decoded at a reduced scale (1/2, 1/4,
            1/8) that keeps both sides at least this long: a 12-megapixel phone
            photo bound for a 224-pixel model decodes about 10 times faster.

    Raises:
        HubDemoError: the data is empty, not an image, damaged, or too large.
    """
    if not data:
        raise HubDemoError(_("{name} is empty (0 bytes). Choose a photo file.").format(name=name))
    try:
        image = Image.open(io.BytesIO(data))
        _check_size(image, name)  # From the header, before decoding any pixels.
        if at_least and image.format == "JPEG":
            image.draft("RGB", (at_least, at_least))
        image.load()
        ImageOps.exif_transpose(image, in_place=True)  # Not a copy: most photos need no turn.
    except UnidentifiedImageError as err:
        raise HubDemoError(_("{name} is not an image that can be read. Use a {formats} file.").format(
                name=name, formats=_(FORMATS_HINT))) from err
    except Image.DecompressionBombError as err:
        raise HubDemoError(_("{name} is too large to open safely (over {limit:.0f} "
                             "megapixels, or a decompression bomb). Resize it and try again.").format(
                                     name=name, limit=MAX_PIXELS / 1e6)) from err
    except (OSError, SyntaxError, ValueError) as err:
        raise HubDemoError(_("{name} is damaged or truncated and cannot be decoded ({reason}).").format(
                name=name, reason=err)) from err
    return to_rgb(image)


def _check_size(image: Image.Image, name: str) -> None:
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise HubDemoError(
            _("{name} is {width}×{height} pixels ({megapixels:.0f} megapixels), more than "
              "the {limit:.0f} megapixels allowed. Resize it and try again.").format(
                      name=name, width=width, height=height, megapixels=width * height / 1e6, limit=MAX_PIXELS / 1e6))
    if width == 0 or height == 0:
        raise HubDemoError(_("{name} has no pixels ({width}×{height}).").format(name=name, width=width, height=height))


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode as 8-bit RGB."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I", "I;16", "I;16L", "I;16B", "I;16N", "F"):
        return _high_depth_to_rgb(image)
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, image).convert("RGB")
    return image.convert("RGB")


def _high_depth_to_rgb(image: Image.Image) -> Image.Image:
    """16-bit or float grayscale: scale to 8 bits by the range of its type, not by clipping."""
    values = np.asarray(image, dtype=np.float64)
    if image.mode == "F":
        top = max(float(values.max()), 1.0)
    else:
        top = 65535.0 if values.max() > 255 or image.mode.startswith("I;16") else 255.0
    gray = np.clip(values / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return Image.fromarray(gray, "L").convert("RGB")


def load_pixels(data: bytes, size: int, name: str = "image") -> np.ndarray:
    """The whole image resized to ``size``×``size`` (as the tutorial does), as uint8 RGB.

    The tf.data pipeline takes these (a quarter of the bytes of floats) and
    scales them to [0, 1] in the graph.
    """
    image = read_image(data, name, at_least=size)
    return np.asarray(image.resize((size, size), Image.BILINEAR))


def load_for_model(data: bytes, size: int, name: str = "image", *, out: np.ndarray | None = None) -> np.ndarray:
    """Decode and prepare one image file's bytes for a model with ``size``×``size`` input: float32 in [0, 1].

    Args:
        out: a float32 array to write into, e.g. one row of a batch being filled by several threads.
    """
    return np.divide(load_pixels(data, size, name), np.float32(255), out=out)


def from_array(rgb: np.ndarray, size: int) -> np.ndarray:
    """An RGB uint8 frame (a camera's) as model input: resized whole to ``size``×``size``, floats in [0, 1].

    The same resize as :func:`load_pixels`, so a camera frame and a photo file
    of the same scene reach the model alike.
    """
    image = Image.fromarray(np.ascontiguousarray(rgb[..., :3]), "RGB").resize((size, size), Image.BILINEAR)
    return np.asarray(image, dtype=np.float32) / np.float32(255)


def to_jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    """An RGB uint8 frame as JPEG bytes: how a photo recorded from live video is kept in a dataset."""
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb[..., :3]), "RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def read_file(path: str | Path) -> bytes:
    """A file's bytes, with a readable error for a missing or unreadable path."""
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise HubDemoError(_("Cannot read {path}: {reason}.").format(path=path, reason=err.strerror or err)) from err


SAMPLE_NAME = "grace_hopper.jpg"
SAMPLE_CREDIT = N_("Rear Admiral Grace Hopper, U.S. Navy photo (public domain), the tutorial's own "
                 "sample, shipped with matplotlib.")


def sample_photo() -> bytes:
    """The tutorial's photo of Grace Hopper, from matplotlib's sample data (no download)."""
    from importlib import resources
    return resources.files("matplotlib").joinpath("mpl-data/sample_data", SAMPLE_NAME).read_bytes()
