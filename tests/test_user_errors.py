"""Issue 18, item by item: what a new user meets on bad or unusual input (CliRunner, in-process)."""
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from kerasllm.cli.main import cli
from kerasllm.inference import predict
from kerasllm.runs import write_config
from tiny_runs import bert_run, lstm_run, sentences

LATIN1_ARG = b"caf\xe9 shares".decode("utf-8", errors="surrogateescape")  # as sys.argv holds it
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    return {"clf": bert_run(root / "clf", "classify", ["a", "b"]),
            "mlm": bert_run(root / "mlm", "mlm+nsp"), "lm": lstm_run(root / "lm")}


def invoke(*args, **kwargs):
    result = CliRunner().invoke(cli, [str(a) for a in args], **kwargs)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def error_line(*args, **kwargs):
    result = invoke(*args, **kwargs)
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert result.exit_code != 0 and len(errors) == 1, result.output
    return errors[0]


def test_non_utf8_text_is_replaced_with_one_warning(runs):
    for args in (["predict", runs["clf"].path, "--text", LATIN1_ARG, "--text", "ok"],
                 ["embed", runs["clf"].path, "--text", LATIN1_ARG],
                 ["fill-mask", runs["mlm"].path, LATIN1_ARG + " [MASK]"],
                 ["generate", runs["lm"].path, "--prompt", LATIN1_ARG, "--max-new-tokens", "2"]):
        result = invoke(*args)
        assert result.exit_code == 0, result.output
        assert result.output.count("Warning: invalid UTF-8") == 1, result.output
    assert "caf\ufffd shares" in invoke("predict", runs["clf"].path, "--text", LATIN1_ARG).output


def test_empty_whitespace_and_nul_text_predict_like_cls_sep(runs):
    run = runs["clf"]
    probs, _ = predict(run, ["", "   ", "\x00"])
    length = run.config["seq_length"]  # the SavedModel packs to the full length, padding masked
    ids = np.zeros((1, length), "int32")
    ids[0, :2] = [run.tokenizer.cls_id, run.tokenizer.sep_id]
    mask = (ids != 0).astype("int32")
    logits = np.asarray(run.model({"token_ids": ids, "segment_ids": np.zeros_like(ids),
                                   "padding_mask": mask}, training=False), "float64")
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    np.testing.assert_allclose(probs, np.repeat(expected, 3, axis=0), atol=1e-5)
    result = invoke("predict", run.path, "--text", "")
    assert result.exit_code == 0 and "seq_length" not in result.output


def test_input_file_and_stdin(runs, tmp_path):
    texts = tmp_path / "texts.jsonl"
    texts.write_text('{"body": "the cat sat"}\n{"body": "a red car"}\n')
    from_file = invoke("predict", runs["clf"].path, "--input", texts, "--column", "body", "--json")
    from_args = invoke("predict", runs["clf"].path, "--text", "the cat sat", "--text", "a red car",
                       "--json")
    assert from_file.exit_code == 0 and from_file.output == from_args.output
    piped = invoke("embed", runs["clf"].path, "--input", "-", input="the cat\nthe dog\n")
    assert piped.exit_code == 0 and len(piped.output.splitlines()) == 2
    masked = invoke("fill-mask", runs["mlm"].path, "--input", "-", "--json",
                    input="the [MASK] sat\na [MASK] car\n")
    assert masked.exit_code == 0 and len(json.loads(masked.output)) == 2
    assert "Pass --text or --input" in error_line("predict", runs["clf"].path)


def test_wrong_run_kind_and_output_of_another_job(runs, tmp_path):
    assert "needs a classifier run" in error_line("predict", runs["mlm"].path, "--text", "x")
    assert "needs a BERT run" in error_line("embed", runs["lm"].path, "--text", "x")
    pretrain_run = tmp_path / "pretrain-run"
    pretrain_run.mkdir()
    write_config(pretrain_run, {"job": "pretrain", "task": "mlm+nsp", "batch_size": 16})
    train = tmp_path / "train.csv"
    train.write_text("text,label\na b,x\nc d,y\n")
    line = error_line("finetune", "--init", "none", "--train", train, "--output", pretrain_run)
    assert "this folder holds a pretrain run" in line and "batch_size" not in line


