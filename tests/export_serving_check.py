"""Run every signature of exported SavedModels in a process where keras, keras_hub,
tensorflow_text and kerasllm cannot be imported (as in a stock TF Serving).

Usage: python export_serving_check.py INPUTS.json OUTPUT.npz
INPUTS.json maps "<saved_model_dir>|<signature>[#tag]" to {input name: [dtype, value]}.
Every output tensor is saved as "<saved_model_dir>|<signature>|<output>".
"""
import json
import sys

BLOCKED = ("keras", "keras_hub", "tensorflow_text", "kerasllm", "tf_keras")


# A None entry in sys.modules makes `import keras` (and every submodule) raise ImportError,
# and importlib.util.find_spec report the package as missing - as if it were not installed.
for _name in BLOCKED:
    sys.modules[_name] = None

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def main(inputs_path, output_path):
    requests = json.load(open(inputs_path))
    results, loaded = {}, {}
    for key, inputs in requests.items():
        model_dir, signature = key.split("|")
        signature = signature.split("#")[0]  # "serving_default#bad": a second request
        if model_dir not in loaded:
            loaded[model_dir] = tf.saved_model.load(model_dir)
        feed = {}
        for name, (dtype, value) in inputs.items():
            if dtype == "bytes":  # latin-1 transport keeps invalid UTF-8 bytes intact
                value = [v.encode("latin-1") for v in value]
            feed[name] = tf.constant(value, dtype=getattr(tf, dtype if dtype != "bytes" else "string"))
        outputs = loaded[model_dir].signatures[signature](**feed)
        for name, tensor in outputs.items():
            results[f"{key}|{name}"] = tensor.numpy()
    for module in BLOCKED:
        assert sys.modules.get(module) is None, f"{module} was imported"
        try:
            __import__(module)
            raise AssertionError(f"{module} is importable")
        except ImportError:
            pass
    np.savez(output_path, **results)
    print("signatures run:", len(requests))


if __name__ == "__main__":
    main(*sys.argv[1:3])
