"""Text-classification data: CSV / TSV / JSONL files -> tf.data batches of BERT inputs + integer labels.

Each file has a ``text`` column, an optional ``text_pair`` column and a
``label`` column (names configurable). CSV / TSV need a header row. Every bad
row is a one-line ``DataError`` naming ``file:line``: a row with the wrong
number of fields, a missing column, an empty label, or at evaluation time a
label the model was not trained on.

Texts are tokenized and packed once into numpy arrays; batches are then cut to
their longest row (dynamic padding) and can be grouped by length
(``bucket_boundaries``), so short texts do not pay for ``seq_length`` padding.
"""
import csv
import dataclasses
import os
from typing import List, Optional

import numpy as np
import tensorflow as tf

from kerasllm.data.jsonl import jsonl_rows
from kerasllm.data.packing import trim_to_longest
from kerasllm.data.text_files import write_lines_atomically
from kerasllm.errors import DataError, location


@dataclasses.dataclass
class ClassificationData:
    """Rows of one file; ``lines[i]`` is the file line of row i (for error messages)."""

    path: str
    texts: List[str]
    pairs: Optional[List[str]]
    labels: Optional[List[str]]
    lines: List[int]

    def __len__(self):
        return len(self.texts)


def _csv_rows(path, delimiter):
    with open(path, encoding="utf-8-sig", newline="") as f:  # -sig: Excel writes a BOM
        reader = csv.reader(f, delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            raise DataError(f"{path}: file is empty; expected a header row with column names.")
        header = [h.strip() for h in header]
        start = reader.line_num + 1
        for row in reader:
            if row and any(cell.strip() for cell in row):
                if len(row) != len(header):
                    raise DataError(f"{location(path, start)}: row has {len(row)} fields but the header has "
                                    f"{len(header)}; quote fields that contain '{delimiter}'.")
                yield start, dict(zip(header, row)), header
            start = reader.line_num + 1


def _rows(path):
    if path.endswith(".jsonl") or path.endswith(".json"):
        return jsonl_rows(path)
    if path.endswith(".tsv") or path.endswith(".tab"):
        return _csv_rows(path, "\t")
    if path.endswith(".csv"):
        return _csv_rows(path, ",")
    raise DataError(f"{path}: unknown file type; use .csv, .tsv or .jsonl.")


def read_classification_file(path, text_column="text", pair_column=None, label_column="label",
                             require_labels=True):
    """Read a CSV / TSV / JSONL classification file into a ``ClassificationData``."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataError(f"Classification file '{path}' not found.")
    wanted = [c for c in (text_column, pair_column, label_column if require_labels else None) if c]
    texts, pairs, labels, lines = [], [], [], []
    try:
        for number, row, columns in _rows(path):
            for column in wanted:
                if row.get(column) is None:
                    raise DataError(f"{location(path, number, column)}: missing column (or null); found columns "
                                    f"{', '.join(map(str, columns))}. Name the right one with the column options.")
            label = row.get(label_column)
            if require_labels and str(label).strip() == "":
                raise DataError(f"{location(path, number, label_column)}: empty label.")
            texts.append(str(row[text_column]))
            pairs.append(str(row[pair_column]) if pair_column else None)
            labels.append(None if label is None else str(label).strip())
            lines.append(number)
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not valid UTF-8 ({err.reason} at byte {err.start}); save it as UTF-8.") from None
    if not texts:
        raise DataError(f"{path}: no rows; expected at least one example.")
    has_labels = all(label is not None for label in labels)
    return ClassificationData(path, texts, pairs if pair_column else None, labels if has_labels else None, lines)


def label_vocabulary(labels):
    """Sorted distinct labels (numerically when all are integers); line i of labels.txt = class i."""
    distinct = set(labels)
    if all(label.lstrip("-").isdigit() for label in distinct):
        return sorted(distinct, key=int)
    return sorted(distinct)


def write_labels(names, path):
    """Write labels.txt (line i = name of class i) atomically."""
    return write_lines_atomically(path, names)


def encode_labels(data, names):
    """Label strings -> int32 ids; an unseen label is a ``DataError`` at its file:line."""
    if data.labels is None:
        raise DataError(f"{data.path}: no labels; the file needs a label column for training / evaluation.")
    index = {name: i for i, name in enumerate(names)}
    ids = np.empty(len(data.labels), np.int32)
    for i, (label, line) in enumerate(zip(data.labels, data.lines)):
        if label not in index:
            raise DataError(f"{location(data.path, line)}: label '{label}' was not in the training labels "
                            f"({', '.join(names)}).")
        ids[i] = index[label]
    return ids


def encode_texts(data, tokenizer, seq_length, chunk_size=4096):
    """Tokenize and pack every row once: dict of numpy int32 (N, seq_length) arrays
    (``packing.pack_inputs`` of the tokenized texts, in one traced graph per chunk)."""
    from kerasllm.text_graph import pack_function, strings

    pack = pack_function(tokenizer, seq_length, pairs=data.pairs is not None)
    parts = []
    for start in range(0, len(data), chunk_size):
        rows = [data.texts[start:start + chunk_size]]
        if data.pairs is not None:
            rows.append(data.pairs[start:start + chunk_size])
        parts.append({k: v.numpy() for k, v in pack(*map(strings, rows)).items()})
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def classification_dataset(data, tokenizer, label_names=None, seq_length=128, batch_size=32, shuffle=False,
                           seed=0, dynamic_padding=True, bucket_boundaries=None):
    """Batches ``(x, y)``: x = {token_ids, segment_ids, padding_mask} (B, T<=seq_length), y = label ids (B,).

    Args:
        data: a ``ClassificationData`` (``read_classification_file``).
        tokenizer: a ``WordPieceTokenizer``.
        label_names: class names (labels.txt); None yields x only (prediction).
        seq_length: longest packed sequence; longer texts are truncated (longer segment first).
        batch_size: examples per batch.
        shuffle: reshuffle every epoch (with ``seed``).
        dynamic_padding: cut each batch to its longest row instead of ``seq_length``.
        bucket_boundaries: e.g. [16, 32, 64]: batch texts of similar length together.
    """
    x = encode_texts(data, tokenizer, seq_length)
    y = None if label_names is None else encode_labels(data, label_names)
    ds = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))
    if shuffle:
        ds = ds.shuffle(len(data), seed=seed, reshuffle_each_iteration=True)
    if bucket_boundaries:
        def length(x, *_):
            return tf.reduce_sum(x["padding_mask"])
        ds = ds.bucket_by_sequence_length(length, list(bucket_boundaries),
                                          [batch_size] * (len(bucket_boundaries) + 1))
    else:
        ds = ds.batch(batch_size)
    if dynamic_padding:
        ds = ds.map(lambda x, *y: (trim_to_longest(x), *y) if y else trim_to_longest(x))
    return ds.prefetch(tf.data.AUTOTUNE)
