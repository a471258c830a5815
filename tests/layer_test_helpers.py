"""Shared checks every kerasllm layer goes through.

``run_layer_checks`` builds a layer, calls it, and checks, in order:

1. eager call: output structure and shapes (``expected_output_shape``);
2. ``get_config`` / ``from_config`` and ``keras.saving`` serialize /
   deserialize (no custom_objects) give a layer with identical outputs once
   the weights are copied;
3. symbolic call: ``keras.Input`` for every tensor input, a functional
   ``keras.Model`` around the layer, same outputs as the eager call;
4. one training step compiled with XLA (``jit_compile=True``): finite loss and
   every trainable weight changes;
5. ``mixed_float16`` and ``mixed_bfloat16``: float outputs in the policy's
   compute dtype (or ``mixed_precision_output_dtype``), finite values,
   float32 variables.

Inputs: ``input_data`` is the first positional argument (a tensor / array, a
dict or a list of them); a *tuple* means several positional arguments.
``input_kwargs`` are tensor keyword arguments (``padding_mask=...``,
``value=...``) and ``call_kwargs`` plain keyword arguments
(``use_causal_mask=True``). Outputs may be a tensor, a tuple or a dict.

Example:
    run_layer_checks(
        MultiHeadAttention, {"num_heads": 2, "key_dim": 4},
        input_data=np.random.rand(2, 5, 8).astype("float32"),
        input_kwargs={"value": v, "padding_mask": mask},
        expected_output_shape=(2, 5, 8),
    )
"""
import inspect

import keras
import numpy as np
import tensorflow as tf

MIXED_POLICIES = ("mixed_float16", "mixed_bfloat16")


def _as_args(input_data):
    return input_data if isinstance(input_data, tuple) else (input_data,)


def _call(layer, input_data, input_kwargs, call_kwargs, training=False):
    kwargs = {**(input_kwargs or {}), **(call_kwargs or {})}
    if "training" in inspect.signature(layer.call).parameters:
        kwargs["training"] = training
    return layer(*_as_args(input_data), **kwargs)


def _numpy(structure):
    return keras.tree.map_structure(lambda t: keras.ops.convert_to_numpy(t), structure)


def _is_float(x):
    return keras.backend.is_float_dtype(keras.backend.standardize_dtype(x.dtype))


def assert_same_outputs(actual, expected, atol=1e-6, what="outputs"):
    """Assert two output structures (tensor / tuple / dict) are equal within atol."""
    keras.tree.assert_same_structure(actual, expected)
    for a, e in zip(keras.tree.flatten(_numpy(actual)), keras.tree.flatten(_numpy(expected))):
        np.testing.assert_allclose(a, e, atol=atol, rtol=0, err_msg=what)


def _check_shapes(outputs, expected_output_shape):
    if expected_output_shape is None:
        return
    expected = expected_output_shape
    if isinstance(expected, tuple) and all(isinstance(d, (int, type(None))) for d in expected):
        expected = [expected]
        outputs = [outputs]
    elif isinstance(expected, dict):
        assert isinstance(outputs, dict) and set(outputs) == set(expected), (
            f"output keys {sorted(outputs) if isinstance(outputs, dict) else type(outputs)} "
            f"!= expected {sorted(expected)}")
        expected, outputs = [expected[k] for k in sorted(expected)], [outputs[k] for k in sorted(expected)]
    outputs = list(outputs)
    assert len(outputs) == len(expected), f"{len(outputs)} outputs, expected {len(expected)}"
    for out, shape in zip(outputs, expected):
        got = tuple(out.shape)
        assert len(got) == len(shape) and all(s is None or s == g for g, s in zip(got, shape)), (
            f"output shape {got} != expected {tuple(shape)}")


def _without_batch(expected):
    """Same shape structure with the batch dimension set to None."""
    if expected is None:
        return None
    if isinstance(expected, dict):
        return {k: _without_batch(v) for k, v in expected.items()}
    if all(isinstance(d, (int, type(None))) for d in expected):
        return (None,) + tuple(expected[1:])
    return tuple(_without_batch(s) for s in expected)


