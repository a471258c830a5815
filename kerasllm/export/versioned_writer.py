"""Write ``MODEL_BASE/<version>/`` the way TF Serving polls it: complete or not at all.

The SavedModel and its warmup requests are written into a hidden temporary
directory inside MODEL_BASE (TF Serving only loads all-digit names) and renamed
to the version number once complete, so a server watching MODEL_BASE never sees
a half-written version. An existing version is never overwritten.
"""
import os
import re
import shutil
from pathlib import Path

from kerasllm.errors import KerasLLMError

_TMP_NAME = re.compile(r"^\.tmp-\d+-(\d+)$")  # .tmp-<version>-<pid of the exporting process>


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def remove_stale_tmp(model_base):
    """Delete ``.tmp-*`` folders that exports killed mid-write (dead pid) left behind."""
    base = Path(model_base)
    removed = []
    if base.is_dir():
        for entry in base.iterdir():
            match = _TMP_NAME.match(entry.name)
            if match and entry.is_dir() and not _alive(int(match.group(1))):
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
    return removed

WARMUP_FILE = "tf_serving_warmup_requests"


def existing_versions(model_base):
    """Sorted integer versions already under ``model_base``."""
    base = Path(model_base)
    if not base.is_dir():
        return []
    return sorted(int(p.name) for p in base.iterdir() if p.is_dir() and p.name.isdigit())


def choose_version(model_base, version=None):
    """``version`` if free (else a one-line error), or the next integer after the existing ones."""
    versions = existing_versions(model_base)
    if version is None:
        return (versions[-1] + 1) if versions else 1
    if int(version) < 0:
        raise KerasLLMError(f"--version {version}: TF Serving versions are integers >= 0; "
                            "pass a non-negative number or leave --version out.")
    if int(version) in versions or (Path(model_base) / str(int(version))).exists():
        raise KerasLLMError(f"{Path(model_base) / str(int(version))} already exists; exports never "
                            "overwrite a version - pass another --version or leave it out for "
                            f"the next one ({(versions[-1] + 1) if versions else 1}).")
    return int(version)


def _request_log(model_name, signature, inputs):
    """One PredictionLog holding a PredictRequest for ``signature`` with ``inputs``."""
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature
    for key, value in inputs.items():
        request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
    return prediction_log_pb2.PredictionLog(
        predict_log=prediction_log_pb2.PredictLog(request=request))


def write_warmup(export_dir, model_name, warmup_inputs):
    """Write ``assets.extra/tf_serving_warmup_requests``: one record per signature."""
    extra = Path(export_dir) / "assets.extra"
    extra.mkdir(parents=True, exist_ok=True)
    import tensorflow as tf

    with tf.io.TFRecordWriter(str(extra / WARMUP_FILE)) as writer:
        for signature, inputs in warmup_inputs.items():
            writer.write(_request_log(model_name, signature, inputs).SerializeToString())


def write_version(module, signatures, model_base, version, model_name, warmup_inputs):
    """Save ``module`` with ``signatures`` as ``model_base/<version>``; returns that path."""
    import tensorflow as tf

    base = Path(model_base)
    base.mkdir(parents=True, exist_ok=True)
    remove_stale_tmp(base)
    final = base / str(version)
    tmp = base / f".tmp-{version}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tf.saved_model.save(module, str(tmp), signatures=signatures)
        write_warmup(tmp, model_name, warmup_inputs)
        if final.exists():  # someone else took the version meanwhile
            raise KerasLLMError(f"{final} appeared while exporting; exports never overwrite "
                                "a version - run the export again for the next one.")
        os.rename(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final
