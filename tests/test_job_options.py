"""Issue 22 item 6: each job's options in one dataclass, shared by the CLI, --config and Python."""
import dataclasses
import json

import pytest
from click.testing import CliRunner

import kerasllm.training as training
from kerasllm.cli.main import cli
from kerasllm.cli.train_cmds import finetune, pretrain, train_lm
from kerasllm.errors import KerasLLMError
from kerasllm.training.finetune_options import FinetuneOptions
from kerasllm.training.lm_options import TrainLMOptions
from kerasllm.training.pretrain_options import PretrainOptions
from training_helpers import metrics, write_data

COMMANDS = [(pretrain, PretrainOptions), (finetune, FinetuneOptions), (train_lm, TrainLMOptions)]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_data(tmp_path_factory.mktemp("data"))


def error_line(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert result.exit_code != 0 and len(errors) == 1, result.output
    return errors[0][len("Error: "):]


def python_error(job, **values):
    with pytest.raises(KerasLLMError) as err:
        job(**values)
    return str(err.value)


@pytest.mark.parametrize("command, options_class", COMMANDS)
def test_cli_flags_are_the_dataclass_fields_with_its_defaults(command, options_class):
    params = {p.name: p for p in command.params if p.name != "config"}
    fields = {f.name: f for f in dataclasses.fields(options_class)}
    assert set(params) == set(fields)
    for name, field in fields.items():
        default = params[name].default
        assert (tuple(default or ()) if params[name].multiple else default) == field.default, name
        assert params[name].required == field.metadata["required"], name


def test_config_file_reads_the_same_from_cli_and_python(data, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("steps: 2.5\n")
    expected = f"{config}: key 'steps': expected a whole number, received 2.5."
    assert error_line("train-lm", "--config", config, "--corpus", data / "corpus.txt",
                      "--output", tmp_path / "run") == expected
    assert python_error(training.train_lm, config=config, corpus=data / "corpus.txt",
                        output=tmp_path / "run") == expected
    config.write_text("learning-rate: '1e-3'\nseq_length: 16\nbatchsize: 3\n")
    assert "key 'batchsize': unknown option" in python_error(
        training.train_lm, config=config, corpus="c.txt", output=tmp_path / "run")
    config.write_text("learning-rate: '1e-3'\nseq_length: 16\n")
    options = TrainLMOptions.build(config=config, corpus="c.txt", output=tmp_path / "run",
                                   seq_length=20)
    assert (options.learning_rate, options.seq_length, options.corpus) == (1e-3, 20, ("c.txt",))
    assert not (tmp_path / "run").exists()


def test_a_bad_value_from_python_is_the_cli_line(data, tmp_path):
    corpus, run = data / "corpus.txt", tmp_path / "run"
    for flag, value, keyword in (("--steps", "0", dict(steps=0)),
                                 ("--masked-lm-prob", "1.5", dict(masked_lm_prob=1.5)),
                                 ("--task", "mlm+xx", dict(task="mlm+xx"))):
        from_cli = error_line("pretrain", "--corpus", corpus, "--output", run, flag, value)
        from_python = python_error(training.pretrain, corpus=corpus, output=run, **keyword)
        assert from_python == from_cli and from_python.startswith(f"Invalid value for '{flag}'")
    both = python_error(training.pretrain, corpus=corpus, examples=tmp_path, output=run)
    assert both == error_line("pretrain", "--corpus", corpus, "--examples", tmp_path, "--output", run)
    assert "exactly one of --corpus GLOB or --examples DIR (received both)" in both
    assert python_error(training.pretrain, corpus=corpus, output=run, steps=2.5) == \
        "Invalid value for '--steps': expected a whole number, received 2.5."
    assert python_error(training.finetune, train="t.csv", output=run) == "Missing option '--init'."
    assert "unknown option 'batchsize'" in python_error(training.train_lm, corpus=corpus,
                                                        output=run, batchsize=4)
    assert "cannot be combined" in python_error(training.train_lm, corpus=corpus, output=run,
                                                jit=True, deterministic=True)
    assert not run.exists()


def test_finetune_records_only_its_task_options():
    options = FinetuneOptions.build(task="qa", init="none", train="squad.json", output="run")
    recorded = options.job_options()
    assert recorded["doc_stride"] == 128 and "text_column" not in recorded and "task" not in recorded
    again = FinetuneOptions.build(options, task="classify")
    assert again.job_options()["label_column"] == "label" and "doc_stride" not in again.job_options()
    with pytest.raises(KerasLLMError, match="expected FinetuneOptions, received TrainLMOptions"):
        FinetuneOptions.build(TrainLMOptions(corpus=("c",), output="o"))


def test_the_three_jobs_train_from_python(data, tmp_path):
    """pretrain -> finetune from it -> train_lm, with keyword arguments and an options object."""
    bert = dict(preset=data / "bert.yaml", vocab_size=60, seq_length=32, steps=2)
    result = training.pretrain(corpus=data / "corpus.txt", output=tmp_path / "bert", **bert)
    assert result == metrics(tmp_path / "bert") and result["step"] == 2
    options = FinetuneOptions(init=str(tmp_path / "bert"), train=str(data / "train.csv"),
                              output=str(tmp_path / "clf"), steps=2, batch_size=8, seq_length=32,
                              precision="float32", jit=False)
    assert training.finetune(options)["step"] == 2
    lm = training.train_lm(corpus=data / "corpus.txt", preset=data / "lstm.yaml", vocab_size=50,
                           steps=3, output=tmp_path / "lm")
    assert lm["step"] == 3
    from kerasllm.runs import read_config

    assert read_config(tmp_path / "lm")["seq_length"] == 8  # the tiny preset's recipe
    assert read_config(tmp_path / "clf")["seq_length"] == 32


def test_old_sequence_length_names_still_read(data, tmp_path):
    from kerasllm.data.pretraining_examples import PretrainingConfig
    from kerasllm.data.pretraining_summary import SUMMARY_FILE, examples_settings
    from kerasllm.presets import load_preset

    assert PretrainingConfig(max_seq_length=64).seq_length == 64
    assert PretrainingConfig(seq_length=32).max_seq_length == 32
    with pytest.raises(KerasLLMError, match="disagree"):
        PretrainingConfig(seq_length=32, max_seq_length=64)
    old = tmp_path / "old-examples"
    old.mkdir()
    (old / SUMMARY_FILE).write_text(json.dumps({"config": {"max_seq_length": 48}}))
    assert examples_settings(old) == (None, 48)
    preset = tmp_path / "old-lstm.yaml"
    preset.write_text((data / "lstm.yaml").read_text().replace("seq_length", "sequence_length"))
    assert "sequence_length" in preset.read_text()
    assert load_preset(str(preset)).training.seq_length == 8
    assert "--max-seq-length 40: --max-seq-length is the old name of --seq-length" in error_line(
        "data", "pretrain", "--corpus", data / "corpus.txt", "--vocab", data / "corpus.txt",
        "--output", tmp_path / "ex", "--seq-length", "32", "--max-seq-length", "40")


def test_data_pretrain_old_flag_builds_the_same_examples(data, tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "."]
                               + sorted(set(data.joinpath("corpus.txt").read_text().split()) - {"."})))
    built = {}
    for flag in ("--seq-length", "--max-seq-length"):
        out = tmp_path / flag.strip("-")
        result = CliRunner().invoke(cli, ["data", "pretrain", "--corpus", str(data / "corpus.txt"),
                                          "--vocab", str(vocab), "--output", str(out), flag, "24",
                                          "--dupe-factor", "1"])
        assert result.exit_code == 0, result.output
        summary = json.loads((out / "pretraining_summary.json").read_text())
        assert summary["config"]["seq_length"] == 24 and "max_seq_length" not in summary["config"]
        built[flag] = sorted(p.read_bytes() for p in out.glob("*.tfrecord"))
    assert built["--seq-length"] == built["--max-seq-length"]
