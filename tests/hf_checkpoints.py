"""Build small, randomly initialised Hugging Face BERT checkpoints for parity tests.

Imported only by tests that already ran ``pytest.importorskip("transformers")``.
Every parameter (LayerNorm included) is perturbed away from its default init,
so a swapped or transposed tensor cannot go unnoticed.
"""
from pathlib import Path

import numpy as np

WORDS = ("the cat sat on mat dog ran paris is capital of france london city river "
         "good bad movie great film awful plot actor football match team won lost "
         "market shares bank price rose fell election vote party minister").split()
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PUNCTUATION = list(".,!?'")
LETTERS = [chr(c) for c in range(ord("a"), ord("z") + 1)]

# The sizes the issue asks for: deliberately not BERT's defaults.
SIZES = dict(vocab_size=1000, hidden_size=96, num_hidden_layers=3, num_attention_heads=6,
             intermediate_size=200, type_vocab_size=3, max_position_embeddings=64)


def make_vocab(size=1000):
    """A deterministic WordPiece vocabulary: specials, words, letters, filler pieces."""
    tokens = SPECIALS + WORDS + PUNCTUATION + LETTERS + [f"##{c}" for c in LETTERS]
    i = 0
    while len(tokens) < size:
        tokens.append(f"w{i}")
        i += 1
    return tokens[:size]


def save_checkpoint(directory, architecture="BertForPreTraining", seed=0, labels=None,
                    lowercase=True, **overrides):
    """Write a random ``architecture`` checkpoint + tokenizer files; return the torch model."""
    import torch
    import transformers

    directory = Path(directory)
    torch.manual_seed(seed)
    config_args = {**SIZES, **overrides}
    if labels is not None:
        config_args.update(num_labels=len(labels), id2label=dict(enumerate(labels)),
                           label2id={n: i for i, n in enumerate(labels)})
    config = transformers.BertConfig(**config_args)
    model = getattr(transformers, architecture)(config).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "LayerNorm.weight" in name:
                param.copy_(1.0 + 0.2 * torch.randn_like(param))
            else:
                param.add_(0.05 * torch.randn_like(param))
    model.save_pretrained(str(directory))
    vocab = directory / "vocab.txt"
    vocab.write_text("".join(f"{t}\n" for t in make_vocab(config.vocab_size)))
    tokenizer = transformers.BertTokenizer(vocab=str(vocab), do_lower_case=lowercase)
    tokenizer.save_pretrained(str(directory))
    return model


def random_inputs(batch=3, length=16, vocab_size=1000, num_segments=3, seed=0):
    """Token / segment ids and a padding mask with rows of different lengths."""
    rng = np.random.default_rng(seed)
    token_ids = rng.integers(5, vocab_size, size=(batch, length)).astype("int32")
    segment_ids = rng.integers(0, num_segments, size=(batch, length)).astype("int32")
    lengths = np.linspace(length, max(2, length // 3), batch).astype(int)
    padding_mask = (np.arange(length)[None, :] < lengths[:, None]).astype("int32")
    token_ids[:, 0] = 2  # [CLS]
    token_ids = np.where(padding_mask == 1, token_ids, 0)
    segment_ids = np.where(padding_mask == 1, segment_ids, 0)
    return {"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask}


def torch_outputs(model, inputs):
    """Run a transformers model on kerasllm-style inputs; numpy outputs by name."""
    import torch

    with torch.no_grad():
        out = model(input_ids=torch.tensor(inputs["token_ids"], dtype=torch.long),
                    token_type_ids=torch.tensor(inputs["segment_ids"], dtype=torch.long),
                    attention_mask=torch.tensor(inputs["padding_mask"], dtype=torch.long),
                    output_hidden_states=True)
    return {name: value.numpy() if hasattr(value, "numpy") else value
            for name, value in out.items() if name != "hidden_states"} | {
        "sequence_output": out.hidden_states[-1].numpy()}


def save_and_import(root, name, **options):
    """``save_checkpoint`` into ``root/name``, import it to ``root/name_run``; (torch model, Run)."""
    from kerasllm.checkpoints import import_checkpoint
    from kerasllm.runs import load_run

    model = save_checkpoint(Path(root) / name, **options)
    import_checkpoint(Path(root) / name, Path(root) / f"{name}_run")
    return model, load_run(Path(root) / f"{name}_run")
