"""The qa SavedModel: question + context -> answer span in core TF ops, equal to `kerasllm answer`."""
import numpy as np
import pytest

from kerasllm.answering import answer
from kerasllm.export.exporter import export_run
from kerasllm.runs import load_run
from export_fixtures import run_blocked
from qa_fixtures import train_answerer

LONG = " ".join(["Bob plays chess."] * 30) + " Alice lives in San Diego. " + \
    " ".join(["Erin reads books."] * 10)  # ~180 pieces: several 48-token windows
QUESTIONS = ["Where does alice live?", "where does bob live?", "Where?", "Where does alice live?", ""]
CONTEXTS = ["Bob plays chess. Alice lives in San Diego.", "Bob lives in Rome.", "", LONG, "x"]
BAD = ["word " * 20000, "caf\xc3 \xff\xfe ok"]  # 100k characters; latin-1 view of invalid UTF-8


@pytest.fixture(scope="module", params=[0.0, 0.3], ids=["v1", "v2"])
def served(request, tmp_path_factory):
    root = train_answerer(tmp_path_factory.mktemp("qa_serving"), impossible=request.param)
    path = export_run(root / "run", root / "served")[0]
    requests = {f"{path}|serving_default": {"question": ["string", QUESTIONS],
                                           "context": ["string", CONTEXTS]},
                f"{path}|serving_default#bad": {"question": ["bytes", BAD],
                                                "context": ["bytes", BAD[::-1]]}}
    return root, {k.split("|", 1)[1]: v for k, v in run_blocked(root, requests).items()}


@pytest.mark.slow
def test_served_answers_equal_kerasllm_answer(served):
    root, out = served
    run = load_run(root / "run")
    expected = answer(run, QUESTIONS, CONTEXTS)
    got = [(a.decode(), int(s), int(e)) for a, s, e in zip(
        out["serving_default|answer"], out["serving_default|start"], out["serving_default|end"])]
    assert got == [(x["answer"], x["start"], x["end"]) for x in expected]
    np.testing.assert_allclose(out["serving_default|score"], [x["score"] for x in expected],
                               atol=1e-5)
    assert got[2] == ("", -1, -1)  # an empty context has no answer
    if not run.config["squad_v2"]:
        assert got[0][0] == "San Diego"


@pytest.mark.slow
def test_bad_input_gives_a_defined_answer(served):
    _, out = served
    assert out["serving_default#bad|answer"].shape == (2,)
    score = out["serving_default#bad|score"]
    assert np.isfinite(score).all() and ((score >= 0) & (score <= 1)).all()
