"""One job at a time per RUN_DIR: an advisory lock file, held while the job runs.

Why: two jobs writing one RUN_DIR (a command started twice, a scheduler's retry
while the first attempt still runs, a wrapper script killed while its job lives
on) interleave checkpoints and metrics, and the second one's resume reads the
first one's half-written state. A job takes ``RUN_DIR/.lock`` with ``flock``
before it touches anything there; a second job on the same RUN_DIR stops at once
with one line naming the holder. The operating system drops the lock when the
holder's process ends in any way (kill -9 included), so a killed run never
leaves a stale lock behind and its re-run resumes as before. A job that ends
removes the file (a killed one leaves it, unlocked, for the next job to take).

Only the chief of a multi-worker job writes RUN_DIR, so only the chief locks.
On a filesystem without ``flock`` support the job runs unlocked, as before.
"""
import errno
import fcntl
import os
import socket
import time
from pathlib import Path

from kerasllm.errors import KerasLLMError

LOCK_FILE = ".lock"


class RunLock:
    """The held lock; ``release()`` gives it back (also safe to call twice)."""

    def __init__(self, path, handle):
        self.path, self._handle = path, handle

    def release(self):
        if self._handle is not None:
            if _same_file(self._handle, self.path):
                self.path.unlink()  # before unlocking: a job that opened it re-opens (_take)
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def _same_file(handle, path):
    """Is the open ``handle`` still the file at ``path`` (not removed or replaced)?"""
    try:
        return os.fstat(handle.fileno()).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def lock_run_dir(path):
    """Create RUN_DIR ``path`` if needed and lock it; returns a ``RunLock``, or None
    when ``path`` is not a directory (the run-dir checks say so) or the filesystem
    cannot lock. Raises ``KerasLLMError`` when another job holds the lock."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        return None
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise KerasLLMError(f"--output {path}: cannot create it ({error.strerror}); "
                            f"choose a path you can write.") from None
    lock_path = path / LOCK_FILE
    for _ in range(10):  # the file can be removed by its holder between our open and flock
        handle = _take(lock_path, path)
        if handle is None:
            return None
        if _same_file(handle, lock_path):
            break
        handle.close()
    else:
        return None  # replaced under us again and again: run unlocked rather than fail
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()} on {socket.gethostname()}, since "
                 f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime())}\n")
    handle.flush()
    return RunLock(lock_path, handle)


def _take(lock_path, path):
    """The locked handle of ``lock_path``; None when the filesystem cannot lock (or the
    file cannot be opened: a read-only RUN_DIR fails later with its own message)."""
    try:
        handle = open(lock_path, "a+")
    except OSError:
        return None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return handle
    except OSError as error:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise KerasLLMError(
                f"--output {path}: another kerasllm job is writing this run ({holder}); "
                f"wait for it to finish or stop it, or choose another --output.") from None
        return None  # no flock here (some network filesystems): run unlocked
