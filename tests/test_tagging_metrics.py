"""conlleval's chunk rules and entity P/R/F1 on hand-worked cases."""
import pytest

from kerasllm.data.tag_schemes import entity_spans
from kerasllm.tagging_metrics import entity_scores


@pytest.mark.parametrize("tags, spans", [
    ("B-PER I-PER O B-LOC", [("PER", 0, 2), ("LOC", 3, 4)]),          # BIO
    ("O I-PER I-PER O", [("PER", 1, 3)]),                              # IOB1: I after O starts one
    ("I-PER B-PER I-PER", [("PER", 0, 1), ("PER", 1, 3)]),             # IOB1: B splits two
    ("B-PER B-PER", [("PER", 0, 1), ("PER", 1, 2)]),
    ("B-PER I-LOC", [("PER", 0, 1), ("LOC", 1, 2)]),                   # type change ends + starts
    ("S-PER B-LOC I-LOC E-LOC S-LOC O", [("PER", 0, 1), ("LOC", 1, 4), ("LOC", 4, 5)]),  # BIOES
    ("S-PER S-PER", [("PER", 0, 1), ("PER", 1, 2)]),
    ("B-ORG E-ORG I-ORG", [("ORG", 0, 2), ("ORG", 2, 3)]),             # I after E starts one
    ("O O", []),
])
def test_entity_spans_follow_conlleval(tags, spans):
    assert entity_spans(tags.split()) == spans


def test_scores_by_hand():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O", "B-PER"]]
    predicted = [["B-PER", "I-PER", "O", "B-ORG"],   # PER right; LOC missed, ORG spurious
                 ["B-ORG", "I-ORG", "B-PER"]]        # ORG has the wrong end; PER right
    scores = entity_scores(gold, predicted)
    # gold 4 entities, predicted 4, found 2 -> P = R = F1 = 0.5
    assert (scores["precision"], scores["recall"], scores["f1"], scores["entities"]) == (0.5, 0.5, 0.5, 4)
    assert scores["token_accuracy"] == pytest.approx(5 / 7)
    assert scores["per_type"]["PER"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "entities": 2}
    assert scores["per_type"]["ORG"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "entities": 1}
    assert scores["per_type"]["LOC"]["recall"] == 0.0 and scores["per_type"]["LOC"]["entities"] == 1


def test_precision_and_recall_differ():
    gold = [["B-PER", "I-PER", "O", "O", "B-LOC", "O"]]
    predicted = [["B-PER", "I-PER", "O", "B-LOC", "I-LOC", "B-PER"]]  # 3 predicted, 1 found of 2
    scores = entity_scores(gold, predicted)
    assert scores["precision"] == pytest.approx(1 / 3) and scores["recall"] == pytest.approx(1 / 2)
    assert scores["f1"] == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))  # 0.4
