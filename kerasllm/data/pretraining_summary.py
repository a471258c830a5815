"""Counts reported after building pretraining examples, and the settings they record."""
import json
import os
from dataclasses import asdict, dataclass

import numpy as np

SUMMARY_FILE = "pretraining_summary.json"  # written beside the shards by write_pretraining_shards
VOCAB_FILE = "vocab.txt"  # `kerasllm data pretrain` copies its --vocab here


def examples_settings(examples_dir):
    """``(vocab_path, seq_length)`` recorded in an examples folder, each None if absent.

    ``kerasllm pretrain --examples DIR`` uses them when --vocab / --seq-length
    are not given, so the shards and the model cannot disagree by accident.
    """
    vocab = os.path.join(str(examples_dir), VOCAB_FILE)
    seq_length = None
    try:
        with open(os.path.join(str(examples_dir), SUMMARY_FILE), encoding="utf-8") as f:
            config = json.load(f).get("config", {})
        seq_length = config.get("seq_length", config.get("max_seq_length"))  # folders built before the rename
    except (OSError, ValueError, AttributeError):
        pass
    return (vocab if os.path.isfile(vocab) else None), seq_length


@dataclass
class PretrainingSummary:
    """What was built: ``documents``, ``sequences``, ``tokens`` (real tokens in
    the rows, [CLS]/[SEP] included), ``random_fraction`` (NSP: B from another
    document; SOP: swapped), ``mean_masked`` (masked tokens per sequence).

    Example:
    ```python
    summary = PretrainingSummary(documents=3, task="nsp")
    summary.add(batch)  # numpy dict with padding_mask, labels, mask_weights
    print("\\n".join(summary.lines()))
    ```
    """

    documents: int = 0
    task: str = "nsp"
    sequences: int = 0
    tokens: int = 0
    random_labels: int = 0
    masked: float = 0.0
    shards: tuple = ()

    def add(self, batch):
        """Count one batch (dict of numpy arrays)."""
        self.sequences += len(batch["labels"])
        self.tokens += int(np.sum(batch["padding_mask"]))
        self.random_labels += int(np.sum(batch["labels"]))
        if "mask_weights" in batch:
            self.masked += float(np.sum(batch["mask_weights"]))

    @property
    def random_fraction(self):
        return self.random_labels / max(self.sequences, 1)

    @property
    def mean_masked(self):
        return self.masked / max(self.sequences, 1)

    def to_dict(self):
        out = asdict(self)
        out.update(shards=list(self.shards), random_fraction=self.random_fraction, mean_masked=self.mean_masked)
        return out

    def lines(self):
        label = "NSP random B" if self.task == "nsp" else "SOP swapped"
        out = [
            f"documents            {self.documents:,}",
            f"sequences            {self.sequences:,}",
            f"tokens               {self.tokens:,}",
            f"{label:<20} {100 * self.random_fraction:.1f} %",
            f"masked per sequence  {self.mean_masked:.2f}",
        ]
        if self.shards:
            out.append(f"shards               {len(self.shards)}")
        return out
