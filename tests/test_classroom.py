"""Classroom mode's rules: allowed folders, the certificate, the address and QR code, per-session workspaces."""

import io
import os
import socket
import zipfile
from pathlib import Path

import pytest

from hubdemo import archives, class_project, classroom, datasets
from hubdemo.errors import HubDemoError
from hubdemo.workspace import LOCAL, MB, Workspace
from make_images import jpeg


def test_without_classroom_nothing_changes():
    args, policy = classroom.from_args(["--data", "/some/where"])
    assert policy is classroom.OPEN and not policy.on and args.data == ["/some/where"]
    assert policy.check_folder("/etc") == Path("/etc")
    assert policy.check_handle("https://tfhub.dev/x") == "https://tfhub.dev/x"


def test_a_classroom_reads_only_below_the_teachers_folders(tmp_path):
    data = tmp_path / "class data"
    (data / "flowers" / "daisy").mkdir(parents=True)
    secret = tmp_path / "secret"
    secret.mkdir()
    (data / "link").symlink_to(secret)  # A link inside the allowed folder that points out of it.
    _, policy = classroom.from_args(["--classroom", "--data", str(data), "--passphrase", "tulip"])
    assert policy.on and policy.passphrase == "tulip" and policy.data_roots == (data.resolve(),)
    assert policy.check_folder(data / "flowers") == (data / "flowers").resolve()
    assert policy.check_folder(data) == data.resolve()
    for outside in (secret, data / "link", data / ".." / "secret", "/etc", "~", str(data) + "2", tmp_path):
        with pytest.raises(HubDemoError, match="can only come from the teacher's folders"):
            policy.check_folder(outside)
    with pytest.raises(HubDemoError, match="downloaded by the teacher"):
        policy.check_handle("https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/classification/5")
    with pytest.raises(HubDemoError, match="models can only come from"):
        policy.check_handle(str(secret))
    assert policy.check_handle(str(data / "flowers")) == str((data / "flowers").resolve())


def test_a_classroom_without_data_folders_refuses_every_folder(tmp_path):
    _, policy = classroom.from_args(["--classroom"])
    with pytest.raises(HubDemoError, match="without --data"):
        policy.check_folder(tmp_path)
    assert policy.passphrase and policy.passphrase == classroom.from_args(["--classroom"])[1].passphrase


