"""Soak tier: every job for 20+ epochs on a tiny corpus, through kill -9 and SIGTERM.

Each test trains one job uninterrupted (the reference) and again through
several kill -9 (the step before, at and after an epoch boundary, and later
ones, some landing during a checkpoint write) and one SIGTERM, re-running the
same command after each; both runs must end with the same weights (max |Δ|
<= 1e-6, deterministic mode), the same logged steps, bounded checkpoints and
flat memory. ``make soak`` runs only these; CI runs them with everything else.
"""
import signal

import pytest

from soak_helpers import compare, history, interrupted_run
from training_helpers import lm_args, run_cli, write_data

pytestmark = [pytest.mark.slow, pytest.mark.soak]
EPOCHS = 20
KILL, TERM = signal.SIGKILL, signal.SIGTERM


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Tiny data plus one vocab.txt, learned once here and passed to every run as --vocab."""
    from kerasllm.data import learn_vocabulary, write_vocabulary

    root = write_data(tmp_path_factory.mktemp("data"))
    write_vocabulary(learn_vocabulary((root / "corpus.txt").read_text().splitlines(), 100), root / "vocab.txt")
    return root


def _soak(args_for, tmp_path, stops_for):
    """The reference run, then the interrupted one (stopped at steps placed by the
    reference's epoch length), then compare."""
    reference, resumed = tmp_path / "reference", tmp_path / "resumed"
    result = run_cli(args_for(reference), timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    per_epoch = history(reference)[0]["step"]
    stops = interrupted_run(args_for(resumed), resumed, stops_for(per_epoch))
    figures = compare(reference, resumed)
    print(f"\n{args_for(resumed)[0]}: stops {stops}; "
          f"{figures['epochs']} epochs, {figures['steps']} steps; max |dW| {figures['max_abs_diff']:.2e}; "
          f"RSS MiB by epoch {figures['rss_mib']}")
    assert figures["max_abs_diff"] <= 1e-6
    assert figures["rss_growth"] <= 0.10, f"memory grew {figures['rss_growth']:.1%} from epoch 2 to {EPOCHS}"
    return figures


def _stops(per_epoch):
    """kill -9 the step before, at and after the first epoch boundary, one during a
    checkpoint write, SIGTERM mid-run, a last kill late."""
    return [(per_epoch - 1, KILL), (per_epoch, KILL), (per_epoch + 1, KILL), (3 * per_epoch, "write"),
            (per_epoch * EPOCHS // 2 + 1, TERM), (per_epoch * (EPOCHS - 2) + 2, KILL)]


MLM_ALONE_STEPS = 30  # NSP joins between the checkpoint-write kill and the SIGTERM


def test_pretrain_stream_survives_kills(data, tmp_path):
    """MLM alone for the first 30 steps, then MLM+NSP: a resume on either side of the
    switch must switch at the same step (the weights would differ otherwise)."""
    def args(out):
        return ["pretrain", "--preset", str(data / "bert.yaml"), "--task", "mlm+nsp",
                "--corpus", str(data / "corpus.txt"), "--vocab", str(data / "vocab.txt"), "--seq-length", "32",
                "--batch-size", "8", "--epochs", str(EPOCHS), "--checkpoint-every", "3",
                "--mlm-alone-steps", str(MLM_ALONE_STEPS), "--output", str(out)]

    def stops(per_epoch):
        planned = _stops(per_epoch)
        steps = [step for step, _ in planned]
        assert min(steps) < MLM_ALONE_STEPS < max(steps), planned  # stops on both sides
        return planned
    _soak(args, tmp_path, stops)


def test_finetune_survives_kills(data, tmp_path):
    def args(out):
        return ["finetune", "--init", "none", "--preset", str(data / "bert.yaml"),
                "--train", str(data / "train.csv"), "--eval", str(data / "eval.csv"),
                "--vocab", str(data / "vocab.txt"), "--seq-length", "16", "--batch-size", "8",
                "--epochs", str(EPOCHS), "--learning-rate", "3e-3", "--checkpoint-every", "1",
                "--output", str(out)]
    _soak(args, tmp_path, _stops)


def test_train_lm_survives_kills(data, tmp_path):
    def args(out):
        return lm_args(data, out, "--epochs", str(EPOCHS), "--checkpoint-every", "5", "--deterministic",
                       "--eval", str(data / "corpus.txt"))
    _soak(args, tmp_path, _stops)


def test_two_replicas_resume_exactly(data, tmp_path):
    """The same through MirroredStrategy over 2 logical CPU devices (global batch 8)."""
    def args(out):
        return ["pretrain", "--preset", str(data / "bert.yaml"), "--task", "mlm+nsp",
                "--corpus", str(data / "corpus.txt"), "--vocab", str(data / "vocab.txt"), "--seq-length", "32",
                "--batch-size", "4", "--replicas", "2", "--epochs", "6", "--checkpoint-every", "4",
                "--output", str(out)]
    _soak(args, tmp_path, lambda per_epoch: [(per_epoch, KILL), (3 * per_epoch + 1, TERM)])
