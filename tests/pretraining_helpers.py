"""Small synthetic corpora for the pretraining-data tests.

``unique_corpus`` gives every corpus token its own id (id = 5 + position), so a
packed row can be traced back to where each token came from in the source.
"""
import numpy as np

from kerasllm.data.masking import VocabularyInfo
from kerasllm.data.tokenized_corpus import TokenizedCorpus

FIRST_ID = 5  # after [PAD] [UNK] [CLS] [SEP] [MASK]


def vocabulary(num_words, num_pieces=0):
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokens += [f"w{i}" for i in range(num_words)] + [f"##p{i}" for i in range(num_pieces)]
    return tokens


def unique_corpus(num_docs=40, sentences=(2, 10), length=(3, 12), seed=0):
    """``(corpus, vocab, doc_of_id)``; ``doc_of_id[i]`` = document of token id ``i``."""
    rng = np.random.default_rng(seed)
    docs, doc_of_id, next_id = [], {}, FIRST_ID
    for d in range(num_docs):
        doc = []
        for _ in range(rng.integers(*sentences)):
            n = int(rng.integers(*length))
            doc.append(list(range(next_id, next_id + n)))
            doc_of_id.update({i: d for i in range(next_id, next_id + n)})
            next_id += n
        docs.append(doc)
    return TokenizedCorpus.from_id_documents(docs), VocabularyInfo.from_tokens(vocabulary(next_id)), doc_of_id


def random_corpus(num_docs=30, num_words=60, num_pieces=30, seed=0):
    """Random ids, with ``##`` continuation pieces after words 30 % of the time."""
    rng = np.random.default_rng(seed)
    first_piece = FIRST_ID + num_words
    docs = []
    for _ in range(num_docs):
        doc = []
        for _ in range(rng.integers(2, 9)):
            sentence = []
            for _ in range(rng.integers(3, 12)):
                sentence.append(int(rng.integers(FIRST_ID, first_piece)))
                while rng.random() < 0.3:
                    sentence.append(int(rng.integers(first_piece, first_piece + num_pieces)))
            doc.append(sentence)
        docs.append(doc)
    return TokenizedCorpus.from_id_documents(docs), VocabularyInfo.from_tokens(vocabulary(num_words, num_pieces))
