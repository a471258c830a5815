"""Model / tokenizer helpers shared by the BERT jobs."""
import dataclasses

from kerasllm.errors import KerasLLMError
from kerasllm.presets import load_preset


def bert_preset(name, vocabulary_size, seq_length, dropout=None):
    """Load a BERT preset sized for ``vocabulary_size`` and ``seq_length``."""
    overrides = {"vocabulary_size": int(vocabulary_size)}
    if dropout is not None:
        overrides["dropout"] = float(dropout)
    preset = load_preset(name, **overrides)
    if preset.family != "bert":
        raise KerasLLMError(f"--preset {name}: a {preset.family} preset; choose a bert_* preset.")
    if preset.model.max_sequence_length < seq_length:
        raise KerasLLMError(
            f"--seq-length {seq_length} exceeds preset {name}'s max_sequence_length "
            f"{preset.model.max_sequence_length}; pass --seq-length "
            f"{preset.model.max_sequence_length} or less.")
    return preset


def bert_encoder(preset):
    from kerasllm.models import BertEncoder

    return BertEncoder(**dataclasses.asdict(preset.model))


def wordpiece_settings(tokenizer):
    return {"type": "wordpiece", "lowercase": bool(getattr(tokenizer, "lowercase", True)),
            "strip_accents": bool(getattr(tokenizer, "strip_accents", True))}


def resumed_vocab(options):
    """RUN_DIR/vocab.txt when re-running an unfinished run that learned its vocabulary.

    Learning is deterministic (the same corpus gives the same vocab.txt in every
    process and on every worker), but a corpus edited or a ``tokenizers`` upgraded
    between the runs would renumber the pieces under the checkpoint's embedding table.
    """
    from pathlib import Path

    from kerasllm import runs

    run_dir = Path(options["output"])
    resuming = (run_dir / runs.CONFIG_FILE).is_file() and not options.get("overwrite")
    if options.get("vocab") or not resuming or not (run_dir / runs.VOCAB_FILE).is_file():
        return options.get("vocab")
    return str(run_dir / runs.VOCAB_FILE)


def learn_or_load_wordpiece(vocab, texts, vocab_size, source):
    """``(tokenizer, tokens)`` from ``--vocab FILE`` or learned from ``texts``."""
    from kerasllm.data import WordPieceTokenizer, learn_vocabulary
    from kerasllm.data.vocab import write_temporary_vocabulary

    if vocab:
        tokenizer = WordPieceTokenizer(vocab)
        return tokenizer, list(tokenizer.vocabulary)
    tokens = learn_vocabulary(texts, int(vocab_size))
    return WordPieceTokenizer(write_temporary_vocabulary(tokens)), list(tokens)
