"""The transformers (PyTorch) contenders and the pretraining batches they train on.

Each model is built from the same kerasllm ``BertConfig`` as its Keras rival, through
``kerasllm.checkpoints.hf_config.hf_config_from_bert`` (the mapping ``kerasllm
export-hf`` writes), so sizes, GELU (tanh approximation), dropout 0.1 and LayerNorm
epsilon match; randomly initialised; transformers' default attention implementation
(``sdpa``). The optimizer is ``torch.optim.AdamW`` with the Keras side's settings
(learning rate 1e-4, weight decay 0.01, epsilon 1e-7 as ``keras.optimizers.AdamW``).

The batches are the Keras side's ``synthetic_pretraining_arrays``: the same token ids,
segments, padding and masked positions. transformers' MLM loss reads ``labels`` of
shape (B, T): the masked token's id at each masked position, -100 (ignored) elsewhere.
Its heads score every position (B·T·V logits) — that is the library's API — while
kerasllm's MLM head gathers the masked slots first (B·P·V).
"""
import numpy as np

import common  # noqa: F401  (environment + sys.path set-up)
from bert_models import LEARNING_RATE
from torch_timing import Trainable, device

WEIGHT_DECAY, EPSILON = 0.01, 1e-7  # keras.optimizers.AdamW's, as bert_models uses
IGNORE = -100  # transformers' "no label here"


def hf_config(config, architecture, **extra):
    """A ``transformers.BertConfig`` for a kerasllm ``BertConfig``."""
    from transformers import BertConfig
    from kerasllm.checkpoints.hf_config import hf_config_from_bert
    return BertConfig(**hf_config_from_bert(config, architecture), **extra)


def new_model(architecture, config, seed=0, **extra):
    """A randomly initialised transformers model (e.g. "BertForMaskedLM") on the device."""
    import torch
    import transformers
    torch.manual_seed(seed)
    model_class = getattr(transformers, architecture)
    return model_class(hf_config(config, architecture, **extra)).to(device())


def adamw(model, learning_rate=LEARNING_RATE):
    import torch
    return torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=WEIGHT_DECAY,
                             eps=EPSILON)


def mlm_labels(token_shape, mask_positions, mask_ids, mask_weights):
    """(B, T) labels: ``mask_ids`` at the weighted ``mask_positions``, -100 elsewhere."""
    labels = np.full(token_shape, IGNORE, "int64")
    rows, slots = np.nonzero(mask_weights > 0)
    labels[rows, mask_positions[rows, slots]] = mask_ids[rows, slots]
    return labels


def pretraining_batches(arrays, with_nsp):
    """The fixed synthetic batches of ``bert_models`` as transformers keyword arguments."""
    import torch
    batches = []
    for i in range(arrays["token_ids"].shape[0]):
        tensor = lambda a: torch.as_tensor(np.asarray(a, "int64"), device=device())  # noqa: E731
        batch = {"input_ids": tensor(arrays["token_ids"][i]),
                 "token_type_ids": tensor(arrays["segment_ids"][i]),
                 "attention_mask": tensor(arrays["padding_mask"][i]),
                 "labels": tensor(mlm_labels(arrays["token_ids"][i].shape, arrays["mask_positions"][i],
                                             arrays["mask_ids"][i], arrays["mask_weights"][i]))}
        if with_nsp:
            batch["next_sentence_label"] = tensor(arrays["nsp_labels"][i])
        batches.append(batch)
    return batches


def build_pretraining(architecture):
    """``builder(config, mode) -> Trainable`` for a transformers pretraining class."""
    def build(config, mode):
        model = new_model(architecture, config)
        return Trainable(model, adamw(model), mode)
    return build


# name -> (builder(config, mode), whether its batches carry the NSP labels)
TORCH_CONTENDERS = {
    "transformers BertForPreTraining (MLM+NSP)": (build_pretraining("BertForPreTraining"), True),
    "transformers BertForMaskedLM (MLM)": (build_pretraining("BertForMaskedLM"), False),
}