def test_the_self_signed_certificate_is_made_once_for_this_computers_names_and_addresses(tmp_path, monkeypatch):
    from cryptography import x509
    monkeypatch.setenv("HUBDEMO_CACHE_DIR", str(tmp_path))
    cert, key = classroom.certificate(["192.168.1.20"])
    loaded = x509.load_pem_x509_certificate(cert.read_bytes())
    san = loaded.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"localhost", socket.gethostname()} <= set(san.get_values_for_type(x509.DNSName))
    assert {"127.0.0.1", "192.168.1.20"} <= {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    assert oct(key.stat().st_mode & 0o777) == "0o600", "the private key is the teacher's only"
    stamp = cert.stat().st_mtime_ns
    assert classroom.certificate(["192.168.1.20"])[0].stat().st_mtime_ns == stamp, "kept, not made again"
    classroom.certificate(["10.0.0.7"])  # The laptop joined another network: a new certificate.
    san = x509.load_pem_x509_certificate(cert.read_bytes()).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    assert "10.0.0.7" in {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    assert len(classroom.fingerprint(cert).split(":")) == 32
    flags = classroom.serve_flags(classroom.from_args(["--classroom"])[1], ["10.0.0.7"])
    assert flags[flags.index("--server.address") + 1] == "0.0.0.0"
    assert flags[flags.index("--browser.serverAddress") + 1] == "10.0.0.7"


def test_the_lan_address_is_read_from_the_interfaces_and_the_qr_code_holds_the_url():
    import psutil
    addresses = classroom.lan_addresses()
    ours = {a.address for addrs in psutil.net_if_addrs().values() for a in addrs if a.family == socket.AF_INET}
    assert set(addresses) <= ours and "127.0.0.1" not in addresses
    url = classroom.join_url(addresses[0] if addresses else "localhost", 8501, code="K7QF")
    assert url.startswith("https://") and url.endswith(":8501/?join=K7QF")
    png = classroom.qr_png(url)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image
    assert Image.open(io.BytesIO(png)).size[0] > 200
    assert "█" in classroom.qr_terminal(url) or "▀" in classroom.qr_terminal(url)


def test_own_certificate_needs_its_key():
    with pytest.raises(HubDemoError, match="both --cert and --key"):
        classroom.from_args(["--classroom", "--cert", "mine.pem"])


# --- Workspaces ---------------------------------------------------------------------------------

def fill(folder: Path, name: str, size: int, age: float = 0) -> Path:
    item = folder / name
    item.mkdir(parents=True)
    (item / "data.bin").write_bytes(b"x" * size)
    if age:
        os.utime(item, (item.stat().st_mtime - age,) * 2)
    return item


def test_each_session_has_its_own_folder_and_cleans_oldest_first(tmp_path):
    space = Workspace(tmp_path, session_quota=3 * MB, total_quota=10 * MB)
    anna, ben = space.folder("anna", "uploads"), space.folder("ben", "uploads")
    assert anna != ben and anna.parent.name == "anna"
    odd = space.folder("../ben")
    assert odd.parent == space.root, "any id stays inside the workspace"
    old = fill(anna, "old", MB, age=100)
    current = fill(anna, "current", MB, age=200)  # Older, but in use.
    fill(ben, "b", MB)
    space.make_room("anna", int(1.5 * MB), active={"anna", "ben"}, keep=[current])
    assert not old.exists() and current.exists(), "the oldest item not in use went"
    assert space.used("ben") == MB, "another session's files are never touched"
    with pytest.raises(HubDemoError, match="more than the 3 MB each person"):
        space.make_room("anna", 4 * MB, active={"anna"})
    with pytest.raises(HubDemoError, match="Your workspace is full"):
        space.make_room("anna", int(2.5 * MB), active={"anna", "ben"}, keep=[current])


def test_gone_sessions_are_cleaned_and_the_total_quota_holds(tmp_path):
    space = Workspace(tmp_path, session_quota=5 * MB, total_quota=4 * MB)
    fill(space.folder("gone", "built"), "photos", 2 * MB)
    fill(space.folder(LOCAL, "uploads"), "kept", MB)
    fill(space.folder("ben", "uploads"), "b", MB)
    space.make_room("anna", MB, active={"anna", "ben"})
    assert set(space.sessions()) == {"ben", LOCAL}, "the closed tab's folder went; the local one stays"
    with pytest.raises(HubDemoError, match="class's workspace is full"):
        space.make_room("anna", 3 * MB, active={"anna", "ben"})
    assert space.clear() >= 2 * MB and space.used() == 0


def test_an_archive_that_would_not_fit_is_refused_before_extraction(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:  # 1 KB compressed, 6 MB expanded.
        z.writestr("a/big.bin", b"\0" * (6 * MB))
    data = buffer.getvalue()
    assert len(data) < 20_000 and archives.zip_expanded_size(io.BytesIO(data)) == 6 * MB
    space = Workspace(tmp_path, session_quota=5 * MB)
    with pytest.raises(HubDemoError, match="needs 6 MB"):
        space.make_room("anna", archives.zip_expanded_size(io.BytesIO(data)), active={"anna"})
    assert space.used() == 0, "nothing was written"
    with pytest.raises(HubDemoError, match="zip bomb"):  # A declared size that lies is caught while writing.
        archives.extract_zip(io.BytesIO(data), tmp_path / "x", max_total_bytes=MB)
    assert not (tmp_path / "x").exists()


# --- The class project --------------------------------------------------------------------------

def test_a_class_project_collects_photos_from_many_sessions(tmp_path):
    project = class_project.ClassProject.create(tmp_path, ["pen", "cup 杯子 ☕", "pen"])
    assert len(project.code) == 4 and set(project.code) <= set(class_project.CODE_LETTERS)
    assert project.class_names == ["pen", "cup 杯子 ☕"]
    anna, ben = "5f0c9d2e-7a1b-4c3d-9e8f-0a1b2c3d4e5f", "ben-session"
    for i in range(2):
        project.add_photo("pen", f"p{i}", "IMG.JPG", jpeg(), by=anna)
        project.add_photo("cup 杯子 ☕", f"c{i}", "cam.jpg", jpeg(), by=ben)
    assert project.counts() == {"pen": 2, "cup 杯子 ☕": 2}
    mine = [p for p in project.photos()["pen"] if project.added_by(p) == class_project.owner(anna)]
    assert len(mine) == 2
    dataset = project.dataset()
    assert dataset.name == f"class project {project.code}" and dataset.counts == {"cup 杯子 ☕": 2, "pen": 2}
    kept = project.zip()  # Kept after the lesson, and opened again as an uploaded dataset.
    with zipfile.ZipFile(io.BytesIO(kept)) as z:
        assert sorted(z.namelist()) == ["cup 杯子 ☕/0000.jpg", "cup 杯子 ☕/0001.jpg", "pen/0000.jpg", "pen/0001.jpg"]
    again = datasets.load_zip(kept, name="class_project.zip", dest=tmp_path / "next-lesson")
    assert again.counts == dataset.counts and sorted(again.class_names) == sorted(project.class_names)
    project.remove(mine[0])
    with pytest.raises(HubDemoError, match="at least 2"):
        project.dataset()
    with pytest.raises(HubDemoError, match="not part of this class project"):
        project.remove(tmp_path / "elsewhere.jpg")
    with pytest.raises(HubDemoError, match="no class 'phone'"):
        project.add_photo("phone", "x", "x.jpg", jpeg(), by=anna)
    with pytest.raises(HubDemoError, match="at least two classes"):
        class_project.ClassProject.create(tmp_path, ["only"])


@pytest.mark.parametrize("typed", ["pen, cup 杯子 ☕", "pen，cup 杯子 ☕", "pen、 cup 杯子 ☕ ", "pen;cup 杯子 ☕,",
                                   "pen\ncup 杯子 ☕", " pen ；；cup 杯子 ☕"])
def test_the_classes_a_teacher_types_split_at_any_comma_english_or_chinese(typed):
    assert class_project.split_class_names(typed) == ["pen", "cup 杯子 ☕"]


@pytest.mark.parametrize("typed", ["UH5M", "uh5m", " uh 5m ", "ＵＨ５Ｍ", "ｕｈ　５ｍ"])
def test_a_join_code_is_read_in_any_case_with_spaces_or_in_full_width_letters(typed):
    assert class_project.typed_code(typed) == "UH5M"


def test_a_class_project_outlives_a_server_restart(tmp_path):
    root = tmp_path / "class-projects"
    assert class_project.ClassProject.reopen(root) is None  # A first start: no project.
    project = class_project.ClassProject.create(root, ["pen", "cup 杯子 ☕", "phone"])
    project.add_photo("pen", "p0", "IMG.JPG", jpeg(), by="anna")
    again = class_project.ClassProject.reopen(root)  # What a new server process finds.
    assert again.code == project.code and again.folder == project.folder
    assert again.counts() == {"cup 杯子 ☕": 0, "pen": 1, "phone": 0}, "its photos, and its empty classes too"
    (root / "ZZZZ").mkdir()  # Two projects cannot be told apart: none is taken up rather than the wrong one.
    assert class_project.ClassProject.reopen(root) is None


def test_user_class_names_in_any_language_reach_labels_and_exports(tmp_path):
    folder = tmp_path / "built"
    for name in ("猫 🐱", "dog house", "Ünïcode-ñ"):
        for i in range(2):
            datasets.add_built_photo(folder, name, f"i{i}", "x.jpg", jpeg())
    assert datasets.load_built(folder).class_names == ("dog house", "Ünïcode-ñ", "猫 🐱")


def test_class_names_in_any_language_survive_training_export_and_reopening(tmp_path, colours_dir, extractor):
    import shutil

    from hubdemo import export, runs, saved, training
    names = {"red": "红色 🍎", "green": "green leaf", "blue": "Ünïcode-ñ"}
    folder = tmp_path / "built"
    for source in sorted(colours_dir.iterdir()):
        shutil.copytree(source, folder / names.get(source.name, source.name))
    data = datasets.load_built(folder)
    run = runs.RunBook().new(runs.TrainConfig(epochs=2, batch_size=8), feature_handle=extractor.handle,
                             dataset_name="颜色", dataset_key=data.fingerprint)
    training.train(data, run, extractor)
    report = export.export_run(run, tmp_path / "exports" / export.export_name(run.label))
    assert (report.folder / "labels.txt").read_text("utf-8").splitlines() == list(data.class_names)
    assert saved.open_folder(report.folder).class_names == data.class_names


def test_without_knowing_which_sessions_are_alive_nobody_elses_files_are_cleaned(tmp_path):
    space = Workspace(tmp_path, session_quota=5 * MB, total_quota=50 * MB)
    other = fill(space.folder("ben", "built"), "photos", MB)
    space.make_room("anna", MB)  # No list of live sessions (as under AppTest): Ben's photos stay.
    assert other.exists()
    space.make_room("anna", MB, active={"anna"})
    assert not other.exists(), "once Ben's tab is known to be gone, his files go"
