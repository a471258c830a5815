"""Run SavedModel signatures where keras / tensorflow_text / kerasllm cannot be imported."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent


def run_blocked(root, requests):
    """``export_serving_check.py`` on ``requests`` ({"dir|signature[#tag]": {name: [dtype,
    value]}}); returns {"signature[#tag]|output": array} (the directory part dropped)."""
    root = Path(root)
    (root / "inputs.json").write_text(json.dumps(requests))
    proc = subprocess.run(
        [sys.executable, str(HERE / "export_serving_check.py"), str(root / "inputs.json"),
         str(root / "outputs.npz")], capture_output=True, text=True, cwd=str(root),
        env={**os.environ, "PYTHONPATH": ""}, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = dict(np.load(root / "outputs.npz", allow_pickle=True))
    return {k.split("|", 1)[1]: v for k, v in out.items()}
