"""Archive extraction: hostile .zip and .tar members never write outside the workspace."""

import io
import os
import stat
import tarfile
import zipfile

import pytest

from hubdemo import archives
from hubdemo.errors import HubDemoError
from make_images import jpeg


def make_zip(members: dict[str, bytes], links: dict[str, str] = {}) -> bytes:  # noqa: B006
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
        for name, target in links.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, target)
    return buffer.getvalue()


def files_under(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_extracts_the_class_layout_and_ignores_junk(tmp_path):
    data = make_zip({"flowers/daisy/1.jpg": jpeg(), "flowers/roses/2.jpg": jpeg(),
                     "__MACOSX/flowers/._1.jpg": b"junk", "flowers/.DS_Store": b"junk"})
    dest = archives.extract_zip(io.BytesIO(data), tmp_path / "ws" / "a")
    assert files_under(dest) == ["flowers/daisy/1.jpg", "flowers/roses/2.jpg"]


@pytest.mark.parametrize("evil", ["../escape.jpg", "daisy/../../escape.jpg", "/tmp/abs-escape.jpg",
                                  "C:/windows/escape.jpg", "..\\escape.jpg"])
def test_refuses_members_that_would_land_outside(tmp_path, evil):
    workspace = tmp_path / "ws"
    data = make_zip({"daisy/1.jpg": jpeg(), evil: b"pwned"})
    with pytest.raises(HubDemoError, match="outside its own folder"):
        archives.extract_zip(io.BytesIO(data), workspace / "a")
    assert files_under(tmp_path) == [] and not os.path.exists("/tmp/abs-escape.jpg")


def legacy_zip(members: dict[str, bytes], encoding: str) -> bytes:
    """A zip whose names are in ``encoding`` without the UTF-8 flag, as macOS's Finder (UTF-8) or a
    Chinese Windows (GBK) writes them. Python's zipfile always flags a non-ASCII name, so the names
    are written as ASCII stand-ins of the same length and their bytes swapped afterwards."""
    encoded = {name: name.encode(encoding) for name in members}
    stand_ins = {name: f"~{i}~".ljust(len(raw), "~").encode() for i, (name, raw) in enumerate(encoded.items())}
    data = make_zip({stand_ins[name].decode(): content for name, content in members.items()})
    for name, stand_in in stand_ins.items():
        assert data.count(stand_in) == 2, "the local header and the central directory"
        data = data.replace(stand_in, encoded[name])
    return data


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])  # macOS's Finder; Windows in Chinese.
def test_class_names_in_a_zip_without_the_utf8_flag_arrive_as_typed(tmp_path, encoding):
    data = legacy_zip({"宠物/猫咪/1.jpg": jpeg(), "宠物/小狗/2.jpg": jpeg(), "宠物/小狗/照片 3.jpg": jpeg()}, encoding)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert not any(info.flag_bits & 0x800 for info in z.infolist())
        assert "宠物/猫咪/1.jpg" not in z.namelist(), f"Python alone reads them as {z.namelist()}"
    dest = archives.extract_zip(io.BytesIO(data), tmp_path / "a")
    assert files_under(dest) == ["宠物/小狗/2.jpg", "宠物/小狗/照片 3.jpg", "宠物/猫咪/1.jpg"]


def test_a_zip_without_the_flag_that_is_neither_utf8_nor_gbk_keeps_pythons_cp437(tmp_path):
    data = legacy_zip({"caf\u00e9/1.jpg": jpeg(), "th\u00e9/2.jpg": jpeg()}, "cp437")  # é is 0x82: a lone lead byte.
    dest = archives.extract_zip(io.BytesIO(data), tmp_path / "a")
    assert files_under(dest) == ["caf\u00e9/1.jpg", "th\u00e9/2.jpg"]
    assert archives.zip_expanded_size(io.BytesIO(data)) == 2 * len(jpeg())


def test_refuses_links(tmp_path):
    data = make_zip({"daisy/1.jpg": jpeg()}, links={"daisy/link.jpg": "/etc/passwd"})
    with pytest.raises(HubDemoError, match="link"):
        archives.extract_zip(io.BytesIO(data), tmp_path / "a")
    assert not (tmp_path / "a").exists()


def test_refuses_a_zip_bomb_by_declared_size(tmp_path):
    data = make_zip({"daisy/big.bin": b"\0" * 5_000_000})  # Compresses to a few kB.
    assert len(data) < 50_000
    with pytest.raises(HubDemoError, match="zip bomb"):
        archives.extract_zip(io.BytesIO(data), tmp_path / "a", max_total_bytes=1_000_000)
    assert files_under(tmp_path) == []


def test_refuses_a_zip_bomb_that_lies_about_its_size(tmp_path):
    data = bytearray(make_zip({"daisy/big.bin": b"\0" * 5_000_000}))
    # Rewrite the declared uncompressed size (central directory) to 1 kB.
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = (1000).to_bytes(4, "little")
    with pytest.raises(HubDemoError):
        archives.extract_zip(io.BytesIO(bytes(data)), tmp_path / "a", max_total_bytes=1_000_000)
    assert files_under(tmp_path) == []


def test_refuses_too_many_files(tmp_path):
    data = make_zip({f"daisy/{i}.jpg": b"x" for i in range(30)})
    with pytest.raises(HubDemoError, match="30 files"):
        archives.extract_zip(io.BytesIO(data), tmp_path / "a", max_files=20)


def test_a_corrupt_archive_gets_a_clear_message(tmp_path):
    data = make_zip({"daisy/1.jpg": jpeg(), "roses/2.jpg": jpeg()})
    with pytest.raises(HubDemoError, match="not a readable .zip"):
        archives.extract_zip(io.BytesIO(data[: len(data) // 3]), tmp_path / "a")
    broken = bytearray(data)
    broken[60:120] = b"\xff" * 60  # Inside the first member's compressed bytes: CRC mismatch.
    with pytest.raises(HubDemoError, match="damaged|not a readable"):
        archives.extract_zip(io.BytesIO(bytes(broken)), tmp_path / "b")
    assert files_under(tmp_path) == []


def test_tar_with_escaping_member_is_refused(tmp_path):
    path = tmp_path / "evil.tgz"
    with tarfile.open(path, "w:gz") as tar:
        for name in ("flower_photos/daisy/1.jpg", "../../escape.jpg"):
            info = tarfile.TarInfo(name)
            payload = jpeg()
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    with pytest.raises(HubDemoError, match="outside its own folder"):
        archives.extract_tar(path, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (tmp_path.parent / "escape.jpg").exists()


def test_a_full_disk_while_extracting_is_not_called_a_damaged_archive(tmp_path, monkeypatch):
    import errno

    from make_images import jpeg, zip_of

    def full(src, out):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(archives._Budget, "copy", lambda self, src, out: full(src, out))
    with pytest.raises(HubDemoError, match="could not be extracted into .*: the disk is full"):
        archives.extract_zip(io.BytesIO(zip_of({"cat/1.jpg": jpeg()})), tmp_path / "out")
    assert not (tmp_path / "out").exists()
