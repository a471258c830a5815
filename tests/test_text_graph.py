"""The one-graph inference path (kerasllm.text_graph) against the step-by-step path it replaced:
encode_texts (tokenize, pack eagerly) -> compiled model -> numpy pooling."""
import numpy as np
import pytest

from kerasllm import inference, text_graph
from kerasllm.data.length_batching import map_in_length_order
from tiny_runs import bert_run, sentences

# Lengths 0 to ~40 tokens: the empty text, and rows cut at seq_length 32.
TEXTS = ["", "dog"] + sentences(40, seed=3) + [" ".join(sentences(6, seed=4))]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    path = tmp_path_factory.mktemp("text-graph")
    return {"encoder": bert_run(path / "encoder", "encoder"),
            "classify": bert_run(path / "classify", "classify", labels=["no", "yes"])}


def step_by_step_embed(run, texts, batch_size, pooling, normalize):
    """What ``inference.embed`` did before: numpy arrays between every stage."""
    encoder = inference.bert_encoder(run)

    def pool(batch):
        hidden = np.asarray(inference.compiled(encoder)(batch)["sequence_output"])  # (B, T, H)
        if pooling == "cls":
            vectors = hidden[:, 0]
        else:
            mask = batch["padding_mask"].astype("float32")[:, :, None]  # (B, T, 1)
            vectors = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1.0)
        if normalize:
            vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)
        return vectors

    return map_in_length_order(pool, inference.encode_texts(run, texts), batch_size)


@pytest.mark.parametrize("pooling,normalize", [("mean", False), ("mean", True), ("cls", False)])
@pytest.mark.parametrize("batch_size", [1, 7, 64])
def test_embed_equals_the_step_by_step_path(runs, pooling, normalize, batch_size):
    run = runs["encoder"]
    expected = step_by_step_embed(run, TEXTS, batch_size, pooling, normalize)
    got = inference.embed(run, TEXTS, batch_size=batch_size, pooling=pooling, normalize=normalize)
    assert got.shape == expected.shape == (len(TEXTS), 16)
    np.testing.assert_allclose(got, expected, atol=1e-6, rtol=0)


def test_embed_of_one_text_equals_its_row_among_many(runs):
    run = runs["encoder"]
    many = inference.embed(run, TEXTS, batch_size=4)
    for i in (0, 1, 5, len(TEXTS) - 1):
        np.testing.assert_allclose(inference.embed(run, [TEXTS[i]])[0], many[i], atol=1e-6)


def test_predict_equals_the_step_by_step_path_with_and_without_pairs(runs):
    run = runs["classify"]
    model = inference.compiled(run.model)
    pairs = list(reversed(TEXTS))
    for second in (None, pairs):
        expected = map_in_length_order(lambda b: np.asarray(model(b)),
                                       inference.encode_texts(run, TEXTS, second), 8)
        probs, labels = inference.predict(run, TEXTS, second, batch_size=8)
        exp = np.exp(expected - expected.max(-1, keepdims=True))
        np.testing.assert_allclose(probs, exp / exp.sum(-1, keepdims=True), atol=1e-6)
        assert labels == [run.labels[i] for i in expected.argmax(-1)]


def test_one_trace_for_every_batch_size_and_length(runs):
    run = runs["encoder"]
    inference.embed(run, TEXTS[:1])  # builds (and traces) the cached function
    fn = text_graph.text_function(run, inference.bert_encoder(run), None, ("embed", "mean", False))
    before = fn.experimental_get_tracing_count()
    for texts, batch in ((TEXTS[:1], 32), (TEXTS[2:5], 32), (TEXTS, 5), (TEXTS, 64)):
        inference.embed(run, texts, batch_size=batch, pooling="mean", normalize=False)
    assert before == fn.experimental_get_tracing_count() == 1


def test_packed_lengths_are_the_packed_rows_real_tokens(runs):
    run = runs["encoder"]
    packed = inference.encode_texts(run, TEXTS, TEXTS[::-1])
    lengths = text_graph.packed_lengths(run.tokenizer, run.config["seq_length"], TEXTS, TEXTS[::-1])
    np.testing.assert_array_equal(lengths, packed["padding_mask"].sum(axis=1))


def test_classification_encode_texts_equals_eager_packing(runs):
    """The fine-tuning jobs' encode_texts (one traced graph per chunk) packs exactly as
    pack_inputs on eagerly tokenized texts, with and without pairs, across chunks."""
    from kerasllm.data.classification import ClassificationData, encode_texts
    from kerasllm.data.packing import pack_inputs

    tokenizer, rows = runs["encoder"].tokenizer, list(range(1, len(TEXTS) + 1))
    for pairs in (None, TEXTS[::-1]):
        data = ClassificationData("t", TEXTS, pairs, None, rows)
        expected = pack_inputs(tokenizer, tokenizer.tokenize(TEXTS),
                               None if pairs is None else tokenizer.tokenize(pairs), 32)
        got = encode_texts(data, tokenizer, 32, chunk_size=7)
        for key, value in expected.items():
            np.testing.assert_array_equal(got[key], value.numpy())


def test_a_graph_per_tokenizer_prints_no_retracing_warning(runs):
    """Jobs and the demo build a new tokenizer per stage; each gets its own traced graph,
    which must not read to TensorFlow as one function retraced over and over."""
    import logging

    import tensorflow as tf

    from kerasllm.data.tokenizer_loading import load_tokenizer

    messages = []

    class Keep(logging.Handler):
        def emit(self, record):
            messages.append(record.getMessage())

    handler = Keep()
    tf.get_logger().addHandler(handler)
    try:
        for width in range(20, 28):  # 8 tokenizers x 8 widths: 8 traces of one closure
            tokenizer = load_tokenizer(str(runs["encoder"].path))
            packed = text_graph.pack_function(tokenizer, width)(text_graph.strings(TEXTS[:3]))
            assert packed["token_ids"].shape == (3, width)
    finally:
        tf.get_logger().removeHandler(handler)
    assert not [m for m in messages if "retracing" in m]
