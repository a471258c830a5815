"""The ner SavedModel: raw text -> entities in core TF ops, equal to `kerasllm predict`."""
import numpy as np
import pytest

from kerasllm.export.exporter import export_run
from kerasllm.runs import load_run
from kerasllm.tagging import tag_entities
from export_fixtures import run_blocked
from ner_fixtures import train_tagger

TEXTS = ["later alice met bob smith in new york .", "nothing here", "",
         "Alice went to  Paris, São Paulo! 東京 \x01 x",
         "the met " * 40 + "bob smith in new york ."]  # 330 pieces: eleven 30-piece windows
BAD = ["word " * 20000, "caf\xc3 \xff\xfe ok"]  # 100k characters; latin-1 view of invalid UTF-8


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = train_tagger(tmp_path_factory.mktemp("ner_serving"))
    path = export_run(root / "run", root / "served")[0]
    requests = {f"{path}|serving_default": {"text": ["string", TEXTS]},
                f"{path}|serving_default#bad": {"text": ["bytes", BAD]}}
    return root, {k.split("|", 1)[1]: v for k, v in run_blocked(root, requests).items()}


def _entities(out, signature, i):
    get = lambda name: out[f"{signature}|{name}"][i]  # noqa: E731
    return [(get("entity_type")[j].decode(), get("entity_text")[j].decode(), int(get("start")[j]),
             int(get("end")[j]), float(get("score")[j])) for j in range(int(get("count")))]


@pytest.mark.slow
def test_served_entities_equal_kerasllm_predict(served):
    root, out = served
    expected = tag_entities(load_run(root / "run"), TEXTS)
    assert sum(len(e) for e in expected) >= 4
    for i, entities in enumerate(expected):
        ours = _entities(out, "serving_default", i)
        assert [e[:4] for e in ours] == [(e["type"], e["text"], e["start"], e["end"])
                                         for e in entities], TEXTS[i]
        np.testing.assert_allclose([e[4] for e in ours], [e["score"] for e in entities], atol=1e-5)
    width = out["serving_default|entity_type"].shape[1]
    assert out["serving_default|count"][2] == 0  # the empty text: all padding
    assert list(out["serving_default|entity_type"][2]) == [b""] * width
    assert list(out["serving_default|start"][2]) == [-1] * width


@pytest.mark.slow
def test_bad_input_gives_defined_entities(served):
    _, out = served
    count = out["serving_default#bad|count"]
    assert count.shape == (2,) and (count >= 0).all()
    scores = out["serving_default#bad|score"]
    assert np.isfinite(scores).all() and ((scores == -1) | ((scores > 0) & (scores <= 1))).all()
