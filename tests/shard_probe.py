"""One worker of the input-sharding check: what this worker's replica receives per step.

Run with ``TF_CONFIG`` set: ``python shard_probe.py OUT.json SKIP``. Builds the
trainer's own input path (a seeded ``array_batches`` stream, the trainer's
auto-shard options, the strategy's ``experimental_distribute_dataset`` as
``model.fit`` uses it) over example ids 0..23 in global batches of 4, and
writes the ids this worker sees in its first 3 steps.
"""
import json
import sys

import numpy as np


def main(out, skip):
    from kerasllm.training.strategy import make_strategy

    strategy = make_strategy()
    import tensorflow as tf

    from kerasllm.training.inputs import array_batches
    from kerasllm.training.trainer import shard_input

    batches, _ = array_batches(np.arange(24), batch_size=4, seed=7)
    dist = iter(strategy.experimental_distribute_dataset(shard_input(batches(skip))))
    seen = []
    for _ in range(3):
        local = strategy.experimental_local_results(next(dist))
        seen.append(sorted(int(i) for t in local for i in tf.reshape(t, [-1]).numpy()))
    with open(out, "w") as f:
        json.dump({"replicas": strategy.num_replicas_in_sync, "steps": seen}, f)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
