"""kerasllm export: SavedModels whose raw-text signatures run without keras / tf-text / kerasllm
and give the same answers as the in-process Keras model and `kerasllm predict`."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from export_fixtures import (EXTRA_TEXTS, bbc_sentences, blocked_cli_env, run_blocked,
                             wordpiece_vocabulary)
from kerasllm import inference, models
from kerasllm.cli.main import cli
from kerasllm.export.exporter import export_run
from kerasllm.runs import load_run, save_run

TOL = 1e-5
BERT = dict(num_layers=1, num_heads=2, hidden_dim=16, intermediate_dim=32, max_sequence_length=32)
TEXTS = ["Shares in the company rose sharply.", "Café naïve 北京 😀 12,345", "",
         "The film won " * 10000, "Ångström wins the [MASK] final."]
BAD = ["", "word " * 20000, "caf\xc3 \xff\xfe ok", "fine"]  # latin-1 view of raw bytes


def _sharpen(model):
    """Large random weights: a fresh tiny BERT's outputs hardly depend on its input, and a
    comparison that cannot tell token ids apart would prove little."""
    rng = np.random.default_rng(0)
    for w in model.weights:
        if len(w.shape) >= 2 or "bias" in w.path:
            w.assign(rng.normal(0, 0.3 if len(w.shape) >= 2 else 1.0, w.shape).astype("float32"))


def _bert_run(path, task, vocab, labels=None, text_pair=False):
    encoder = models.BertEncoder(vocabulary_size=len(vocab), **BERT)
    if task == "classify":
        model = models.BertClassifier(encoder, num_classes=len(labels))
    elif task == "mlm+nsp":
        model = models.BertPretrainer(encoder)
    else:
        model = encoder
    _sharpen(model)
    config = {"job": "pretrain", "task": task, "family": "bert", "preset": None,
              "model": {"vocabulary_size": len(vocab), **BERT}, "seq_length": 24,
              "text_pair": text_pair,
              "tokenizer": {"type": "wordpiece", "lowercase": True, "strip_accents": True}}
    save_run(path, config, model, vocab, labels=labels)
    return path


def _lstm_run(path):
    vocab = ["<unk>", "<eos>"] + "the market rose fell sharply on news of a deal".split()
    model = models.LSTMLanguageModel(len(vocab), 8, 8, 1)
    model(np.zeros((1, 2), "int32"))
    config = {"job": "train-lm", "task": "lm", "family": "lstm", "preset": None,
              "model": dict(vocabulary_size=len(vocab), embedding_dim=8, units=8, num_layers=1),
              "seq_length": 8, "text_pair": False, "tokenizer": {"type": "word", "lowercase": True}}
    save_run(path, config, model, vocab)
    return path


def _text(values):
    return ["string", list(values)]


def _requests(exported):
    ids = [[2, 7, 8, 9, 3, 0], [2, 10, 3, 0, 0, 0]]
    ids_inputs = {"token_ids": ["int32", ids], "segment_ids": ["int32", [[0] * 6] * 2],
                  "padding_mask": ["int32", [[1] * 5 + [0], [1] * 3 + [0] * 3]]}
    req = {}
    for kind, path in exported.items():
        req[f"{path}|predict_ids"] = ids_inputs
        req[f"{path}|serving_default"] = {"text": _text(TEXTS)}
        req[f"{path}|serving_default#bad"] = {"text": ["bytes", BAD]}
    pair = exported["pair"]
    req[f"{pair}|serving_default"] = {"text": _text(TEXTS), "text_pair": _text(TEXTS[::-1])}
    req[f"{pair}|serving_default#bad"] = {"text": ["bytes", BAD], "text_pair": ["bytes", BAD[::-1]]}
    lstm = exported["lstm"]
    req[f"{lstm}|serving_default"] = {"text": _text(["The market", "", "news of a"])}
    req[f"{lstm}|generate"] = {"prompt": _text(["The market", "", "news of a"]),
                               "max_new_tokens": ["int32", 5], "temperature": ["float32", 0.8],
                               "top_k": ["int32", 4], "seed": ["int64", 11]}
    return req


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Four runs exported (the classifier through the CLI), then every signature run in a
    subprocess that cannot import keras / keras_hub / tensorflow_text / kerasllm."""
    root = tmp_path_factory.mktemp("export")
    vocab = wordpiece_vocabulary(bbc_sentences()[:300] + EXTRA_TEXTS, words=300, pieces=100)
    runs = {"classify": _bert_run(root / "cls", "classify", vocab, ["business", "sport", "tech"]),
            "pair": _bert_run(root / "pair", "classify", vocab, ["no", "yes"], text_pair=True),
            "mlm": _bert_run(root / "mlm", "mlm+nsp", vocab),
            "encoder": _bert_run(root / "enc", "encoder", vocab),
            "lstm": _lstm_run(root / "lstm")}
    result = CliRunner().invoke(cli, ["export", str(runs["classify"]), "--output",
                                      str(root / "served" / "cls"), "--models-config",
                                      str(root / "models.config")])
    assert result.exit_code == 0, result.output
    paths = {"classify": root / "served" / "cls" / "1"}
    for kind in ("pair", "mlm", "encoder", "lstm"):
        paths[kind] = export_run(runs[kind], root / "served" / kind)[0]
    paths = {k: str(v) for k, v in paths.items()}
    outputs = run_blocked(root, _requests(paths))
    return {"root": root, "runs": runs, "paths": paths, "out": outputs}