def test_config_values_are_typed_and_named(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("a b c .\n")
    for value, expected in (('"abc"', "expected a whole number, received 'abc'"),
                            ("2.5", "expected a whole number, received 2.5"),
                            ("0", "0 is not in the range x>=1")):
        config = tmp_path / "config.yaml"
        config.write_text(f"steps: {value}\n")
        line = error_line("pretrain", "--config", config, "--corpus", corpus,
                          "--output", tmp_path / "run")
        assert f"{config}: key 'steps': {expected}" in line
    assert not (tmp_path / "run").exists()


def test_paths_say_which_option_and_what_is_wrong(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("a b c .\n")
    line = error_line("data", "pretrain", "--corpus", corpus, "--vocab", tmp_path,
                      "--output", tmp_path / "ex")
    assert "--vocab" in line and "is a directory" in line
    line = error_line("train-lm", "--corpus", corpus, "--eval", tmp_path / "nope*.txt",
                      "--output", tmp_path / "run")
    assert "--eval pattern" in line
    existing = tmp_path / "good.gz"
    existing.write_bytes(b"keep")
    line = error_line("data", "pretrain", "--corpus", corpus, "--vocab", corpus,
                      "--output", existing)
    assert "exists and is a file" in line and existing.read_bytes() == b"keep"
    line = error_line("data", "pretrain", "--corpus", corpus, "--vocab", corpus,
                      "--output", tmp_path / "ex", "--max-seq-length", "100000")
    assert "--max-seq-length" in line and "512" in line


def test_warmup_longer_than_steps_warns(tmp_path):
    from training_helpers import write_data

    data = write_data(tmp_path)
    result = invoke("pretrain", "--preset", data / "bert.yaml", "--corpus", data / "corpus.txt",
                    "--vocab-size", "60", "--seq-length", "32", "--steps", "2",
                    "--warmup-steps", "5", "--output", tmp_path / "run")
    assert result.exit_code == 0, result.output
    assert "Warning: --warmup-steps 5 is more than --steps 2" in result.output
    assert "\r" not in result.output and "\x1b[" not in result.output  # not a TTY: plain lines
    assert "epoch 1 step 2/2" in result.output


def test_examples_folder_records_vocab_and_length_readme_step_2b(tmp_path):
    from training_helpers import write_data

    data = write_data(tmp_path)
    vocab = tmp_path / "vocab.txt"
    assert invoke("vocab", "--corpus", data / "corpus.txt", "--size", "60",
                  "-o", vocab).exit_code == 0
    assert invoke("data", "pretrain", "--corpus", data / "corpus.txt", "--vocab", vocab,
                  "--output", tmp_path / "examples", "--max-seq-length", "32",
                  "--dupe-factor", "1").exit_code == 0
    assert (tmp_path / "examples" / "vocab.txt").read_text() == vocab.read_text()
    result = invoke("pretrain", "--preset", data / "bert.yaml", "--examples",
                    tmp_path / "examples", "--output", tmp_path / "run", "--steps", "1")
    assert result.exit_code == 0, result.output
    config = (tmp_path / "run" / "config.yaml").read_text()
    assert "seq_length: 32" in config


def test_binary_corpus_refused_and_metrics_never_silently_replaced(runs, tmp_path):
    binary = tmp_path / "random.txt"
    binary.write_bytes(os.urandom(200_000))
    for args in (["vocab", "--corpus", binary, "-o", tmp_path / "v.txt"],
                 ["data", "pretrain", "--corpus", binary, "--vocab", runs["mlm"].path / "vocab.txt",
                  "--output", tmp_path / "ex"],
                 ["evaluate", runs["lm"].path, "--data", binary]):
        assert "not a text file" in error_line(*args)
    assert not (tmp_path / "v.txt").exists() and not (tmp_path / "ex").exists()
    text = tmp_path / "held_out.txt"
    text.write_text("\n".join(sentences(5)) + "\n")
    other = tmp_path / "other.txt"
    other.write_text("\n".join(sentences(5, seed=1)) + "\n")
    assert invoke("evaluate", runs["lm"].path, "--data", text).exit_code == 0
    metrics = runs["lm"].path / "eval_metrics.json"
    before = metrics.read_text()
    assert invoke("evaluate", runs["lm"].path, "--data", text).exit_code == 0  # same data: fine
    assert "holds earlier metrics" in error_line("evaluate", runs["lm"].path, "--data", other)
    assert metrics.read_text() == before
    assert invoke("evaluate", runs["lm"].path, "--data", other, "--overwrite").exit_code == 0


def test_vocab_never_overwrites_and_refuses_an_all_unk_vocabulary(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(sentences(20)) + "\n")
    out = tmp_path / "vocab.txt"
    out.write_text("mine\n")
    assert "already exists" in error_line("vocab", "--corpus", corpus, "-o", out)
    assert out.read_text() == "mine\n"
    one_word = tmp_path / "one_word.txt"
    one_word.write_text("x" * 500_000 + "\n")
    line = error_line("vocab", "--corpus", one_word, "-o", tmp_path / "v2.txt", "--size", "50")
    assert "100% of the corpus's own tokens [UNK]" in line and not (tmp_path / "v2.txt").exists()


def test_finetune_refuses_a_single_label(runs, tmp_path):
    train = tmp_path / "one.csv"
    train.write_text("text,label\nthe cat,x\nthe dog,x\n")
    line = error_line("finetune", "--init", runs["mlm"].path, "--train", train,
                      "--output", tmp_path / "ft", "--seq-length", "16")
    assert "every row has the label 'x'" in line and not (tmp_path / "ft" / "model.keras").exists()


def test_import_hf_names_config_json_keys(tmp_path):
    checkpoint = tmp_path / "ckpt"
    checkpoint.mkdir()
    (checkpoint / "config.json").write_text(json.dumps(
        {"model_type": "bert", "vocab_size": 30, "num_hidden_layers": 1, "hidden_size": 16,
         "num_attention_heads": 3, "intermediate_size": 32}))
    (checkpoint / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n")
    line = error_line("import-hf", checkpoint, "--output", tmp_path / "run")
    assert "hidden_size" in line and "num_attention_heads" in line and "hidden_dim" not in line


def test_export_validates_models_config_first_and_cleans_dead_tmp(runs, tmp_path):
    from kerasllm.export.versioned_writer import remove_stale_tmp

    base = tmp_path / "serving"
    broken = tmp_path / "models.config"
    broken.write_text("this is { not a config\n")
    assert "not a TF Serving model config" in error_line(
        "export", runs["clf"].path, "--output", base, "--models-config", broken)
    assert not base.exists() or not any(p.name.isdigit() for p in base.iterdir())
    dead = subprocess.Popen(["true"])
    dead.wait()
    (base / f".tmp-1-{dead.pid}").mkdir(parents=True)
    (base / f".tmp-2-{os.getpid()}").mkdir()  # a live export (this process) is left alone
    assert [p.name for p in remove_stale_tmp(base)] == [f".tmp-1-{dead.pid}"]
    assert sorted(p.name for p in base.iterdir()) == [f".tmp-2-{os.getpid()}"]


def test_export_hf_files_are_world_readable(runs, tmp_path):
    assert invoke("export-hf", runs["mlm"].path, "-o", tmp_path / "hf").exit_code == 0
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "hf").iterdir()}
    assert len(set(modes.values())) == 1, modes  # model.safetensors like every other file


def test_help_texts():
    finetune = invoke("finetune", "--help").output
    assert "[default: 32]" in finetune and "[default: 5e-05]" in finetune
    assert "preset recipe" not in finetune
    assert "Continue PROMPT" not in invoke("generate", "--help").output


def test_make_demo_installs_no_test_extras(tmp_path):
    plan = subprocess.run(["make", "-n", "demo", f"VENV={tmp_path}/venv"], cwd=REPO,
                          capture_output=True, text=True, check=True).stdout
    installs = [line for line in plan.splitlines() if "pip install" in line and "-e" in line]
    assert installs == [f"{tmp_path}/venv/bin/python -m pip install -q -e \".[serving]\""]
    plan = subprocess.run(["make", "-n", "test", f"VENV={tmp_path}/venv"], cwd=REPO,
                          capture_output=True, text=True, check=True).stdout
    assert "test,hf-test" in plan
