"""Add or update one model in a TF Serving ``--model_config_file`` (``model_config_list`` text proto)."""
import os
from pathlib import Path

from kerasllm.errors import KerasLLMError


def read_models_config(path):
    """Parse and check the config at ``path`` (empty when missing); nothing is written.

    ``kerasllm export`` calls this before it writes a version, so a broken file
    fails the export up front instead of after a new version exists.
    """
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    path = Path(path)
    config = model_server_config_pb2.ModelServerConfig()
    if path.is_dir():
        raise KerasLLMError(f"--models-config {path}: is a directory; pass a file name.")
    if path.is_file():
        try:
            text_format.Parse(path.read_text(encoding="utf-8"), config)
        except (text_format.ParseError, UnicodeDecodeError) as err:
            raise KerasLLMError(f"{path}:{err}: not a TF Serving model config (expected "
                                "`model_config_list { config { name: ... base_path: ... } }`); "
                                "fix the file or pass a new path.") from None
    if config.WhichOneof("config") == "custom_model_config":
        raise KerasLLMError(f"{path}: holds a custom_model_config; --models-config needs a "
                            "model_config_list file.")
    return config


def update_models_config(path, name, base_path):
    """Set model ``name`` to ``base_path`` in the config at ``path`` (created when missing).

    Other models in the file are kept as they are. The file is rewritten through a
    temporary file + rename, so a server re-reading it never sees half a file.
    """
    from google.protobuf import text_format

    path = Path(path)
    config = read_models_config(path)
    entries = config.model_config_list.config
    entry = next((c for c in entries if c.name == name), None) or entries.add(name=name)
    entry.base_path = str(Path(base_path).resolve())
    entry.model_platform = "tensorflow"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text_format.MessageToString(config), encoding="utf-8")
    os.replace(tmp, path)
    return config
