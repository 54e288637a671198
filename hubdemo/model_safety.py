"""Refuse a SavedModel that could touch files, run Python or reach the network when it classifies.

A SavedModel is a program. An export made by this app holds only maths
(convolutions, matrix products, softmax) plus the two functions TensorFlow
writes to save and restore its variables. A hostile one could hide a
``WriteFile``, a ``SaveV2`` to any path or a ``PyFunc`` in the function that
classifies. Reading the graph (``saved_model.pb``) needs no TensorFlow run:
every op of every function is checked before the model is loaded, and the
save/restore ops are allowed only in the save/restore functions, which
nothing else may call.
"""

from __future__ import annotations

import re
from pathlib import Path

from hubdemo.errors import HubDemoError
from hubdemo.i18n import _

# Op names that read or write files, run Python, talk to other processes or debug servers, or print.
_UNSAFE = re.compile(r"File|Reader|Record|Save|Restore|Checkpoint|Summary|PyFunc|Dataset|Print|Debug|Vocab|"
                     r"Snapshot|LMDB|Write|Remap|Rpc|Socket|Tpu|TPU|Xla|Collective|Send|Recv|Iterator|Lookup|"
                     r"Table|Filename|Mlir|Compile|Execute")
_SAFE = {"ReadVariableOp", "AssignVariableOp", "VarHandleOp", "ResourceGather", "DisableCopyOnRead"}
# What TensorFlow itself puts in the functions that save and restore the variables.
_SAVER_OPS = {"SaveV2", "RestoreV2", "MergeV2Checkpoints", "ShardedFilename", "StringJoin", "StaticRegexFullMatch"}
_SAVER_FUNCTION = re.compile(r"^__inference__traced_(save|restore)_\d+$")


def unsafe_ops(folder: str | Path) -> list[str]:
    """``op in function`` for every op of ``folder``'s SavedModel that is not plain maths; empty when safe."""
    from tensorflow.core.protobuf import saved_model_pb2

    model = saved_model_pb2.SavedModel()
    try:
        model.ParseFromString((Path(folder) / "saved_model.pb").read_bytes())
    except Exception as err:  # noqa: BLE001 (a damaged file is refused below, as any unreadable model)
        raise HubDemoError(_("The model's saved_model.pb cannot be read ({error}); export it "
                             "again.").format(error=err.__class__.__name__)) from err
    found = []
    for graph in model.meta_graphs:
        functions = {f.signature.name: f for f in graph.graph_def.library.function}
        called = {name for f in functions.values() for node in f.node_def for name in _called(node)}
        for name, function in functions.items():
            saver = bool(_SAVER_FUNCTION.match(name)) and name not in called
            for node in function.node_def:
                if _unsafe(node.op, saver):
                    found.append(f"{node.op} in {name}")
        for node in graph.graph_def.node:  # The top level only calls functions and holds variables.
            if _unsafe(node.op, saver=False) and node.op not in ("StatefulPartitionedCall", "PartitionedCall"):
                found.append(f"{node.op} at the top level")
    return sorted(set(found))


def _unsafe(op: str, saver: bool) -> bool:
    if op in _SAFE or (saver and op in _SAVER_OPS):
        return False
    return bool(_UNSAFE.search(op))


def _called(node) -> list[str]:
    """Names of the functions a node calls (``f`` attributes, lists of them, and so on)."""
    names = []
    for value in node.attr.values():
        if value.HasField("func"):
            names.append(value.func.name)
        names.extend(f.name for f in value.list.func)
    return names


def check(folder: str | Path, name: str = "") -> None:
    """Raise a clear :class:`HubDemoError` if the SavedModel in ``folder`` does more than classify."""
    found = unsafe_ops(folder)
    if found:
        shown = ", ".join(found[:3]) + (_(" and {count} more").format(count=len(found) - 3) if len(found) > 3 else "")
        raise HubDemoError(_("{name} was refused: besides classifying, it could read or write files or run code "
                             "({shown}). Only models exported by hubdemo or plain image classifiers are opened.").format(
                                     name=name or _("The model"), shown=shown))
