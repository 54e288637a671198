"""Training under tf.distribute: two logical CPUs against one, fine-tuning mirrored, and a two-process cluster.

Each run is the real command line in its own process: logical devices and a
multi-worker strategy must be set up before TensorFlow runs anything.
"""

import json
import os
import socket
import subprocess
import sys

import pytest

from conftest import ROOT


def command(data, out, *options):
    return [sys.executable, "-m", "hubdemo", "train", str(data), "--out", str(out), *options]


def last_json(result) -> dict:
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def train(data, out, *options, env=None, timeout=900) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return last_json(subprocess.run(command(data, out, *options), env=env, capture_output=True, text=True,
                                    timeout=timeout))


def test_two_logical_cpus_reach_the_accuracy_of_one_device(flowers_dir, tmp_path):
    one = train(flowers_dir, tmp_path / "one")
    two = train(flowers_dir, tmp_path / "two", "--strategy", "mirrored", env={"HUBDEMO_CPU_DEVICES": "2"})
    assert one["replicas"] == 1 and two["replicas"] == 2
    assert 0.75 < one["val_accuracy"] and abs(two["val_accuracy"] - one["val_accuracy"]) <= 0.02, (one, two)
    assert two["reload_max_abs_diff"] <= 1e-5 and min(two["tflite_agreement"].values()) >= 0.9


def test_fine_tuning_the_whole_network_runs_mirrored(colours_dir, tmp_path):
    result = train(colours_dir, tmp_path / "tuned", "--strategy", "mirrored", "--fine-tune", "--epochs", "1",
                   "--batch-size", "8", "--learning-rate", "0.0001", env={"HUBDEMO_CPU_DEVICES": "2"})
    assert result["replicas"] == 2 and result["reload_max_abs_diff"] <= 1e-5
    assert json.loads((tmp_path / "tuned" / "metadata.json").read_text())["settings"]["fine_tune"] is True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def test_a_two_process_cluster_on_localhost_trains_and_exports_a_model_that_reloads(colours_dir, tmp_path):
    workers = [f"localhost:{free_port()}", f"localhost:{free_port()}"]
    processes = []
    for index in range(2):
        config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CONFIG": json.dumps(config)}
        processes.append(subprocess.Popen(
            command(colours_dir, tmp_path / f"worker{index}", "--strategy", "multi-worker", "--epochs", "3",
                    "--batch-size", "8", "--learning-rate", "0.01"),
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        results.append(last_json(subprocess.CompletedProcess(process.args, process.returncode, out, err)))
    chief, other = results
    assert chief["replicas"] == other["replicas"] == 2 and other["chief"] is False
    assert chief["val_accuracy"] == 1.0 and chief["reload_max_abs_diff"] <= 1e-5
    assert (tmp_path / "worker0" / "saved_model.pb").is_file() and not (tmp_path / "worker1").exists()


def test_multi_worker_without_tf_config_says_what_it_needs(colours_dir, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("TF_CONFIG", None)
    result = subprocess.run(command(colours_dir, tmp_path / "x", "--strategy", "multi-worker"), env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "needs TF_CONFIG" in result.stderr


@pytest.mark.parametrize("value", ["two", "2.5"])
def test_a_bad_device_count_is_refused_in_words(colours_dir, tmp_path, value):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HUBDEMO_CPU_DEVICES": value}
    result = subprocess.run(command(colours_dir, tmp_path / "x", "--strategy", "mirrored"), env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "HUBDEMO_CPU_DEVICES must be a number of devices" in result.stderr
