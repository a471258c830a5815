"""The kerasllm command group: help, version, one-line errors, every command registered."""
import subprocess
import sys

import pytest
from click.testing import CliRunner

from kerasllm.cli.main import COMMANDS, cli
from kerasllm.version import __version__


def test_version_and_help_list_every_command():
    runner = CliRunner()
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_imports_and_has_help(name):
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_help_does_not_import_tensorflow():
    code = ("import sys; from kerasllm.cli.main import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print('TF' if 'tensorflow' in sys.modules else 'NOTF')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("NOTF")


def _one_error_line(args):
    out = subprocess.run([sys.executable, "-m", "kerasllm.cli.main", *args],
                         capture_output=True, text=True)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    errors = [line for line in out.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, out.stderr
    return errors[0]


@pytest.mark.slow
def test_user_errors_are_one_line_not_tracebacks(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("family: bert\nmodel:\n  hidden_dim: 100\n  num_heads: 3\n")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("one sentence.\nanother one.\n")
    line = _one_error_line(["pretrain", "--preset", str(bad), "--corpus", str(corpus),
                            "--output", str(tmp_path / "run")])
    assert str(bad) in line and "model.hidden_dim" in line
    assert not (tmp_path / "run").exists()  # nothing half-written
    line = _one_error_line(["predict", str(tmp_path / "missing"), "--text", "hi"])
    assert "run directory not found" in line
