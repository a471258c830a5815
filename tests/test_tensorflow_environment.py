"""The TensorFlow settings importing kerasllm chooses (kerasllm/__init__.py), and that a user's own win."""
import os
import platform
import subprocess
import sys

import pytest

PROBE = ("import kerasllm, tensorflow\n"
         "from tensorflow.python.util import _pywrap_util_port\n"
         "print(_pywrap_util_port.IsMklEnabled())")


def _onednn_in_a_fresh_process(user_setting):
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    if user_setting is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = user_setting
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                    reason="TensorFlow's pip builds have oneDNN CPU kernels on x86-64 only")
def test_onednn_kernels_are_on_unless_the_user_turned_them_off():
    assert _onednn_in_a_fresh_process(None) == "True"  # even on CPUs where TF defaults to off
    assert _onednn_in_a_fresh_process("0") == "False"
