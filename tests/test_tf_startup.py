"""TensorFlow's start-up notes stay out of the terminal; whatever else is written meanwhile still shows."""

import os

from hubdemo import tf as hubdemo_tf

STARTUP = [  # What TensorFlow 2.21 (CPU build) prints as it loads, on a computer without a GPU driver.
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    b"I0000 00:00:1796560933.248314    9680 port.cc:153] oneDNN custom operations are on. You may see slightly "
    b"different numerical results due to floating-point round-off errors from different computation orders.\n",
    b"I0000 00:00:1796560933.249278    9680 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will "
    b"not be used.\n",
    b"E0000 00:00:1796560936.023105    9680 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: Failed "
    b"call to cuInit: UNKNOWN ERROR (303)\n",
]
OTHER = b"E0000 00:00:1796560936.1    9680 some_kernel.cc:12] a real problem\n"


def test_the_start_up_notes_are_held_back_and_other_lines_are_written_out_after(capfd):
    with hubdemo_tf._without_startup_notes():
        for line in [STARTUP[0], OTHER, *STARTUP[1:]]:
            os.write(2, line)
        assert capfd.readouterr().err == "", "held while TensorFlow starts"
    assert capfd.readouterr().err == OTHER.decode()


def test_a_cuda_error_with_a_driver_present_is_kept():
    with_driver = [STARTUP[0], STARTUP[1], STARTUP[3]]  # No "Could not find cuda drivers": a GPU driver that failed.
    assert hubdemo_tf.startup_lines_kept(with_driver) == [STARTUP[3]]
    assert hubdemo_tf.startup_lines_kept(STARTUP + [OTHER]) == [OTHER]
