"""Image loading: every mode and format users upload becomes upright RGB; bad files get clear messages."""

import numpy as np
import pytest
from PIL import Image

from hubdemo import images
from hubdemo.errors import HubDemoError
from make_images import encode, gradient, half_red_half_blue, jpeg, png


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "HEIF"])
def test_reads_common_formats_as_rgb(fmt):
    image = images.read_image(encode(gradient(), fmt), f"x.{fmt.lower()}")
    assert image.mode == "RGB" and image.size == (64, 48)


@pytest.mark.parametrize("mode", ["L", "P", "CMYK", "LA", "1", "I"])
def test_converts_other_modes_to_rgb(mode):
    fmt = "JPEG" if mode == "CMYK" else "TIFF" if mode == "I" else "PNG"
    image = images.read_image(encode(gradient(mode=mode), fmt), "odd")
    assert image.mode == "RGB"


def test_sixteen_bit_grayscale_keeps_its_brightness():
    ramp = np.linspace(0, 65535, 64, dtype=np.uint16)[None, :].repeat(8, 0)
    image = images.read_image(encode(Image.fromarray(ramp), "PNG"), "16bit.png")
    row = np.asarray(image)[0, :, 0]
    assert row[0] == 0 and row[-1] == 255 and 120 < row[32] < 136  # Scaled, not clipped to white.


def test_transparent_pixels_become_white():
    rgba = Image.new("RGBA", (10, 10), (255, 0, 0, 0))
    pixel = np.asarray(images.read_image(encode(rgba, "PNG"), "clear.png"))[0, 0]
    assert tuple(pixel) == (255, 255, 255)


def test_palette_transparency_becomes_white():
    pal = Image.new("P", (10, 10), 0)
    pal.putpalette([0, 0, 0] * 256)
    pixel = np.asarray(images.read_image(encode(pal, "GIF", transparency=0), "clear.gif"))[0, 0]
    assert tuple(pixel) == (255, 255, 255)


def test_exif_orientation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 3  # Rotated 180°: the red half must end up on the right.
    data = encode(half_red_half_blue(), "JPEG", exif=exif.tobytes(), quality=95)
    arr = np.asarray(images.read_image(data, "rotated.jpg"))
    assert arr[10, 35, 0] > 200 and arr[10, 5, 2] > 200


def test_animated_gif_uses_the_first_frame():
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 255, 0))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert tuple(np.asarray(images.read_image(data, "anim.gif"))[0, 0]) == (255, 0, 0)


def test_model_input_is_the_whole_image_resized_to_floats_in_unit_range():
    arr = images.load_for_model(jpeg(300, 100), 224)
    assert arr.shape == (224, 224, 3) and arr.dtype == np.float32
    assert 0.0 <= arr.min() and arr.max() <= 1.0
    assert arr[:, 0, 0].mean() < 0.1 and arr[:, -1, 0].mean() > 0.9  # The full width is kept.


def test_empty_file_is_refused():
    with pytest.raises(HubDemoError, match="empty"):
        images.read_image(b"", "empty.jpg")


def test_non_image_is_refused():
    with pytest.raises(HubDemoError, match="notes.txt is not an image"):
        images.read_image(b"just some text, not pixels", "notes.txt")


def test_truncated_image_is_refused():
    data = png(256, 256)
    with pytest.raises(HubDemoError, match="damaged or truncated"):
        images.read_image(data[: len(data) // 2], "cut.png")


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Pillow warns; we refuse.
@pytest.mark.parametrize("side", [8_500, 10_000])  # 72 MP (over our limit), 100 MP (over Pillow's).
def test_decompression_bomb_is_refused_before_decoding(side):
    bomb = encode(Image.new("1", (side, side)), "PNG")  # Tens of megapixels in a few kB.
    assert len(bomb) < 100_000
    with pytest.raises(HubDemoError, match="megapixels"):
        images.read_image(bomb, "bomb.png")


def test_sample_photo_is_the_tutorials_grace_hopper():
    image = images.read_image(images.sample_photo(), images.SAMPLE_NAME)
    assert image.size == (512, 600)