def _rebuilt_with_weights(layer, new_layer, input_data, input_kwargs, call_kwargs):
    _call(new_layer, input_data, input_kwargs, call_kwargs)  # builds it
    new_layer.set_weights(layer.get_weights())
    return _call(new_layer, input_data, input_kwargs, call_kwargs)


def check_serialization(layer, input_data, input_kwargs=None, call_kwargs=None, atol=1e-6):
    """from_config(get_config()) and keras.saving (de)serialize: same outputs."""
    expected = _call(layer, input_data, input_kwargs, call_kwargs)
    config = layer.get_config()
    clone = layer.__class__.from_config(config)
    assert clone.get_config() == config, "get_config differs after from_config"
    assert_same_outputs(_rebuilt_with_weights(layer, clone, input_data, input_kwargs, call_kwargs),
                        expected, atol, "from_config outputs")
    serialized = keras.saving.serialize_keras_object(layer)
    revived = keras.saving.deserialize_keras_object(serialized)  # no custom_objects
    assert type(revived) is type(layer), f"deserialized {type(revived)}, expected {type(layer)}"
    assert_same_outputs(_rebuilt_with_weights(layer, revived, input_data, input_kwargs, call_kwargs),
                        expected, atol, "deserialized outputs")


def _symbolic_like(x):
    x = np.asarray(x)
    return keras.Input(shape=x.shape[1:], batch_size=None, dtype=str(x.dtype))


def check_symbolic_call(layer, input_data, input_kwargs=None, call_kwargs=None,
                        expected_output_shape=None, atol=1e-6):
    """The layer inside a functional model gives the eager outputs."""
    expected = _call(layer, input_data, input_kwargs, call_kwargs)
    sym_data = keras.tree.map_structure(_symbolic_like, _numpy(input_data))
    sym_kwargs = keras.tree.map_structure(_symbolic_like, _numpy(input_kwargs or {}))
    sym_out = _call(layer, sym_data, sym_kwargs, call_kwargs)
    _check_shapes(sym_out, _without_batch(expected_output_shape))
    model = keras.Model(inputs=[sym_data, sym_kwargs], outputs=sym_out)
    actual = model([input_data, input_kwargs or {}], training=False)
    assert_same_outputs(actual, expected, atol, "functional-model outputs")


def check_xla_training_step(layer_cls, init_kwargs, input_data, input_kwargs=None,
                            call_kwargs=None, frozen_weights=()):
    """One Adam step compiled with jit_compile=True: finite loss, weights move.

    ``frozen_weights``: substrings of weight paths allowed not to change.
    """
    layer = layer_cls(**init_kwargs)
    outputs = _call(layer, input_data, input_kwargs, call_kwargs, training=True)
    rng = np.random.default_rng(20240917)  # a seed test data is unlikely to share
    targets = [(0.5 * rng.standard_normal(o.shape) + 0.25).astype("float32")
               for o in keras.tree.flatten(outputs) if _is_float(o)]
    assert targets, "layer has no floating outputs to train on"
    variables = layer.trainable_variables
    assert variables, f"{layer_cls.__name__} has no trainable weights"
    optimizer = keras.optimizers.Adam(learning_rate=1e-2)
    optimizer.build(variables)
    before = [v.numpy().copy() for v in variables]
    args = _as_args(input_data)
    kwargs = input_kwargs or {}

    @tf.function(jit_compile=True)
    def train_step(args, kwargs):
        with tf.GradientTape() as tape:
            out = _call(layer, args if len(args) > 1 else args[0], kwargs, call_kwargs,
                        training=True)
            floats = [o for o in keras.tree.flatten(out) if _is_float(o)]
            loss = tf.add_n([tf.reduce_mean(tf.square(tf.cast(o, "float32") - t))
                             for o, t in zip(floats, targets)])
        grads = tape.gradient(loss, variables)
        missing = [v.path for v, g in zip(variables, grads)
                   if g is None and not any(f in v.path for f in frozen_weights)]
        if missing:
            raise AssertionError(f"no gradient for {missing}")
        optimizer.apply_gradients([(g, v) for g, v in zip(grads, variables) if g is not None])
        return loss

    args_in = tuple(keras.tree.map_structure(tf.convert_to_tensor, a) for a in args)
    kwargs_in = keras.tree.map_structure(tf.convert_to_tensor, kwargs)
    loss = float(train_step(args_in, kwargs_in))
    assert np.isfinite(loss), f"XLA training step gave loss {loss}"
    unchanged = [v.path for v, b in zip(variables, before)
                 if np.array_equal(v.numpy(), b) and not any(f in v.path for f in frozen_weights)]
    assert not unchanged, f"trainable weights unchanged by an XLA step: {unchanged}"
    return loss


