"""Read a legacy-format PyTorch state dict with pickle + numpy, without torch.

The legacy format (``torch.save(..., _use_new_zipfile_serialization=False)``) is
five records in one file: four pickles (magic number, protocol version, system
info, the object whose tensors point at storages by key, the list of storage
keys in file order), then each storage's raw bytes, prefixed by its length in
elements. A pickle can run code, so the unpickler here allows only the few
globals a state dict needs and maps them to harmless stand-ins.
"""

from __future__ import annotations

import collections
import pickle
import struct
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from hubdemo.errors import HubDemoError
from hubdemo.i18n import _

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001

# torch storage class name -> numpy dtype of its elements.
_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


@dataclass(frozen=True)
class _StorageType:
    dtype: type


@dataclass(frozen=True)
class _StorageRef:
    key: str
    dtype: type


@dataclass(frozen=True)
class _PendingTensor:
    """A tensor whose storage bytes come later in the file."""

    storage: _StorageRef
    offset: int
    shape: tuple
    stride: tuple


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    del requires_grad, backward_hooks, metadata  # Irrelevant to plain arrays.
    return _PendingTensor(storage, int(storage_offset), tuple(size), tuple(stride))


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only an OrderedDict, tensor rebuilds and storage types."""

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        raise HubDemoError(
            _("Refusing to load the weights file: it asks for '{module}.{name}', which a "
              "plain PyTorch state dict never needs (a pickle can run code). Use a state "
              "dict saved by torch.save(model.state_dict(), ...).").format(module=module, name=name))

    def persistent_load(self, pid):
        # ('storage', storage_type, key, location, numel[, view_metadata])
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"
                and isinstance(pid[1], _StorageType)):
            raise HubDemoError(_("Unexpected persistent id in the weights file: {pid!r}.").format(pid=pid))
        return _StorageRef(key=str(pid[2]), dtype=pid[1].dtype)


def _load_pickle(f: BinaryIO):
    return _RestrictedUnpickler(f).load()


def load_state_dict(path) -> dict[str, np.ndarray]:
    """Read a legacy PyTorch state dict as ``{name: float32/... numpy array}``.

    Args:
        path: a ``.pth`` file written by torch's legacy (non-zip) serializer.

    Returns:
        An ordered dict of parameter name to a C-contiguous numpy array.

    Raises:
        HubDemoError: the file is not a legacy state dict, is truncated, or its
            pickle names a global outside the allowed few.
    """
    try:
        with open(path, "rb") as f:
            if _load_pickle(f) != MAGIC_NUMBER:
                raise HubDemoError(_("{path} is not a legacy-format PyTorch file (wrong magic number).").format(
                        path=path))
            version = _load_pickle(f)
            if version != PROTOCOL_VERSION:
                raise HubDemoError(_("{path}: unsupported PyTorch protocol version {version!r}.").format(
                        path=path, version=version))
            _load_pickle(f)  # System info: endianness and type sizes.
            pending = _load_pickle(f)
            storage_keys = _load_pickle(f)
            dtypes = {t.storage.key: t.storage.dtype for t in _tensors(pending)}
            storages = {}
            for key in storage_keys:
                (numel,) = struct.unpack("<q", f.read(8))
                dtype = dtypes.get(key, np.uint8)  # Unused storage: read, then ignore.
                nbytes = numel * np.dtype(dtype).itemsize
                data = f.read(nbytes)
                if len(data) != nbytes:
                    raise HubDemoError(_("{path} is truncated: storage {key} is incomplete.").format(
                            path=path, key=key))
                storages[key] = np.frombuffer(data, dtype=dtype)
    except (pickle.UnpicklingError, EOFError, struct.error, ValueError) as err:
        raise HubDemoError(_("{path} is not a readable PyTorch state dict: {err}").format(path=path, err=err)) from err
    if not isinstance(pending, dict):
        raise HubDemoError(_("{path} holds a {error}, not a state dict.").format(
                path=path, error=type(pending).__name__))
    return collections.OrderedDict(
        (name, _materialise(t, storages)) for name, t in pending.items()
        if isinstance(t, _PendingTensor))


def _tensors(pending) -> list[_PendingTensor]:
    values = pending.values() if isinstance(pending, dict) else ()
    return [t for t in values if isinstance(t, _PendingTensor)]


def _materialise(t: _PendingTensor, storages: dict[str, np.ndarray]) -> np.ndarray:
    flat = storages[t.storage.key]
    itemsize = flat.itemsize
    view = np.lib.stride_tricks.as_strided(
        flat[t.offset:], shape=t.shape, strides=tuple(s * itemsize for s in t.stride))
    return np.ascontiguousarray(view)
