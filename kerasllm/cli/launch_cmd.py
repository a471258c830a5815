"""``kerasllm launch --workers N -- pretrain ...``: N local worker processes, one job.

Each worker is ``kerasllm <job> ...`` with its own ``TF_CONFIG`` (one shared
cluster of free localhost ports, ``task.index`` = its rank; rank 0 is the
chief), so the job runs under ``MultiWorkerMirroredStrategy`` exactly as it
would on N hosts. Their output is streamed line by line with a
``[worker i]`` prefix. SIGTERM / SIGINT to the launcher go to every worker
once (the workers run in their own sessions, so a terminal's Ctrl-C is not
delivered twice). The launcher exits with the first non-zero worker status
(143 when the job was preempted by SIGTERM, 137 for a worker killed by -9),
0 when every worker finished.

Imports no TensorFlow: the launcher only starts and watches processes.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import click

from kerasllm.errors import KerasLLMError

JOBS = ("pretrain", "finetune", "train-lm")
# After the first worker fails, the others get this long to notice (their
# collective timeout) and stop by themselves before the launcher kills them.
GRACE_S = float(os.environ.get("KERASLLM_LAUNCH_GRACE_S", "180"))


def free_ports(n, host="127.0.0.1"):
    """``n`` distinct ports that were free a moment ago on ``host``."""
    sockets = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind((host, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def tf_config(hosts, index):
    """The ``TF_CONFIG`` of worker ``index`` in a cluster of ``hosts`` (``host:port``)."""
    return json.dumps({"cluster": {"worker": list(hosts)}, "task": {"type": "worker", "index": index}})


def _gpu_slice(index, per_worker):
    """``CUDA_VISIBLE_DEVICES`` for worker ``index``: its own ``per_worker`` GPUs."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    ids = visible.split(",") if visible else [str(i) for i in range(1 << 10)]
    return ",".join(ids[index * per_worker:(index + 1) * per_worker])


def worker_env(hosts, index, per_worker, threads):
    env = {**os.environ, "TF_CONFIG": tf_config(hosts, index), "PYTHONUNBUFFERED": "1",
           "CUDA_VISIBLE_DEVICES": _gpu_slice(index, per_worker),
           "KERASLLM_REPLICAS_PER_WORKER": str(per_worker)}
    if threads:
        env.update({"TF_NUM_INTRAOP_THREADS": str(threads), "TF_NUM_INTEROP_THREADS": "1",
                    "OMP_NUM_THREADS": str(threads)})
    return env


class Workers:
    """The running worker processes, their output pumps and the exit status to report."""

    def __init__(self, command, workers, per_worker, threads):
        hosts = [f"127.0.0.1:{port}" for port in free_ports(workers)]
        self.lock = threading.Lock()
        self.first_failure = None  # (rank, exit status) of the first worker to fail
        self.procs = [
            subprocess.Popen([sys.executable, "-m", "kerasllm.cli.main", *command],
                             env=worker_env(hosts, i, per_worker, threads), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, bufsize=1, start_new_session=True)
            for i in range(workers)]
        self.pumps = [threading.Thread(target=self._pump, args=(i, p), daemon=True)
                      for i, p in enumerate(self.procs)]
        for pump in self.pumps:
            pump.start()

    def _pump(self, rank, proc):
        for line in proc.stdout:
            with self.lock:
                sys.stdout.write(f"[worker {rank}] {line}")
                sys.stdout.flush()

    def signal_all(self, signum, frame=None):
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signum)

    def wait(self):
        """Wait for every worker; returns the launcher's exit status."""
        pending, deadline = set(range(len(self.procs))), None
        while pending:
            for rank in sorted(pending):
                code = self.procs[rank].poll()
                if code is None:
                    continue
                pending.discard(rank)
                if code:
                    with self.lock:
                        click.echo(f"launch: worker {rank} exited with status "
                                   f"{128 - code if code < 0 else code}", err=True)
                if code and self.first_failure is None:
                    self.first_failure = (rank, 128 - code if code < 0 else code)
                    deadline = time.monotonic() + GRACE_S
            if deadline is not None and pending and time.monotonic() > deadline:
                with self.lock:
                    click.echo(f"launch: workers {sorted(pending)} still running {GRACE_S:.0f} s after "
                               f"worker {self.first_failure[0]} failed; killing them", err=True)
                self.signal_all(signal.SIGKILL)
                deadline = None
            time.sleep(0.05)
        for pump in self.pumps:
            pump.join(timeout=5)
        return self.first_failure[1] if self.first_failure else 0


@click.command("launch", context_settings={"ignore_unknown_options": True,
                                          "allow_interspersed_args": False})
@click.option("--workers", type=click.IntRange(min=1), required=True,
              help="Number of worker processes (rank 0 is the chief; it alone writes RUN_DIR).")
@click.option("--replicas-per-worker", type=click.IntRange(min=1), default=1, show_default=True,
              help="GPUs per worker (each worker sees its own slice of CUDA_VISIBLE_DEVICES); "
                   "1 on a CPU-only machine.")
@click.option("--threads-per-worker", type=click.IntRange(min=1), default=None,
              help="TensorFlow intra-op threads per worker, so CPU workers do not fight "
                   "[default: TensorFlow's own choice].")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def launch(workers, replicas_per_worker, threads_per_worker, command):
    """Run a training job as WORKERS local processes under MultiWorkerMirroredStrategy.

    Example: kerasllm launch --workers 2 -- pretrain --corpus 'data/*.txt' --output runs/mlm

    The job's --batch-size stays per replica: the global batch is it x workers
    x replicas per worker. Re-running the same command resumes from the last
    checkpoint in --output.
    """
    if not command or command[0] not in JOBS:
        got = f"'{command[0]}'" if command else "nothing"
        raise KerasLLMError(f"launch runs a training job; expected one of {', '.join(JOBS)} after "
                            f"'--', received {got} (e.g. kerasllm launch --workers 2 -- pretrain ...).")
    if "--replicas" in command or any(a.startswith("--replicas=") for a in command):
        raise KerasLLMError("launch: give --replicas-per-worker to launch, not --replicas to the job.")
    group = Workers(command, workers, replicas_per_worker, threads_per_worker)
    previous = {s: signal.signal(s, group.signal_all) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        code = group.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    sys.exit(code)
