"""Model FLOPs of a training step, and the machine's measured dense-matmul peak.

Training FLOPs = 3 × forward FLOPs (backward ≈ 2 × forward), and a forward
matmul of a (tokens × n) input by an (n × m) weight costs 2 · tokens · n · m.
So a weight matrix with ``p`` entries applied to ``tokens`` positions costs
``6 · p · tokens`` per training step — the "6 × parameters × tokens" rule, with
each parameter counted for the tokens it really multiplies:

- encoder layers (per layer 4·H² attention projections + 2·H·I feed-forward)
  run on all B·T positions, padding included (it is computed);
- the MLM head (H² transform + H·V decoder) runs only on the B·P masked slots;
- pooler (H²) and NSP / classifier head (H·C) run once per sequence.

Attention adds what no parameter accounts for: per layer and sequence, Q·Kᵀ and
A·V each cost 2·T²·H forward, so ``12 · L · T² · H`` per sequence for training.
Embedding lookups, biases, layer norms, softmax and GELU are not matmuls and are
left out (< 1 % for these shapes), as in the PaLM MFU definition.
"""
import time


def encoder_matmul_params(num_layers, hidden_dim, intermediate_dim):
    """Weight entries every token passes through in the encoder stack."""
    per_layer = 4 * hidden_dim * hidden_dim + 2 * hidden_dim * intermediate_dim
    return num_layers * per_layer


def attention_training_flops(num_layers, hidden_dim, seq_length):
    """Q·Kᵀ and A·V of one sequence, forward + backward."""
    return 12 * num_layers * seq_length * seq_length * hidden_dim


def bert_training_flops(config, batch_size, seq_length, num_masked=0, nsp=False,
                        num_classes=0):
    """FLOPs of one training step of a BERT task model (see the module doc).

    Args:
        config: a BertConfig (num_layers, hidden_dim, intermediate_dim, vocabulary_size).
        batch_size, seq_length: the step's (B, T).
        num_masked: P, masked positions per sequence fed to the MLM head (0 = no MLM head).
        nsp: whether the pooler + 2-way NSP head is trained too.
        num_classes: C of a classifier head on the pooled output (0 = none).
    """
    hidden = config.hidden_dim
    per_token = encoder_matmul_params(config.num_layers, hidden, config.intermediate_dim)
    flops = 6 * per_token * batch_size * seq_length
    if num_masked:
        head = hidden * hidden + hidden * config.vocabulary_size
        flops += 6 * head * batch_size * num_masked
    if nsp:
        flops += 6 * (hidden * hidden + 2 * hidden) * batch_size
    if num_classes:
        flops += 6 * (hidden * hidden + hidden * num_classes) * batch_size
    flops += attention_training_flops(config.num_layers, hidden, seq_length) * batch_size
    return flops


def matmul_peak(sizes=(1024, 2048, 4096), repeats=5, dtype="float32"):
    """Measured dense-matmul FLOP/s of this machine's default device.

    Returns {"peak_flops": best over sizes and runs, "per_size": {n: [flop/s per run]}}.
    A square n × n matmul is 2·n³ FLOPs; each run ends by reading one element back,
    which waits for the device without copying the whole result.
    """
    import tensorflow as tf
    per_size = {}
    for n in sizes:
        a = tf.random.normal((n, n), dtype="float32")
        b = tf.random.normal((n, n), dtype="float32")
        a, b = tf.cast(a, dtype), tf.cast(b, dtype)
        tf.matmul(a, b)[0, 0].numpy()  # warm-up: kernel selection, thread pool
        rates = []
        for _ in range(repeats):
            start = time.perf_counter()
            tf.matmul(a, b)[0, 0].numpy()
            rates.append(2 * n ** 3 / (time.perf_counter() - start))
        per_size[n] = rates
    peak = max(max(rates) for rates in per_size.values())
    return {"peak_flops": peak, "per_size": per_size, "dtype": dtype}
