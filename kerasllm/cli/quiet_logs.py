"""Keep TensorFlow's known start-up noise out of the CLI's stderr (``--verbose`` shows it).

TensorFlow's C++ core writes some lines straight to file descriptor 2 before
``TF_CPP_MIN_LOG_LEVEL`` is read ("All log messages before
absl::InitializeLog()", oneDNN and CUDA probing on CPU-only machines, NodeDef
attribute warnings). ``StderrFilter`` points fd 2 at a pipe for the life of
the command; a thread copies every line to the real stderr except those
known-noise lines. Anything else, ``Error:`` lines and Python warnings
included, passes through unchanged.
"""
import os
import re
import sys
import threading

# glog-style C++ log lines: "I0000 00:00:1796235676.050465    3224 port.cc:153] ..."
_CPP_LINE = re.compile(rb"^[IWE]\d{4} [\d:.]+\s+\d+ [\w./-]+:\d+\] ")
_KNOWN = re.compile(rb"absl::InitializeLog|oneDNN|cuda|cuInit|CUDA|NodeDef|cuDNN|cuFFT|cuBLAS|"
                    rb"TensorRT|TF-TRT|rebuild TensorFlow|computation_placer|local_rendezvous|"
                    rb"End of sequence|This TensorFlow binary is optimized")


def is_noise(line):
    """True for a known TensorFlow start-up / CPU-machine log line (bytes)."""
    if line.startswith(b"WARNING: All log messages before absl::InitializeLog()"):
        return True
    if _CPP_LINE.match(line):
        return line[:1] == b"I" or bool(_KNOWN.search(line))
    return False


class StderrFilter:
    """Filter fd 2 through ``is_noise`` between ``start()`` and ``stop()``."""

    def __init__(self):
        self.verbose = False
        self._saved = None
        self._thread = None

    def start(self):
        try:
            sys.stderr.flush()
            self._saved = os.dup(2)
            read_end, write_end = os.pipe()
            os.dup2(write_end, 2)
            os.close(write_end)
        except (OSError, ValueError, AttributeError):  # no real fd 2 (embedded, pytest capture)
            self._saved = None
            return self
        self._thread = threading.Thread(target=self._pump, args=(read_end,), daemon=True)
        self._thread.start()
        return self

    def _pump(self, read_end):
        with os.fdopen(read_end, "rb", buffering=0) as pipe:
            pending = b""
            while True:
                chunk = pipe.read(65536)
                if not chunk:
                    break
                lines = (pending + chunk).split(b"\n")
                pending = lines.pop()
                for line in lines:
                    if self.verbose or not is_noise(line):
                        os.write(self._saved, line + b"\n")
            if pending:
                os.write(self._saved, pending)

    def stop(self):
        if self._saved is None:
            return
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        os.dup2(self._saved, 2)  # closes the pipe's last write end: the pump sees EOF
        self._thread.join(timeout=5)
        if not self._thread.is_alive():  # a child may still hold the pipe: then keep the fd
            os.close(self._saved)
        self._saved = None


FILTER = StderrFilter()
