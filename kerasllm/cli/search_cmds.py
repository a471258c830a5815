"""``kerasllm index`` and ``kerasllm search``: semantic search with a sentence encoder.

``index`` embeds the documents of ``--corpus`` files (one per line, the
``--column`` of a .jsonl / .csv / .tsv, or each file whole with
``--whole-files``) into INDEX_DIR, chunk by chunk with a progress bar; run it
again with more files and only new documents are embedded. ``search`` prints
the ``--top-k`` most similar documents with their cosine scores.
"""
import json
from pathlib import Path

import click

from kerasllm.cli import checks
from kerasllm.cli.text_inputs import COLUMN, read_input, warn_replaced


def _documents(files, column, whole_files):
    """``(id, text)`` pairs: ``FILE:N`` for the N-th text of FILE, or FILE when whole."""
    from kerasllm.data.text_decoding import decode_text

    documents, replaced = [], 0
    for path in files:
        if whole_files:
            text, count = decode_text(Path(path).read_bytes())
            replaced += count
            documents += [(str(path), text.strip())] if text.strip() else []
            continue
        texts, count = read_input(path, column)
        replaced += count
        documents += [(f"{path}:{n}", t.strip()) for n, t in enumerate(texts, start=1)
                      if t.strip()]
    warn_replaced(replaced)
    return documents


@click.command("index")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--corpus", "corpus", multiple=True, required=True,
              help="Document file(s), glob(s) or directories; repeat for more.")
@click.option("--output", "output", required=True, type=click.Path(file_okay=False),
              help="INDEX_DIR to create, or to add new documents to.")
@COLUMN
@click.option("--whole-files", is_flag=True,
              help="Each file is one document (e.g. a folder of articles), not one per line.")
@click.option("--chunk-size", default=256, show_default=True, type=click.IntRange(min=1),
              help="Documents embedded and saved together: the most an interruption loses.")
@click.option("--batch-size", default=32, show_default=True, type=click.IntRange(min=1))
def index(run_dir, corpus, output, column, whole_files, chunk_size, batch_size):
    """Embed the documents of --corpus with sentence encoder RUN_DIR into INDEX_DIR."""
    checks.run_config(run_dir, "index", family="bert",
                      need="a BERT sentence encoder run (e.g. kerasllm import-hf all-MiniLM-L6-v2)")
    checks.output_dir(output)
    files = checks.corpus(corpus)
    documents = _documents(files, column, whole_files)
    from kerasllm.runs import load_run
    from kerasllm.search import build_index

    run = load_run(run_dir)
    with click.progressbar(length=len(documents), label="embedding", show_pos=True) as bar:
        done = [0]

        def progress(count, total):
            bar.update(count - done[0])
            done[0] = count

        result, added = build_index(run, documents, output, chunk_size=chunk_size,
                                    batch_size=batch_size, progress=progress)
    click.echo(f"Indexed {added} new document(s) ({len(documents) - added} already there); "
               f"{len(result)} in {output}")


@click.command("search")
@click.argument("index_dir", type=click.Path(file_okay=False))
@click.argument("query", nargs=-1, required=True)
@click.option("--top-k", default=5, show_default=True, type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of text.")
def search(index_dir, query, top_k, as_json):
    """Print the INDEX_DIR documents most similar to QUERY (one or more query texts)."""
    from kerasllm.search import SemanticIndex

    found = SemanticIndex.load(index_dir)
    run_dir = found.info["run_dir"]
    checks.run_config(run_dir, "search", family="bert")
    from kerasllm.runs import load_run
    from kerasllm.search import search_texts

    results = search_texts(found, load_run(run_dir), list(query), top_k)
    for number, (text, hits) in enumerate(zip(query, results)):
        if as_json:
            click.echo(json.dumps({"query": text, "results": [
                {"id": i, "text": t, "score": s} for i, t, s in hits]}, ensure_ascii=False))
            continue
        if len(query) > 1:
            click.echo(("\n" if number else "") + f"query: {text}")
        for doc_id, doc_text, score in hits:
            click.echo(f"{score:.4f}  {doc_id}  {doc_text[:100]}")
