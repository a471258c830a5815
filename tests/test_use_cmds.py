"""evaluate / generate / fill-mask / predict / embed on tiny runs written with save_run."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

from kerasllm.cli.main import cli
from kerasllm.errors import KerasLLMError
from kerasllm.evaluation import evaluate_run, macro_f1
from kerasllm.inference import embed, fill_mask, generate, predict
from kerasllm.runs import load_run, save_run
from tiny_runs import BERT_VOCAB, LM_VOCAB, LSTM, bert_run, lstm_run, sentences


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory):
    return lstm_run(tmp_path_factory.mktemp("lm") / "run")


def test_macro_f1_value():
    # class 0: P=1/1 R=1/2 -> 2/3; class 1: P=2/3 R=2/2 -> 4/5
    assert macro_f1([0, 0, 1, 1], [0, 1, 1, 1]) == pytest.approx((2 / 3 + 4 / 5) / 2)
    assert macro_f1([0, 1, 2], [0, 1, 2]) == 1.0


def test_evaluate_classifier_matches_predict(tmp_path):
    labels = ["news", "sport"]
    run = bert_run(tmp_path / "clf", "classify", labels)
    texts = sentences(12, seed=1)
    gold = [labels[i % 2] for i in range(12)]
    csv = tmp_path / "eval.csv"
    csv.write_text("text,label\n" + "".join(f"{t},{g}\n" for t, g in zip(texts, gold)))
    metrics, path = evaluate_run(tmp_path / "clf", [str(csv)], batch_size=5)
    _, predicted = predict(run, texts)
    expected = float(np.mean([p == g for p, g in zip(predicted, gold)]))
    assert metrics["accuracy"] == pytest.approx(expected)
    assert metrics["macro_f1"] == pytest.approx(macro_f1(
        [labels.index(g) for g in gold], [labels.index(p) for p in predicted]))
    assert metrics["examples"] == 12
    assert json.loads(path.read_text())["accuracy"] == pytest.approx(expected)


def test_evaluate_lm_perplexity_equals_one_pass_over_the_stream(tmp_path, lm_run):
    text = tmp_path / "eval.txt"
    text.write_text("\n".join(sentences(6, seed=2)) + "\n")
    metrics, _ = evaluate_run(lm_run.path, [str(text)], batch_size=1,
                              output=tmp_path / "m.json")
    from kerasllm.data.language_modeling import corpus_token_stream

    stream = corpus_token_stream(lm_run.tokenizer, [str(text)])
    n = len(stream) - 1  # every token but the first is predicted, the tail too
    logits = np.asarray(lm_run.model(stream[None, :n]), "float64")[0]  # (N, V)
    logits -= logits.max(-1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    loss = -log_probs[np.arange(n), stream[1:n + 1]].mean()
    assert n % 5 and metrics["tokens"] == n  # not a multiple of seq_length 5: a tail is scored
    assert metrics["perplexity"] == pytest.approx(np.exp(loss), rel=1e-4)
    assert "carried across the whole text" in metrics["state"]
    assert 0.5 * len(LM_VOCAB) < metrics["perplexity"] < 2 * len(LM_VOCAB)  # untrained ~ uniform


def test_evaluate_lm_carries_the_state_token_by_token(tmp_path):
    """Chunked evaluation == a manual model.step loop carrying [h, c] over the text,
    and != scoring each seq_length window from a zero state."""
    from kerasllm.data.language_modeling import corpus_token_stream
    from kerasllm.models.lstm_language_model import LSTMLanguageModel

    config = {**LSTM, "init_scale": 1.0}  # large weights: the state visibly matters
    model = LSTMLanguageModel(**config)
    save_run(tmp_path / "run", {"job": "train-lm", "task": "lm", "family": "lstm",
                                "preset": None, "model": config, "seq_length": 5,
                                "tokenizer": {"type": "word", "lowercase": False}},
             model, LM_VOCAB)
    run = load_run(tmp_path / "run")
    text = tmp_path / "eval.txt"
    text.write_text("\n".join(sentences(5, seed=3)) + "\n")
    metrics, _ = evaluate_run(run.path, [str(text)], batch_size=2, output=tmp_path / "m.json")
    stream = corpus_token_stream(run.tokenizer, [str(text)])
    model, states, nll = run.model, run.model.initial_state(1), []
    for token, target in zip(stream[:-1], stream[1:]):
        logits, states = model.step(np.array([token], "int32"), states)  # (1, V)
        logits = np.asarray(logits, "float64")[0]
        nll.append(np.log(np.exp(logits - logits.max()).sum()) + logits.max() - logits[target])
    assert metrics["loss"] == pytest.approx(np.mean(nll), rel=1e-5)
    reset = []  # each 5-token window scored from a zero state
    windows = (len(stream) - 1) // 5
    for i in range(0, windows * 5, 5):
        logits, _ = model.prefill(stream[None, i:i + 5], model.initial_state(1))  # (1, 5, V)
        logits = np.asarray(logits, "float64")[0]
        top = logits.max(-1)
        reset += list(np.log(np.exp(logits - top[:, None]).sum(-1)) + top
                      - logits[np.arange(5), stream[i + 1:i + 6]])
    reset = np.mean(reset)
    assert abs(reset - np.mean(nll[:windows * 5])) > 0.01  # a zero state scores differently


def test_evaluate_lm_rejects_a_text_without_two_tokens(tmp_path, lm_run):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    with pytest.raises(KerasLLMError, match="needs at least 2"):
        evaluate_run(lm_run.path, [str(empty)], output=tmp_path / "m.json")


def test_evaluate_pretraining_on_a_corpus(tmp_path):
    bert_run(tmp_path / "pt", "mlm+nsp")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n\n".join("\n".join(sentences(4, seed=s)) for s in range(6)) + "\n")
    first, _ = evaluate_run(tmp_path / "pt", [str(corpus)], batch_size=8, seed=3)
    again, _ = evaluate_run(tmp_path / "pt", [str(corpus)], batch_size=8, seed=3)
    assert first == again  # fixed seed -> same masks and pairs
    assert first["masked_tokens"] > 0 and first["examples"] > 0
    assert 0.0 <= first["masked_lm_accuracy"] <= 1.0 and 0.0 <= first["nsp_accuracy"] <= 1.0
    from kerasllm.evaluation import _pretraining_dataset
    from kerasllm.runs import load_run
    labels = np.concatenate([np.asarray(y["nsp"]) for _, y, _ in
                             _pretraining_dataset(load_run(tmp_path / "pt", model=False), [str(corpus)], 8, 3)])
    assert first["nsp_majority_rate"] == pytest.approx(max(labels.mean(), 1 - labels.mean()))
    assert 0.5 <= first["nsp_majority_rate"] <= 1.0
    # an untrained model with BERT's 0.02 init is close to uniform over the vocabulary
    assert first["masked_lm_loss"] == pytest.approx(np.log(len(BERT_VOCAB)), abs=0.5)


def test_generate_is_seeded_and_continues_the_prompt(lm_run):
    a = generate(lm_run, "the cat", max_new_tokens=6, seed=7, top_k=5)
    b = generate(lm_run, "the cat", max_new_tokens=6, seed=7, top_k=5)
    assert a == b and a.startswith("the cat")
    assert len(a.split()) == 2 + 6
    with pytest.raises(KerasLLMError, match="generate needs an LSTM"):
        generate(bert_run_cache(lm_run), "x")
    with pytest.raises(KerasLLMError, match="embeddings need a BERT run"):
        embed(lm_run, ["the cat"])


def bert_run_cache(lm_run):
    """A BERT classifier next to the LM run (reused between tests)."""
    path = lm_run.path.parent / "clf"
    return load_run(path) if path.exists() else bert_run(path, "classify", ["a", "b"])


def test_bert_inference_on_a_tiny_run(lm_run):
    run = bert_run_cache(lm_run)
    probs, labels = predict(run, ["the cat sat", "a red car"])
    assert probs.shape == (2, 2) and np.allclose(probs.sum(-1), 1.0)
    assert set(labels) <= {"a", "b"}
    vectors = embed(run, ["the cat", "the cat sat on the big red mat"])
    assert vectors.shape == (2, 16)
    alone = embed(run, ["the cat"])
    np.testing.assert_allclose(vectors[0], alone[0], atol=1e-5)  # padding does not leak in


def test_cli_use_commands(tmp_path, lm_run):
    run = bert_run(tmp_path / "pt", "mlm+nsp")
    runner = CliRunner()
    result = runner.invoke(cli, ["fill-mask", str(run.path), "the [MASK] sat", "--top-k", "3"])
    assert result.exit_code == 0, result.output
    best = fill_mask(run, "the [MASK] sat", top_k=3)[0]
    assert result.output.split()[2] == best[0][0] and len(result.output.splitlines()) == 4

    result = runner.invoke(cli, ["generate", str(lm_run.path), "--prompt", "the dog",
                                 "--max-new-tokens", "4", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == generate(lm_run, "the dog", max_new_tokens=4, seed=1)

    text = tmp_path / "eval.txt"
    text.write_text("\n".join(sentences(5)) + "\n")
    out = tmp_path / "metrics.json"
    result = runner.invoke(cli, ["evaluate", str(lm_run.path), "--data", str(text),
                                 "--output", str(out)])
    assert result.exit_code == 0, result.output
    printed = dict(line.split(": ", 1) for line in result.output.splitlines()[:3])
    assert float(printed["perplexity"]) == pytest.approx(json.loads(out.read_text())["perplexity"],
                                                         abs=1e-4)

    result = runner.invoke(cli, ["predict", str(run.path), "--text", "x"])
    assert result.exit_code == 1 and "Error:" in result.output and "classifier" in result.output


def test_evaluate_pretraining_on_tfrecord_shards(tmp_path):
    from kerasllm.data.corpus import read_documents
    from kerasllm.data.masking import VocabularyInfo
    from kerasllm.data.pretraining_examples import PretrainingConfig
    from kerasllm.data.tfrecords import write_pretraining_shards
    from kerasllm.data.tokenized_corpus import TokenizedCorpus

    run = bert_run(tmp_path / "pt", "mlm+nsp")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n\n".join("\n".join(sentences(4, seed=s)) for s in range(6)) + "\n")
    tokenized = TokenizedCorpus.from_documents(read_documents([str(corpus)]), run.tokenizer)
    write_pretraining_shards(tokenized, VocabularyInfo.from_tokenizer(run.tokenizer),
                             str(tmp_path / "shards"),
                             PretrainingConfig(seq_length=32, max_predictions=5, dupe_factor=1))
    metrics, _ = evaluate_run(tmp_path / "pt", [str(tmp_path / "shards")], batch_size=4)
    assert metrics["examples"] > 0 and 0 < metrics["masked_tokens"] <= 5 * metrics["examples"]
    assert 0.0 <= metrics["nsp_accuracy"] <= 1.0
    assert metrics["masked_lm_loss"] == pytest.approx(np.log(len(BERT_VOCAB)), abs=0.5)
