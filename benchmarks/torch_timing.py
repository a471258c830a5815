"""The PyTorch side of the transformers comparisons: threads, device, and a step timer.

``TorchTimer`` has ``FitTimer``'s interface (``warm_up(steps)``, ``repeat(steps)``,
``step_times``, ``stat()``, ``jit_compile`` naming the chosen mode), so
``common.alternate`` round-robins Keras and PyTorch contenders in one process and
``common.best_setting(..., timer_class=TorchTimer)`` probes PyTorch's modes:
``"eager"`` and ``"compile"`` (``torch.compile``, the inductor backend).

Threads: PyTorch gets ``torch.set_num_threads(cores)``, the cores this process may
use — the size of TensorFlow's default intra-op pool — so both sides compute on the
same number of threads. Device: a CUDA GPU when PyTorch sees one (with bfloat16
autocast there, as the Keras side trains under ``mixed_bfloat16`` on a GPU), else the CPU.
"""
import contextlib
import os
import time

import common  # noqa: F401  (environment + sys.path set-up)
from common import FitTimer

MODES = ("eager", "compile")


def torch_threads():
    """Set PyTorch's intra-op threads to this process's cores; returns the count."""
    import torch
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    torch.set_num_threads(cores)
    return cores


def device():
    import torch
    return "cuda" if torch.cuda.is_available() else "cpu"


def autocast():
    """bfloat16 autocast on a GPU (the Keras side's ``mixed_bfloat16``); float32 on a CPU."""
    import torch
    if device() == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


class Trainable:
    """A transformers model with its AdamW, run eagerly or through ``torch.compile``.

    ``step(batch)`` is one training step on a dict of tensors that includes the labels
    (transformers computes its own loss); it returns the loss, detached.
    """

    def __init__(self, model, optimizer, mode):
        if mode not in MODES:
            raise ValueError(f"PyTorch mode {mode!r}: choose from {', '.join(MODES)}.")
        import torch
        self.model, self.optimizer, self.mode = model, optimizer, mode
        self.forward = torch.compile(model) if mode == "compile" else model

    def step(self, batch):
        with autocast():
            loss = self.forward(**batch).loss
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return loss.detach()


class TorchTimer(FitTimer):
    """Times ``Trainable.step`` over fixed batches; one repeat = ``steps + 1`` steps,
    the first not timed, each step's loss read (the step has finished) before the clock."""

    def __init__(self, trainable, batches):
        super().__init__(trainable.model, batches)
        self.trainable = trainable
        self.jit_compile = trainable.mode
        self._next = 0

    def _fit(self, steps):
        self.trainable.model.train()
        ends = []
        for _ in range(steps):
            loss = self.trainable.step(self.dataset[self._next % len(self.dataset)])
            self._next += 1
            float(loss)  # waits for the step (a GPU runs asynchronously)
            ends.append(time.perf_counter())
        return ends


def mode_text(chosen, probes):
    """'compile (probe eager 120 ms, compile 95 ms)' — the PyTorch twin of ``xla_text``."""
    detail = ", ".join(f"{mode} {seconds * 1e3:.0f} ms" for mode, seconds in probes.items())
    return f"{chosen} (probe {detail})"
