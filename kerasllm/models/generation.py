"""Autoregressive decoding for models with a recurrent step API.

A model that decodes with these functions provides::

    model.initial_state(batch_size)            -> states (any nest of tensors)
    model.prefill(token_ids (B, T), states)     -> logits (B, T, V) float32, states
    model.step(token_ids (B,), states)          -> logits (B, V) float32, states

The prompt runs once through ``prefill``; every new token then costs one
``step`` that carries the states, instead of re-running the whole prefix.
``decode`` is graph code (a ``tf.while_loop``) that an exported SavedModel
signature can call as is; ``generate_numpy`` is the checked NumPy front end.
"""
import numpy as np
import tensorflow as tf

from kerasllm.models.sampling import sample_next_token


def decode(model, prompt_ids, max_new_tokens, seed, temperature=1.0, top_k=0, top_p=1.0):
    """Extend ``prompt_ids`` (B, T) int32 by ``max_new_tokens`` sampled ids -> (B, T + N) int32.

    ``seed`` is an int scalar; step ``i`` samples with the stateless seed
    ``[seed, i]``, so equal seeds give equal outputs. ``temperature == 0`` is
    greedy, ``top_k == 0`` and ``top_p == 1`` switch those filters off.
    """
    prompt_ids = tf.cast(prompt_ids, tf.int32)
    batch_size = tf.shape(prompt_ids)[0]
    logits, states = model.prefill(prompt_ids, model.initial_state(batch_size))  # (B, T, V)
    seed = tf.cast(seed, tf.int64)

    def body(i, tokens, next_logits, states):
        step_seed = tf.stack([seed, tf.cast(i, tf.int64)])
        token = sample_next_token(next_logits, step_seed, temperature, top_k, top_p)  # (B,)
        next_logits, states = model.step(token, states)  # (B, V)
        return i + 1, tf.concat([tokens, token[:, None]], axis=1), next_logits, states

    def keep_going(i, *_):
        return i < max_new_tokens

    # tokens grows along time, so its shape invariant leaves that axis open.
    loop_vars = (tf.constant(0), prompt_ids, logits[:, -1], states)
    invariants = (tf.TensorShape([]), tf.TensorShape([prompt_ids.shape[0], None]),
                  loop_vars[2].shape, tf.nest.map_structure(lambda s: s.shape, states))
    _, tokens, _, _ = tf.while_loop(keep_going, body, loop_vars, shape_invariants=invariants)
    return tokens


def _check_generate_args(prompt, vocabulary_size, max_new_tokens, temperature, top_k, top_p):
    if prompt.ndim != 2 or prompt.shape[1] < 1 or not np.issubdtype(prompt.dtype, np.integer):
        raise ValueError(
            "generate() needs `prompt_ids` as integer ids of shape (batch, length>=1) or "
            f"(length>=1,), received dtype {prompt.dtype} and shape {prompt.shape}.")
    if prompt.min() < 0 or prompt.max() >= vocabulary_size:
        raise ValueError(
            f"generate() received token ids in [{prompt.min()}, {prompt.max()}] but the "
            f"vocabulary has {vocabulary_size} ids; tokenize with the model's vocabulary.")
    if int(max_new_tokens) != max_new_tokens or max_new_tokens < 0:
        raise ValueError(f"`max_new_tokens` must be an integer >= 0, received {max_new_tokens}.")
    if temperature < 0:
        raise ValueError(f"`temperature` must be >= 0 (0 = greedy), received {temperature}.")
    if top_k is not None and (int(top_k) != top_k or top_k < 1):
        raise ValueError(f"`top_k` must be None or an integer >= 1, received {top_k}.")
    if top_p is not None and not 0.0 < top_p <= 1.0:
        raise ValueError(f"`top_p` must be None or in (0, 1], received {top_p}.")


def generate_numpy(decode_fn, vocabulary_size, prompt_ids, max_new_tokens, temperature=1.0,
                   top_k=None, top_p=None, seed=None):
    """Validate NumPy arguments, run ``decode_fn`` and return int32 ids.

    ``decode_fn(prompt, max_new_tokens, seed, temperature, top_k, top_p)`` is
    ``decode`` bound to a model (usually a cached ``tf.function``). A 1-D
    prompt gives a 1-D result. ``seed=None`` draws one from NumPy's global
    generator (so ``keras.utils.set_random_seed`` makes it reproducible).
    """
    prompt = np.asarray(prompt_ids)
    single = prompt.ndim == 1
    prompt = prompt[None] if single else prompt
    _check_generate_args(prompt, vocabulary_size, max_new_tokens, temperature, top_k, top_p)
    if seed is None:
        seed = np.random.randint(0, 2**31 - 1)
    tokens = decode_fn(
        tf.constant(prompt, tf.int32), tf.constant(int(max_new_tokens), tf.int32),
        tf.constant(int(seed), tf.int64), tf.constant(float(temperature), tf.float32),
        tf.constant(int(top_k or 0), tf.int32),
        tf.constant(1.0 if top_p is None else float(top_p), tf.float32))
    tokens = np.asarray(tokens, dtype=np.int32)
    return tokens[0] if single else tokens
