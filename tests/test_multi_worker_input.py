"""Input sharding across 2 worker processes: per step, the union of what the workers
receive is exactly the single-machine global batch, from the start and after a resume.

Each worker is ``tests/shard_probe.py`` (the trainer's own input path under a real
``MultiWorkerMirroredStrategy``), started with the ``TF_CONFIG`` ``kerasllm launch`` gives it.
"""
import json
import subprocess
import sys

import numpy as np
import pytest

from kerasllm.cli.launch_cmd import free_ports, tf_config
from training_helpers import REPO, env

pytestmark = pytest.mark.slow


def _global_batches(skip):
    from kerasllm.training.inputs import array_batches

    batches, _ = array_batches(np.arange(24), batch_size=4, seed=7)
    return [sorted(int(i) for i in b.numpy()) for b in batches(skip).take(3)]


@pytest.mark.parametrize("skip", [0, 5])
def test_two_workers_split_each_global_batch_exactly(tmp_path, skip):
    hosts = [f"127.0.0.1:{p}" for p in free_ports(2)]
    outs = [tmp_path / f"worker{i}.json" for i in range(2)]
    procs = [subprocess.Popen([sys.executable, str(REPO / "tests" / "shard_probe.py"), str(outs[i]), str(skip)],
                              cwd=REPO, env=env(TF_CONFIG=tf_config(hosts, i)), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
             for i in range(2)]
    logs = [p.communicate(timeout=180)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], "\n".join(log[-2000:] for log in logs)
    seen = [json.loads(out.read_text()) for out in outs]
    assert [s["replicas"] for s in seen] == [2, 2]
    expected = _global_batches(skip)
    for step, batch in enumerate(expected):
        a, b = seen[0]["steps"][step], seen[1]["steps"][step]
        assert len(a) == len(b) == 2 and not set(a) & set(b), f"step {step}: {a} and {b} overlap"
        assert sorted(a + b) == batch, f"step {step}: workers saw {a} + {b}, one machine {batch}"
