"""One place that turns user bytes into text: lenient UTF-8 and a binary-file check.

* ``decode_text`` accepts ``bytes`` or a ``str`` from ``sys.argv`` (where
  Python keeps undecodable bytes as lone surrogates) and returns valid text,
  with invalid UTF-8 replaced by U+FFFD, plus whether anything was replaced.
  Latin-1 text from old files and terminals then still runs, as it does in the
  corpus reader and the exported SavedModel.
* ``check_text_file`` refuses a file that is mostly invalid UTF-8 or control
  characters (random bytes, a zip, a model file passed as a corpus) before it
  becomes a garbage vocabulary, garbage examples or a meaningless metric.
"""
import gzip
import zlib

from kerasllm.errors import DataError

SNIFF_BYTES = 65536  # a file's first bytes tell text from binary
MAX_BAD_SHARE = 0.25  # more than this share of bad characters = not text (Latin-1 stays below)
ALLOWED_CONTROLS = frozenset("\t\n\r\f\v")


def decode_text(value):
    """``(text, replaced)``: ``value`` (bytes or str) as valid text, bad bytes -> U+FFFD."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value, False
        except UnicodeEncodeError:  # lone surrogates: argv bytes that were not UTF-8
            value = value.encode("utf-8", errors="surrogateescape")
    try:
        return value.decode("utf-8"), False
    except UnicodeDecodeError:
        return value.decode("utf-8", errors="replace"), True


def bad_share(data):
    """Share of characters in ``data`` (bytes) that are invalid UTF-8 or control characters."""
    text = data.decode("utf-8", errors="replace")
    if len(data) >= SNIFF_BYTES:  # a cut multi-byte character at the end is not an error
        text = text[:-4]
    if not text:
        return 0.0
    bad = sum(ch == "\ufffd" or (ch < " " and ch not in ALLOWED_CONTROLS) for ch in text)
    return bad / len(text)


def check_text_bytes(data, where):
    """Raise ``DataError`` naming ``where`` when ``data`` does not look like text."""
    share = bad_share(data[:SNIFF_BYTES])
    if share > MAX_BAD_SHARE:
        raise DataError(
            f"{where}: {share:.0%} of the first {min(len(data), SNIFF_BYTES):,} bytes are invalid "
            f"UTF-8 or control characters, so this is not a text file (binary data?); pass "
            f"UTF-8 text (a little Latin-1 is fine: bad bytes become U+FFFD).")


def check_text_file(path):
    """``check_text_bytes`` on the first bytes of ``path`` (``.gz`` read decompressed)."""
    path = str(path)
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read(SNIFF_BYTES)
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(f"{path}: cannot read corpus file ({err}). Check that it exists and, "
                        "for .gz, that it is a complete gzip file.") from None
    check_text_bytes(data, path)
