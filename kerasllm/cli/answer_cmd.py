"""``kerasllm answer``: extractive answers to questions about contexts, with a qa run."""
import json

import click

from kerasllm.cli import checks
from kerasllm.cli.text_inputs import gather_texts, read_input


@click.command("answer")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--question", "questions", multiple=True, help="A question; repeat for more.")
@click.option("--context", "contexts", multiple=True,
              help="The text to answer from; one per --question, or one for all of them.")
@click.option("--input", "input_file", default=None,
              help="JSONL / CSV / TSV file with 'question' and 'context' fields.")
@click.option("--max-answer-length", default=30, show_default=True, type=click.IntRange(min=1),
              help="Longest answer, in tokens.")
@click.option("--n-best", default=20, show_default=True, type=click.IntRange(min=1),
              help="Best starts and ends compared in each window.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of text.")
def answer(run_dir, questions, contexts, input_file, max_answer_length, n_best, as_json):
    """Answer each question from its context: answer text, score, character offsets."""
    checks.run_config(run_dir, "answer", tasks=("qa",),
                      need="a question-answering run (task qa)")
    questions = gather_texts(questions, what="--question") if questions else []
    contexts = gather_texts(contexts, what="--context") if contexts else []
    if len(contexts) == 1 and len(questions) > 1:
        contexts = contexts * len(questions)
    if input_file is not None:
        questions += read_input(input_file, "question")[0]
        contexts += read_input(input_file, "context")[0]
    if not questions:
        raise click.UsageError("Pass --question and --context, or --input FILE.")
    from kerasllm.answering import answer as find
    from kerasllm.runs import load_run

    results = find(load_run(run_dir), questions, contexts, n_best=n_best,
                   max_answer_length=max_answer_length)
    for question, result in zip(questions, results):
        if as_json:
            click.echo(json.dumps({"question": question, **result}, ensure_ascii=False))
        else:
            span = f"{result['start']}-{result['end']}" if result["answer"] else "-"
            click.echo(f"{result['answer'] or '(no answer)'}\t{result['score']:.4f}\t{span}\t"
                       f"{question}")