def check_mixed_precision(layer_cls, init_kwargs, input_data, input_kwargs=None,
                          call_kwargs=None, output_dtype=None):
    """Under each mixed policy: float outputs in the compute dtype, finite.

    ``output_dtype``: a dtype string or a structure of them overriding the
    policy's compute dtype (e.g. ``"float32"`` for layers that return logits
    in float32 on purpose).
    """
    previous = keras.mixed_precision.global_policy()
    try:
        for policy in MIXED_POLICIES:
            keras.mixed_precision.set_global_policy(policy)
            layer = layer_cls(**init_kwargs)
            outputs = _call(layer, input_data, input_kwargs, call_kwargs)
            flat = keras.tree.flatten(outputs)
            if output_dtype is None or isinstance(output_dtype, str):
                wanted = [output_dtype or layer.compute_dtype] * len(flat)
            else:
                wanted = keras.tree.flatten(output_dtype)
            for out, dtype in zip(flat, wanted):
                if not _is_float(out):
                    continue
                got = keras.backend.standardize_dtype(out.dtype)
                assert got == dtype, f"{policy}: output dtype {got}, expected {dtype}"
                values = keras.ops.convert_to_numpy(keras.ops.cast(out, "float32"))
                assert np.all(np.isfinite(values)), f"{policy}: non-finite outputs"
            for v in layer.weights:
                if _is_float(v):
                    assert v.dtype == "float32", f"{policy}: variable {v.path} is {v.dtype}"
    finally:
        keras.mixed_precision.set_global_policy(previous)


def run_layer_checks(layer_cls, init_kwargs, input_data, expected_output_shape=None,
                     input_kwargs=None, call_kwargs=None, atol=1e-6,
                     run_training=True, run_mixed_precision=True, frozen_weights=(),
                     mixed_precision_output_dtype=None):
    """Run every shared check on ``layer_cls(**init_kwargs)``; returns the eager outputs.

    Args:
        layer_cls: the layer class.
        init_kwargs: constructor arguments (keep them tiny).
        input_data: first positional input (tensor / array / dict / list);
            a tuple means several positional inputs.
        expected_output_shape: a shape tuple, or a tuple / dict of them
            matching the output structure; None entries match anything.
        input_kwargs: dict of tensor keyword inputs (e.g. ``padding_mask``).
        call_kwargs: dict of non-tensor keyword arguments.
        atol: tolerance for the round-trip comparisons.
        run_training / run_mixed_precision: switch those checks off.
        frozen_weights: weight-path substrings allowed not to move in training.
        mixed_precision_output_dtype: see ``check_mixed_precision``.
    """
    layer = layer_cls(**init_kwargs)
    outputs = _call(layer, input_data, input_kwargs, call_kwargs)
    _check_shapes(outputs, expected_output_shape)
    for out in keras.tree.flatten(outputs):
        if _is_float(out):
            assert np.all(np.isfinite(keras.ops.convert_to_numpy(out))), "non-finite outputs"
    check_serialization(layer, input_data, input_kwargs, call_kwargs, atol)
    check_symbolic_call(layer, input_data, input_kwargs, call_kwargs, expected_output_shape, atol)
    if run_training:
        check_xla_training_step(layer_cls, init_kwargs, input_data, input_kwargs, call_kwargs,
                                frozen_weights)
    if run_mixed_precision:
        check_mixed_precision(layer_cls, init_kwargs, input_data, input_kwargs, call_kwargs,
                              mixed_precision_output_dtype)
    return outputs
