"""The legacy PyTorch state-dict reader: real weights in, numpy out, and nothing else runs."""

import os
import pickle

import numpy as np
import pytest

from hubdemo.errors import HubDemoError
from hubdemo.lite import bundled_weights_path
from hubdemo.torch_pickle import MAGIC_NUMBER, PROTOCOL_VERSION, load_state_dict


@pytest.fixture(scope="module")
def state():
    return load_state_dict(bundled_weights_path())


def test_reads_every_tensor_of_the_bundled_weights_with_its_shape(state):
    assert len(state) == 296
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert state["_blocks.15._project_conv.weight"].shape == (320, 1152, 1, 1)
    assert state["_conv_head.weight"].shape == (1280, 320, 1, 1)
    assert state["_fc.weight"].shape == (1000, 1280)
    assert state["_fc.weight"].dtype == np.float32
    assert {int(k.split(".")[1]) for k in state if k.startswith("_blocks.")} == set(range(16))
    assert not any("_se_" in k for k in state), "Lite0 has no squeeze-excite"


def test_reads_known_values_at_the_right_offsets(state):
    np.testing.assert_allclose(state["_conv_stem.weight"][0, 0, 0, :2], [-1.1103361, -1.3087704], rtol=1e-6)
    np.testing.assert_allclose(state["_bn0.running_var"][:2], [1.6314286, 70.371574], rtol=1e-6)
    np.testing.assert_allclose(state["_fc.bias"][:2], [0.03205391, -0.01598576], rtol=1e-6)
    assert state["_bn1.weight"].flags["C_CONTIGUOUS"]


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _legacy_file(path, payload):
    with open(path, "wb") as f:
        for record in (MAGIC_NUMBER, PROTOCOL_VERSION, {"little_endian": True}, payload, []):
            pickle.dump(record, f, protocol=2)


def test_refuses_a_pickle_that_would_run_code(tmp_path):
    marker = tmp_path / "pwned"
    _legacy_file(tmp_path / "evil.pth", {"weight": _RunsCode(str(marker))})
    with pytest.raises(HubDemoError, match="posix.mkdir|os.mkdir|can run code"):
        load_state_dict(tmp_path / "evil.pth")
    assert not marker.exists()


def test_refuses_a_file_that_is_not_a_legacy_state_dict(tmp_path):
    (tmp_path / "zip.pth").write_bytes(b"PK\x03\x04 not a legacy pickle")
    with pytest.raises(HubDemoError, match="not a"):
        load_state_dict(tmp_path / "zip.pth")


def test_reports_a_truncated_weights_file(tmp_path):
    data = bundled_weights_path().read_bytes()
    (tmp_path / "cut.pth").write_bytes(data[: len(data) // 2])
    with pytest.raises(HubDemoError, match="truncated|not a readable"):
        load_state_dict(tmp_path / "cut.pth")