def _out(exported, kind, signature, name):
    return exported["out"][f"{exported['paths'][kind]}|{signature}|{name}"]


def _packed(ids_rows, masks):
    return {"token_ids": np.array(ids_rows, "int32"), "segment_ids": np.zeros((2, 6), "int32"),
            "padding_mask": np.array(masks, "int32")}


IDS = _packed([[2, 7, 8, 9, 3, 0], [2, 10, 3, 0, 0, 0]], [[1] * 5 + [0], [1] * 3 + [0] * 3])


@pytest.mark.slow
def test_classifier_matches_kerasllm_predict(exported):
    run_dir = exported["runs"]["classify"]
    run = load_run(run_dir)
    probabilities = _out(exported, "classify", "serving_default", "probabilities")
    want, labels = inference.predict(run, TEXTS)
    assert probabilities.shape == (len(TEXTS), 3)
    np.testing.assert_allclose(probabilities, want, atol=TOL)
    assert [x.decode() for x in _out(exported, "classify", "serving_default", "label")] == labels
    np.testing.assert_array_equal(_out(exported, "classify", "serving_default", "label_id"),
                                  want.argmax(-1))
    assert want.max(-1).min() < 0.999 and np.ptp(want[:, 0]) > 1e-2  # outputs really vary
    result = CliRunner().invoke(cli, ["predict", str(run_dir), "--json"]
                                + [a for t in TEXTS[:2] for a in ("--text", t)])
    assert result.exit_code == 0, result.output
    for line, row in zip(result.output.strip().splitlines(), probabilities):
        cli_probs = json.loads(line)["probabilities"]
        np.testing.assert_allclose([cli_probs[n] for n in run.labels], row, atol=TOL)
    logits = _out(exported, "classify", "predict_ids", "logits")
    np.testing.assert_allclose(logits, run.model(IDS, training=False), atol=TOL)


@pytest.mark.slow
def test_pair_classifier_takes_text_pair(exported):
    run = load_run(exported["runs"]["pair"])
    want, _ = inference.predict(run, TEXTS, TEXTS[::-1])
    np.testing.assert_allclose(_out(exported, "pair", "serving_default", "probabilities"), want,
                               atol=TOL)


@pytest.mark.slow
def test_masked_lm_top_tokens_match_fill_mask(exported):
    run = load_run(exported["runs"]["mlm"])
    tokens = _out(exported, "mlm", "serving_default", "top_tokens")
    probs = _out(exported, "mlm", "serving_default", "top_probabilities")
    assert tokens.shape == probs.shape == (len(TEXTS), 1, 5)  # M = most masks in the batch
    want = inference.fill_mask(run, TEXTS[4], top_k=5)[0]
    assert [t.decode() for t in tokens[4, 0]] == [t for t, _ in want]
    np.testing.assert_allclose(probs[4, 0], [p for _, p in want], atol=TOL)
    assert (tokens[:4] == b"").all() and (probs[:4] == 0).all()  # texts without [MASK]
    logits = _out(exported, "mlm", "predict_ids", "logits")  # (B, T, V) at every position
    positions = np.tile(np.arange(6, dtype="int32"), (2, 1))
    ref = run.model({**IDS, "mask_positions": positions}, training=False)
    np.testing.assert_allclose(logits, ref["mlm"], atol=TOL)
    np.testing.assert_allclose(_out(exported, "mlm", "predict_ids", "nsp_logits"), ref["nsp"],
                               atol=TOL)


@pytest.mark.slow
def test_encoder_embedding_is_normalised_mean_pool(exported):
    run = load_run(exported["runs"]["encoder"])
    embedding = _out(exported, "encoder", "serving_default", "embedding")
    want = inference.embed(run, TEXTS)
    want = want / np.linalg.norm(want, axis=-1, keepdims=True)
    np.testing.assert_allclose(embedding, want, atol=TOL)
    packed = inference.encode_texts(run, TEXTS)
    np.testing.assert_allclose(_out(exported, "encoder", "serving_default", "pooled_output"),
                               run.model(packed, training=False)["pooled_output"], atol=TOL)
    np.testing.assert_allclose(_out(exported, "encoder", "predict_ids", "sequence_output"),
                               run.model(IDS, training=False)["sequence_output"], atol=TOL)


