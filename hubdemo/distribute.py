"""Training beyond one device: TensorFlow's own distribution strategies, chosen by name.

``mirrored`` copies the model onto every visible device of this machine (its
GPUs, or ``HUBDEMO_CPU_DEVICES`` logical CPUs, which is how a 2-core laptop and
the tests try it) and splits each batch between them. ``multi-worker`` does the
same across machines, each running the same command, as the standard
``TF_CONFIG`` environment variable describes (the cluster's addresses and this
worker's place). The batch size stays the global one, so a distributed run
takes the same steps as a local one.
"""

from __future__ import annotations

import json
import os

from hubdemo.errors import HubDemoError
from hubdemo.i18n import _

STRATEGIES = ("mirrored", "multi-worker")
CPU_DEVICES = "HUBDEMO_CPU_DEVICES"


def split_cpu(tf) -> None:
    """``HUBDEMO_CPU_DEVICES=N``: N logical CPU devices, before TensorFlow starts (see :mod:`hubdemo.tf`)."""
    wanted = os.environ.get(CPU_DEVICES, "").strip()
    if not wanted:
        return
    try:
        count = int(wanted)
    except ValueError:
        raise HubDemoError(_("{variable} must be a number of devices, not '{value}'.").format(
            variable=CPU_DEVICES, value=wanted)) from None
    if count > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)


def make(name: str | None):
    """The strategy called ``name``, or None (train as usual, on this process's default device).

    Raises:
        HubDemoError: an unknown name, or ``multi-worker`` without a usable ``TF_CONFIG``.
    """
    if not name:
        return None
    from hubdemo.tf import tf
    if name == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy(devices=[d.name for d in devices])
    if name == "multi-worker":
        cluster = _tf_config()
        if not cluster.get("cluster", {}).get("worker"):
            raise HubDemoError(_("--strategy multi-worker needs TF_CONFIG: the workers' addresses and this "
                                 "one's index, e.g. {example}").format(example=EXAMPLE))
        communication = tf.distribute.experimental.CommunicationOptions(
            implementation=tf.distribute.experimental.CommunicationImplementation.RING)
        return tf.distribute.MultiWorkerMirroredStrategy(communication_options=communication)
    raise HubDemoError(_("Unknown strategy '{name}'. Choose one of: {names}.").format(
        name=name, names=", ".join(STRATEGIES)))


EXAMPLE = '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}'


def _tf_config() -> dict:
    try:
        return json.loads(os.environ.get("TF_CONFIG") or "{}")
    except json.JSONDecodeError as err:
        raise HubDemoError(_("TF_CONFIG is not valid JSON ({reason}).").format(reason=err)) from None


def is_chief(strategy) -> bool:
    """True for the process that writes the results: the only one, or worker 0 of a cluster."""
    if strategy is None or not hasattr(strategy, "cluster_resolver") or strategy.cluster_resolver is None:
        return True
    resolver = strategy.cluster_resolver
    return resolver.task_type in (None, "chief") or (resolver.task_type == "worker" and resolver.task_id == 0
                                                     and "chief" not in resolver.cluster_spec().as_dict())


def replicas(strategy) -> int:
    return 1 if strategy is None else int(strategy.num_replicas_in_sync)
