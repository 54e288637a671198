"""Small images the tests make in memory, in the formats and modes users upload."""

import io

import numpy as np
from PIL import Image


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


def gradient(width=64, height=48, mode="RGB") -> Image.Image:
    """A left-to-right red ramp over a top-to-bottom green ramp, blue constant."""
    x = np.linspace(0, 255, width, dtype=np.uint8)[None, :].repeat(height, 0)
    y = np.linspace(0, 255, height, dtype=np.uint8)[:, None].repeat(width, 1)
    rgb = np.stack([x, y, np.full_like(x, 128)], -1)
    return Image.fromarray(rgb, "RGB").convert(mode) if mode != "RGB" else Image.fromarray(rgb, "RGB")


def jpeg(width=64, height=48) -> bytes:
    return encode(gradient(width, height), "JPEG", quality=95)


def png(width=64, height=48) -> bytes:
    return encode(gradient(width, height), "PNG")


def half_red_half_blue(width=40, height=20) -> Image.Image:
    """Red on the left half, blue on the right: which side ends up where shows the orientation."""
    arr = np.zeros((height, width, 3), np.uint8)
    arr[:, : width // 2] = (255, 0, 0)
    arr[:, width // 2 :] = (0, 0, 255)
    return Image.fromarray(arr, "RGB")


def colour_photo(rgb, seed: int, size: int = 64) -> bytes:
    """A noisy photo of mostly one colour: classes the ImageNet features tell apart easily."""
    rng = np.random.default_rng(seed)
    arr = np.clip(np.asarray(rgb, float) + rng.normal(0, 40, (size, size, 3)), 0, 255).astype(np.uint8)
    return encode(Image.fromarray(arr, "RGB"), "PNG")


def colour_dataset(root, per_class: int = 12, classes=None):
    """A small real dataset folder: one subfolder per colour class, PNG photos inside."""
    classes = classes or {"red": (220, 40, 40), "blue": (40, 60, 220), "green": (40, 200, 60)}
    for name, rgb in classes.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            (root / name / f"{i:02d}.png").write_bytes(colour_photo(rgb, seed=sum(map(ord, name)) * 100 + i))
    return root


def zip_of(members: dict[str, bytes]) -> bytes:
    """A .zip in memory with the given member names and contents."""
    import zipfile
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def y4m(path, photos, *, frames_each: int = 30, size=(640, 480), fps: int = 30):
    """A raw YUV 4:2:0 video (.y4m) showing each photo for ``frames_each`` frames: a fake camera's picture."""
    width, height = size
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for data in photos:
            image = Image.open(io.BytesIO(data)).convert("RGB").resize(size, Image.BILINEAR)
            ycbcr = np.asarray(image.convert("YCbCr"))
            planes = [ycbcr[..., 0], ycbcr[::2, ::2, 1], ycbcr[::2, ::2, 2]]
            frame = b"FRAME\n" + b"".join(np.ascontiguousarray(p).tobytes() for p in planes)
            for _ in range(frames_each):
                out.write(frame)
    return path
