"""``kerasllm vocab``: learn a BERT WordPiece vocab.txt from a corpus."""
import click

from kerasllm.cli import checks
from kerasllm.errors import DataError

SAMPLE_LINES = 2000  # lines tokenized to report the [UNK] rate
MAX_UNK_RATE = 0.5  # a vocabulary that leaves more of its own corpus unknown is not written


@click.command("vocab")
@click.option("--corpus", "corpus", multiple=True, required=True,
              help="Corpus file, glob or directory (.txt / .gz in BERT layout, or .jsonl); repeatable.")
@click.option("--size", default=8000, show_default=True, type=click.IntRange(min=6),
              help="Vocabulary size including [PAD] [UNK] [CLS] [SEP] [MASK] (BERT uses 30522).")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False),
              help="vocab.txt to write (one token per line, written atomically).")
@click.option("--cased", is_flag=True, help="Keep case and accents (cased BERT) instead of lowercasing.")
@click.option("--text-field", default="text", show_default=True, help="JSONL field that holds the text.")
@click.option("--learner", type=click.Choice(["tokenizers", "keras-hub"]), default="tokenizers",
              show_default=True,
              help="WordPiece trainer: HF tokenizers (Rust, fast) or keras-hub / tf-text (Python, slow).")
@click.option("--overwrite", is_flag=True, help="Replace an existing --output file.")
def vocab(corpus, size, output, cased, text_field, learner, overwrite):
    """Learn a WordPiece vocabulary: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4, then pieces."""
    from kerasllm.data.corpus import CorpusStats, iter_documents

    checks.corpus(corpus)
    checks.new_file(output, "--output", overwrite)
    stats = CorpusStats()
    lines = [line for doc in iter_documents(list(corpus), stats, text_field) for line in doc.lines]
    if not lines:
        raise DataError(f"--corpus {' '.join(corpus)}: no text to learn a vocabulary from "
                        f"({stats.summary()}); pass non-empty text files.")

    from kerasllm.data.tokenizer import WordPieceTokenizer
    from kerasllm.data.vocab import learn_vocabulary, write_vocabulary

    tokens = learn_vocabulary(lines, size, lowercase=not cased, strip_accents=not cased,
                              learner=learner)
    tokenizer = WordPieceTokenizer(tokens, lowercase=not cased, strip_accents=not cased)
    ids = tokenizer.tokenize(lines[:SAMPLE_LINES]).flat_values.numpy()
    unk_rate = float((ids == tokenizer.unk_id).mean()) if ids.size else 0.0
    if unk_rate > MAX_UNK_RATE:
        raise DataError(
            f"--corpus {' '.join(corpus)}: the learned vocabulary leaves {unk_rate:.0%} of the "
            f"corpus's own tokens [UNK] (a word longer than 100 characters is one [UNK]: is the "
            f"text split into words by spaces?); {output} not written.")
    write_vocabulary(tokens, output)
    pieces = sum(token.startswith("##") for token in tokens)
    click.echo(f"Corpus: {stats.summary()}")
    for warning in stats.warnings():
        click.echo(f"Warning: {warning}")
    note = "" if len(tokens) == size else f" (asked for {size}; the corpus has too few distinct pieces)"
    click.echo(f"Vocabulary: {len(tokens)} tokens{note}, {pieces} '##' continuation pieces, "
               f"{'cased' if cased else 'uncased'}; [UNK] rate {unk_rate:.2%} on "
               f"{min(len(lines), SAMPLE_LINES)} lines -> {output}")