@pytest.mark.slow
def test_lstm_next_token_and_generate_match_keras(exported):
    run = load_run(exported["runs"]["lstm"])
    texts = _out(exported, "lstm", "generate", "text")
    for prompt, got in zip(["The market", "news of a"], texts[[0, 2]]):
        want = inference.generate(run, prompt, max_new_tokens=5, temperature=0.8, top_k=4,
                                  seed=11)
        assert got.decode() == want
    assert _out(exported, "lstm", "generate", "token_ids").shape == (3, 5)
    ids = run.tokenizer.tokenize(["The market"]).to_list()[0][:-1]  # the prompt, no <eos>
    probs = tf.nn.softmax(run.model(np.array([ids], "int32"))[0, -1]).numpy()
    top = np.argsort(-probs)[:5]
    np.testing.assert_allclose(_out(exported, "lstm", "serving_default",
                                    "next_token_probabilities")[0], probs[top], atol=TOL)
    assert [t.decode() for t in _out(exported, "lstm", "serving_default", "next_token")[0]] == [
        run.tokenizer.vocabulary[i] for i in top]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["classify", "pair", "mlm", "encoder", "lstm"])
def test_bad_input_gives_defined_outputs(exported, kind):
    prefix = f"{exported['paths'][kind]}|serving_default#bad|"
    outputs = {k[len(prefix):]: v for k, v in exported["out"].items() if k.startswith(prefix)}
    assert outputs
    for name, value in outputs.items():
        assert value.shape[0] == len(BAD), name
        if value.dtype.kind == "f":
            assert np.isfinite(value).all(), name
    if "probabilities" in outputs:
        np.testing.assert_allclose(outputs["probabilities"].sum(-1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_saved_model_cli_shows_and_runs_the_text_signature(exported):
    cli_path = Path(sys.executable).parent / "saved_model_cli"
    model_dir = exported["paths"]["classify"]
    env = blocked_cli_env(exported["root"])
    show = subprocess.run([str(cli_path), "show", "--dir", model_dir, "--all"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert show.returncode == 0, show.stderr[-2000:]
    for expected in ("signature_def['serving_default']", "signature_def['predict_ids']",
                     "inputs['text'] tensor_info:\n        dtype: DT_STRING\n        shape: (-1)",
                     "outputs['probabilities'] tensor_info:\n        dtype: DT_FLOAT\n"
                     "        shape: (-1, 3)", "inputs['token_ids'] tensor_info:\n"
                     "        dtype: DT_INT32\n        shape: (-1, -1)"):
        assert expected in show.stdout, expected
    assert "TFText" not in show.stdout  # the op list names core ops only
    # `run` loads the SavedModel the TF1 way, as TF Serving does (restore ops + session).
    run = subprocess.run([str(cli_path), "run", "--dir", model_dir, "--tag_set", "serve",
                          "--signature_def", "serving_default",
                          "--input_exprs", f"text=[{TEXTS[0]!r}]"], env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    label = _out(exported, "classify", "serving_default", "label")[0].decode()
    assert f"Result for output key label:\n[b'{label}']" in run.stdout
    printed = run.stdout.split("Result for output key probabilities:\n")[1]
    values = np.array(printed.replace("[", " ").replace("]", " ").split()[:3], dtype="float32")
    np.testing.assert_allclose(values, _out(exported, "classify", "serving_default",
                                            "probabilities")[0], atol=TOL)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["classify", "pair", "mlm", "encoder", "lstm"])
def test_warmup_file_holds_a_request_per_signature(exported, kind):
    from tensorflow_serving.apis import prediction_log_pb2

    path = Path(exported["paths"][kind]) / "assets.extra" / "tf_serving_warmup_requests"
    logs = [prediction_log_pb2.PredictionLog.FromString(record.numpy())
            for record in tf.data.TFRecordDataset(str(path))]
    loaded = tf.saved_model.load(exported["paths"][kind])
    assert {log.predict_log.request.model_spec.signature_name for log in logs} == set(
        loaded.signatures)
    for log in logs:  # every request replays against its signature
        request = log.predict_log.request
        inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
        outputs = loaded.signatures[request.model_spec.signature_name](
            **{k: tf.constant(v) for k, v in inputs.items()})
        assert all(np.all(np.isfinite(v)) for v in outputs.values() if v.dtype.is_floating)
    config = (exported["root"] / "models.config").read_text()
    assert 'name: "cls"' in config and "model_platform: \"tensorflow\"" in config
