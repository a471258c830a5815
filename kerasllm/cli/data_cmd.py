"""``kerasllm data pretrain``: a corpus -> BERT pretraining TFRecord shards."""
import click

from kerasllm.cli import checks
from kerasllm.errors import DataError

DEFAULT_SEQ_LENGTH = 128  # as PretrainingConfig's (not imported here: it loads TensorFlow)


@click.group()
def data():
    """Build training data files from text corpora."""


@data.command()
@click.option("--corpus", "corpus", multiple=True, required=True,
              help="Text (.txt/.gz, a sentence per line, blank line between documents) or .jsonl; glob, "
                   "directory or file. Repeat for more.")
@click.option("--vocab", "vocab_file", required=True, type=click.Path(), help="BERT vocab.txt.")
@click.option("--output", "output_dir", required=True, type=click.Path(), help="Directory for the shards.")
@click.option("--seq-length", default=None, type=click.IntRange(5, checks.BERT_MAX_SEQ_LENGTH),
              help=f"Tokens per sequence; BERT models hold at most 512. [default: {DEFAULT_SEQ_LENGTH}]")
@click.option("--max-seq-length", "old_seq_length", hidden=True, default=None,
              type=click.IntRange(5, checks.BERT_MAX_SEQ_LENGTH), help="The old name of --seq-length.")
@click.option("--max-predictions", default=20, show_default=True, type=int, help="Max masked tokens per sequence.")
@click.option("--masked-lm-prob", default=0.15, show_default=True, type=float)
@click.option("--dupe-factor", default=5, show_default=True, type=int, help="Passes with different masks.")
@click.option("--short-seq-prob", default=0.1, show_default=True, type=float)
@click.option("--seed", default=12345, show_default=True, type=int, help="Same seed => byte-identical shards.")
@click.option("--whole-word-masking", is_flag=True, help="Mask all ## pieces of a word together.")
@click.option("--task", default="nsp", show_default=True, type=click.Choice(["nsp", "sop"]),
              help="nsp: label 1 = B from another document; sop: label 1 = A and B swapped.")
@click.option("--shards", "num_shards", default=1, show_default=True, type=int)
@click.option("--cased", is_flag=True, help="Keep case and accents (cased vocabularies).")
def pretrain(corpus, vocab_file, output_dir, seq_length, old_seq_length, max_predictions, masked_lm_prob,
             dupe_factor, short_seq_prob, seed, whole_word_masking, task, num_shards, cased):
    """Write masked-LM + next-sentence (or sentence-order) examples as TFRecords
    with google-research/bert's features, then print a summary. The --vocab is
    copied beside the shards, so `kerasllm pretrain --examples DIR` finds it."""
    seq_length = checks.renamed_option(seq_length, old_seq_length, "--seq-length", "--max-seq-length",
                                       DEFAULT_SEQ_LENGTH)
    checks.output_dir(output_dir)
    checks.vocab_file(vocab_file)
    checks.corpus(corpus)
    from kerasllm.data.corpus import CorpusStats, read_documents
    from kerasllm.data.masking import VocabularyInfo
    from kerasllm.data.pretraining_examples import PretrainingConfig
    from kerasllm.data.tfrecords import write_pretraining_shards
    from kerasllm.data.tokenized_corpus import TokenizedCorpus
    from kerasllm.data.tokenizer import WordPieceTokenizer

    config = PretrainingConfig(
        seq_length=seq_length, max_predictions=max_predictions, masked_lm_prob=masked_lm_prob,
        short_seq_prob=short_seq_prob, dupe_factor=dupe_factor, task=task,
        whole_word_masking=whole_word_masking, seed=seed).validate("kerasllm data pretrain", as_flags=True)
    if num_shards < 1:
        raise DataError(f"--shards must be >= 1; received {num_shards}.")
    tokenizer = WordPieceTokenizer(vocab_file, lowercase=not cased, strip_accents=not cased)
    stats = CorpusStats()
    documents = read_documents(list(corpus), stats)
    click.echo(f"corpus: {stats.summary()}")
    for warning in stats.warnings():
        click.echo(f"Warning: {warning}")
    tokens = TokenizedCorpus.from_documents(documents, tokenizer)
    summary = write_pretraining_shards(tokens, VocabularyInfo.from_tokenizer(tokenizer), output_dir, config,
                                       num_shards=num_shards)
    from kerasllm.data.pretraining_summary import VOCAB_FILE
    from kerasllm.data.text_files import write_lines_atomically

    with open(vocab_file, encoding="utf-8") as f:
        write_lines_atomically(f"{output_dir}/{VOCAB_FILE}", f.read().splitlines())
    click.echo(f"wrote {len(summary.shards)} shard(s) and {VOCAB_FILE} to {output_dir}")
    for line in summary.lines():
        click.echo(line)
