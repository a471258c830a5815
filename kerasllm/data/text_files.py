"""Write text files so that a crash or a full disk never leaves half a file behind."""
import os

from kerasllm.errors import DataError


def write_lines_atomically(path, lines):
    """Write ``lines`` (each gets a trailing newline) to ``path`` through a temporary file + rename."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise DataError(f"Output directory '{directory}' does not exist; create it first.")
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.writelines(line + "\n" for line in lines)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path
