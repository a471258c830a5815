"""Tiny run directories written with ``save_run``, as a training job would leave them."""
import numpy as np

from kerasllm.runs import load_run, save_run

WORDS = ("the cat sat on mat dog ran a red blue big small house tree car road fast slow "
         "good bad news sport market team won lost").split()
BERT_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", *WORDS]
BERT = dict(vocabulary_size=len(BERT_VOCAB), num_layers=1, num_heads=2, hidden_dim=16,
            intermediate_dim=32, max_sequence_length=32, num_segments=2, dropout=0.0,
            activation="gelu", layer_norm_epsilon=1e-12)
WORDPIECE = {"type": "wordpiece", "lowercase": True, "strip_accents": True}
LM_VOCAB = ["<unk>", "<eos>", *WORDS]
LSTM = dict(vocabulary_size=len(LM_VOCAB), embedding_dim=16, units=16, num_layers=1,
            dropout=0.0, tie_weights=False, init_scale=0.1)


def sentences(n, seed=0):
    """``n`` random sentences over ``WORDS`` ending in " ."."""
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=rng.integers(4, 9))) + " ." for _ in range(n)]


def bert_run(path, task, labels=None, sizes=None, vocab=None):
    """Write and load a run of a freshly initialised BERT model for ``task``."""
    from kerasllm import models, tasks

    sizes = dict(sizes or BERT)
    vocab = vocab or BERT_VOCAB
    model = tasks.build_model(task, models.BertEncoder(**sizes),
                              num_classes=len(labels) if labels else None)
    save_run(path, {"job": "test", "task": task, "family": "bert", "preset": None,
                    "model": sizes, "tokenizer": WORDPIECE,
                    "seq_length": sizes["max_sequence_length"], "text_pair": False},
             model, vocab, labels=labels)
    return load_run(path)


def lstm_run(path):
    """Write and load a word-level LSTM language-model run (seq_length 5)."""
    from kerasllm.models.lstm_language_model import LSTMLanguageModel

    model = LSTMLanguageModel(**LSTM)
    model(np.zeros((1, 3), "int32"))
    save_run(path, {"job": "train-lm", "task": "lm", "family": "lstm", "preset": None,
                    "model": LSTM, "tokenizer": {"type": "word", "lowercase": False},
                    "seq_length": 5}, model, LM_VOCAB)
    return load_run(path)
