"""Red team: every command gets the same bad inputs and must fail cleanly or give a defined result.

Inputs: a missing path, an empty file, random bytes, Latin-1 (non-UTF-8) text, a huge one-line
file, a directory where a file belongs (or a file where a RUN_DIR belongs) and a run of the
wrong kind. For each: no traceback; a non-zero exit with exactly one ``Error:`` line, or exit 0
where the result is defined (Latin-1 text is decoded with U+FFFD; a huge text is truncated);
and no file that existed before the command changed.
"""
import hashlib
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from kerasllm.cli.main import cli
from tiny_runs import bert_run, lstm_run, sentences
from training_helpers import write_data

pytestmark = pytest.mark.slow  # ~90 invocations in-process; the few that train take 1 step

INPUTS = ("missing", "empty", "binary", "latin1", "huge", "wrong_type", "wrong_kind")
# (command, input) pairs that may succeed: their result is defined.
DEFINED = {("predict", "latin1"), ("embed", "latin1"), ("predict", "huge"), ("embed", "huge"),
           ("evaluate", "latin1"), ("pretrain", "latin1"), ("train-lm", "latin1"),
           ("data pretrain", "latin1"), ("vocab", "latin1"), ("generate", "latin1"),
           ("generate", "binary"), ("generate", "huge")}  # --prompt: any bytes are some text
TEXT_ARGUMENT = {"generate"}  # takes the input's bytes, not a path: no missing / wrong-type file


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("redteam")
    (root / "data").mkdir()
    data = write_data(root / "data")
    files = {"missing": root / "missing.txt", "empty": root / "empty.txt",
             "binary": root / "binary.txt", "latin1": root / "latin1.txt",
             "huge": root / "huge.txt", "wrong_type": root / "a_directory"}
    files["empty"].write_text("")
    files["binary"].write_bytes(os.urandom(100_000))
    latin = "\n\n".join("\n".join(sentences(6, seed=s)) for s in range(30)) + "\ncafé très\n"
    files["latin1"].write_bytes(latin.encode("latin-1"))
    files["huge"].write_text("x" * 2_000_000 + "\n")
    files["wrong_type"].mkdir()
    runs = {"clf": bert_run(root / "clf", "classify", ["a", "b"]).path,
            "mlm": bert_run(root / "mlm", "mlm+nsp").path, "lm": lstm_run(root / "lm").path}
    return {"root": root, "data": data, "files": files, "runs": runs, "out": root / "out"}


def _file_commands(ws):
    """Commands whose bad input is a file option: name -> argv builder."""
    data, out = ws["data"], ws["out"]
    bert, lstm = str(data / "bert.yaml"), str(data / "lstm.yaml")
    return {
        "vocab": lambda x: ["vocab", "--corpus", x, "--size", "60", "-o", out / "vocab.txt"],
        "data pretrain": lambda x: ["data", "pretrain", "--corpus", x, "--vocab",
                                    ws["runs"]["mlm"] / "vocab.txt", "--output", out / "ex",
                                    "--max-seq-length", "32", "--dupe-factor", "1"],
        "pretrain": lambda x: ["pretrain", "--preset", bert, "--corpus", x, "--vocab-size", "60",
                               "--seq-length", "32", "--steps", "1", "--output", out / "pt"],
        "finetune": lambda x: ["finetune", "--init", "none", "--preset", bert, "--train", x,
                               "--vocab-size", "60", "--seq-length", "32", "--steps", "1",
                               "--output", out / "ft"],
        "train-lm": lambda x: ["train-lm", "--preset", lstm, "--corpus", x, "--vocab-size", "50",
                               "--steps", "1", "--output", out / "lm"],
        "evaluate": lambda x: ["evaluate", ws["runs"]["lm"], "--data", x],
        "predict": lambda x: ["predict", ws["runs"]["clf"], "--input", x],
        "embed": lambda x: ["embed", ws["runs"]["clf"], "--input", x],
        "fill-mask": lambda x: ["fill-mask", ws["runs"]["mlm"], "--input", x],
        "generate": lambda x: ["generate", ws["runs"]["lm"], "--prompt", _read_arg(x),
                               "--max-new-tokens", "2"],
    }


def _run_dir_commands(ws):
    """Commands whose bad input is RUN_DIR / CHECKPOINT_DIR: name -> argv builder."""
    out = ws["out"]
    return {
        "export": lambda x: ["export", x, "--output", out / "serving"],
        "export-hf": lambda x: ["export-hf", x, "-o", out / "hf"],
        "import-hf": lambda x: ["import-hf", x, "-o", out / "imported"],
        "finetune --init": lambda x: ["finetune", "--init", x, "--train",
                                      ws["data"] / "train.csv", "--output", out / "ft2"],
        "evaluate RUN_DIR": lambda x: ["evaluate", x, "--data", ws["data"] / "corpus.txt"],
    }


def _read_arg(path):
    """A file's bytes as sys.argv would hold them (undecodable bytes as surrogates)."""
    path = Path(path)
    if not path.is_file():
        return str(path)
    return path.read_bytes()[:100_000].decode("utf-8", errors="surrogateescape")


WRONG_KIND = {"vocab": None, "data pretrain": None, "pretrain": None, "finetune": None,
              "train-lm": None, "evaluate": None, "predict": "mlm", "embed": "lm",
              "fill-mask": "clf", "generate": "clf", "export": None, "export-hf": "lm",
              "import-hf": "clf", "finetune --init": "lm", "evaluate RUN_DIR": None}


def _snapshot(root):
    state = {}
    for path in Path(root).rglob("*"):
        if path.is_file():
            state[path] = hashlib.sha1(path.read_bytes()).hexdigest()
    return state


def _argv(ws, name, builder, kind):
    if kind == "wrong_kind":
        if WRONG_KIND[name] is None:
            return None
        run = ws["runs"][WRONG_KIND[name]]
        if name in _file_commands(ws):  # the run argument is the one that is wrong
            good = {"predict": "clf", "embed": "clf", "fill-mask": "mlm", "generate": "lm"}[name]
            argv = builder(ws["data"] / "corpus.txt")
            return [str(run) if a == ws["runs"][good] else a for a in argv]
        return builder(run)
    if name in TEXT_ARGUMENT and kind in ("missing", "wrong_type"):
        return None
    return builder(ws["files"][kind])


COMMANDS = ("vocab", "data pretrain", "pretrain", "finetune", "train-lm", "evaluate", "predict",
            "embed", "fill-mask", "generate", "export", "export-hf", "import-hf",
            "finetune --init", "evaluate RUN_DIR")


@pytest.mark.parametrize("name", COMMANDS)
def test_every_bad_input_fails_cleanly_or_gives_a_defined_result(ws, name):
    builders = {**_file_commands(ws), **_run_dir_commands(ws)}
    for kind in INPUTS:
        argv = _argv(ws, name, builders[name], kind)
        if argv is None:
            continue
        before = _snapshot(ws["root"])
        result = CliRunner().invoke(cli, [str(a) for a in argv])
        where = f"{name} / {kind}: exit {result.exit_code}\n{result.output[-2000:]}"
        assert result.exception is None or isinstance(result.exception, SystemExit), \
            f"{where}\n{result.exception!r}"
        assert "Traceback" not in result.output, where
        errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
        if result.exit_code == 0:
            assert (name, kind) in DEFINED and not errors, where
        else:
            assert len(errors) == 1, where
        after = _snapshot(ws["root"])
        changed = [str(p) for p, digest in before.items() if after.get(p) != digest]
        assert not changed, f"{where}\nchanged: {changed}"
