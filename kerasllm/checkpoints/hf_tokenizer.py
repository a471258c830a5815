"""The WordPiece vocabulary and lower-casing options of a Hugging Face checkpoint.

transformers <= 4 writes ``vocab.txt``; transformers 5 writes only
``tokenizer.json`` (the vocabulary sits in ``model.vocab``). Both are read.
Options come from ``tokenizer_config.json`` (``do_lower_case``,
``strip_accents``), falling back to ``tokenizer.json``'s normaliser and then to
BertTokenizer's defaults (lower-case on, accents stripped with lower-casing).
"""
import json
from pathlib import Path

from kerasllm.checkpoints.hf_config import read_json
from kerasllm.data.special_tokens import SPECIAL_TOKENS
from kerasllm.errors import DataError, location

VOCAB_FILE = "vocab.txt"
TOKENIZER_JSON = "tokenizer.json"
TOKENIZER_CONFIG = "tokenizer_config.json"


def _vocab_from_tokenizer_json(path):
    model = read_json(path).get("model") or {}
    vocab = model.get("vocab")
    if model.get("type") not in (None, "WordPiece") or not isinstance(vocab, dict):
        raise DataError(f"{location(path, key='model')}: expected a WordPiece vocabulary, "
                        f"received type {model.get('type')!r}; only BERT WordPiece "
                        f"tokenizers can be imported.")
    by_id = {int(i): token for token, i in vocab.items()}
    if sorted(by_id) != list(range(len(by_id))):
        raise DataError(f"{location(path, key='model.vocab')}: token ids are not 0..N-1.")
    return [by_id[i] for i in range(len(by_id))]


def read_vocab(checkpoint_dir):
    """Tokens in id order; the special tokens BERT needs must be present."""
    root = Path(checkpoint_dir)
    if (root / VOCAB_FILE).is_file():
        path = root / VOCAB_FILE
        tokens = path.read_text(encoding="utf-8").split("\n")
        if tokens and tokens[-1] == "":
            tokens.pop()
        tokens = [t.rstrip("\r") for t in tokens]
    elif (root / TOKENIZER_JSON).is_file():
        path = root / TOKENIZER_JSON
        tokens = _vocab_from_tokenizer_json(path)
    else:
        raise DataError(f"{root}: no {VOCAB_FILE} or {TOKENIZER_JSON}; copy the checkpoint's "
                        f"tokenizer files into the directory.")
    missing = [t for t in SPECIAL_TOKENS if t not in tokens]
    if missing:
        raise DataError(f"{path}: special token(s) {', '.join(missing)} missing; a BERT "
                        f"vocabulary needs {', '.join(SPECIAL_TOKENS)}.")
    return tokens


def _normaliser_options(root):
    path = root / TOKENIZER_JSON
    if not path.is_file():
        return {}
    try:
        normaliser = json.loads(path.read_text(encoding="utf-8")).get("normalizer") or {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    options = {}
    if isinstance(normaliser.get("lowercase"), bool):
        options["do_lower_case"] = normaliser["lowercase"]
    if isinstance(normaliser.get("strip_accents"), bool):
        options["strip_accents"] = normaliser["strip_accents"]
    return options


def read_tokenizer_options(checkpoint_dir):
    """The run's ``tokenizer`` config: type, lowercase, strip_accents."""
    root = Path(checkpoint_dir)
    path = root / TOKENIZER_CONFIG
    options = _normaliser_options(root)
    if path.is_file():
        options.update({k: v for k, v in read_json(path).items()
                        if k in ("do_lower_case", "strip_accents") and v is not None})
    lowercase = options.get("do_lower_case", True)
    strip_accents = options.get("strip_accents", lowercase)
    for key, value in (("do_lower_case", lowercase), ("strip_accents", strip_accents)):
        if not isinstance(value, bool):
            raise DataError(f"{location(path, key=key)}: expected true or false, "
                            f"received {value!r}.")
    return {"type": "wordpiece", "lowercase": lowercase, "strip_accents": strip_accents}


def write_tokenizer_files(directory, tokens, options, max_length):
    """``vocab.txt`` + ``tokenizer_config.json`` that make transformers tokenize like us."""
    directory = Path(directory)
    (directory / VOCAB_FILE).write_text("".join(f"{t}\n" for t in tokens), encoding="utf-8")
    config = {
        "tokenizer_class": "BertTokenizer",
        "do_lower_case": bool(options.get("lowercase", True)),
        "strip_accents": bool(options.get("strip_accents", True)),
        "tokenize_chinese_chars": True,
        "model_max_length": int(max_length),
        "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]",
        "cls_token": "[CLS]", "mask_token": "[MASK]",
    }
    (directory / TOKENIZER_CONFIG).write_text(json.dumps(config, indent=2) + "\n",
                                              encoding="utf-8")
