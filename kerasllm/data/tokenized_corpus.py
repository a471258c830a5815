"""A corpus tokenized once, stored as flat numpy arrays.

Pretraining needs the token ids of every sentence of every document many times
(every dupe round, every streaming epoch). Tokenizing once and keeping three
flat arrays makes later passes pure integer arithmetic:

    ids                 (N_tokens,)     int32, all sentences back to back
    sentence_starts     (N_sentences,)  int64, offset of each sentence in ids
    sentence_lengths    (N_sentences,)  int64
    document_splits     (N_docs + 1,)   int64, document d = sentences [s[d], s[d+1])

A document's sentences are consecutive in ``ids``, so any run of sentences is
one contiguous span. Empty sentences and empty documents are dropped.
"""
import numpy as np
import tensorflow as tf

from kerasllm.errors import DataError


class TokenizedCorpus:
    """Token ids of documents of sentences, as flat arrays (see module doc).

    Example:
    ```python
    corpus = TokenizedCorpus.from_id_documents([[[5, 6], [7]], [[8, 9, 10]]])
    corpus.num_documents  # 2
    corpus.ids  # array([ 5,  6,  7,  8,  9, 10], dtype=int32)
    ```
    """

    def __init__(self, ids, sentence_lengths, document_splits):
        self.ids = np.asarray(ids, dtype=np.int32)
        self.sentence_lengths = np.asarray(sentence_lengths, dtype=np.int64)
        self.sentence_starts = np.concatenate([[0], np.cumsum(self.sentence_lengths)[:-1]]).astype(np.int64)
        self.document_splits = np.asarray(document_splits, dtype=np.int64)
        self._ids_tensor = None
        if self.num_documents == 0:
            raise DataError("The corpus has no non-empty documents; give text files with one sentence per line.")

    @property
    def num_documents(self):
        return len(self.document_splits) - 1

    @property
    def num_tokens(self):
        return len(self.ids)

    @property
    def ids_tensor(self):
        """``ids`` as a ``tf.Tensor`` (made once; packing gathers from it)."""
        if self._ids_tensor is None:
            self._ids_tensor = tf.constant(self.ids)
        return self._ids_tensor

    def document_sentences(self, doc):
        """``(first, last)`` sentence indices of document ``doc`` (last exclusive)."""
        return int(self.document_splits[doc]), int(self.document_splits[doc + 1])

    @classmethod
    def from_id_documents(cls, documents):
        """From ``documents[d][s]`` = list of token ids of sentence ``s``."""
        lengths, doc_sizes, pieces = [], [], []
        for doc in documents:
            kept = [np.asarray(s, dtype=np.int32) for s in doc if len(s)]
            if kept:
                pieces.extend(kept)
                lengths.extend(len(s) for s in kept)
                doc_sizes.append(len(kept))
        ids = np.concatenate(pieces) if pieces else np.zeros([0], np.int32)
        return cls(ids, lengths, np.concatenate([[0], np.cumsum(doc_sizes, dtype=np.int64)]))

    @classmethod
    def from_documents(cls, documents, tokenizer, batch_size=4096):
        """Tokenize ``documents`` (lists of sentence strings, or ``corpus.Document``s) in large batches.

        ``tokenizer.tokenize(list_of_str)`` must return a ``tf.RaggedTensor``
        of ids (kerasllm's ``WordPieceTokenizer`` does).
        """
        documents = [getattr(doc, "lines", doc) for doc in documents]
        sentences = [s for doc in documents for s in doc]
        sizes = np.array([len(doc) for doc in documents], dtype=np.int64)
        values, lengths = [], []
        for i in range(0, len(sentences), batch_size):
            ragged = tokenizer.tokenize(sentences[i : i + batch_size])
            values.append(ragged.flat_values.numpy().astype(np.int32))
            lengths.append(ragged.row_lengths().numpy())
        lengths = np.concatenate(lengths) if lengths else np.zeros([0], np.int64)
        ids = np.concatenate(values) if values else np.zeros([0], np.int32)
        # Drop empty sentences, then documents left without sentences.
        keep = lengths > 0
        doc_of_sentence = np.repeat(np.arange(len(documents)), sizes)[keep]
        per_doc = np.bincount(doc_of_sentence, minlength=len(documents))
        per_doc = per_doc[per_doc > 0]
        return cls(ids, lengths[keep], np.concatenate([[0], np.cumsum(per_doc)]))
