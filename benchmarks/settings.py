"""How big and how long each benchmark runs, per mode.

- ``full``  (default): the figures the README reports; about 50 min on 2 CPU cores.
- ``quick`` (--quick): the same benchmarks on the small sizes, a few minutes.
- ``tiny``  (--tiny):  seconds; shrunken configs for the smoke test only — its
  numbers say nothing about speed.
"""
import dataclasses
from typing import Dict, Optional, Tuple


@dataclasses.dataclass
class Settings:
    mode: str
    # 1 / 3: pretraining throughput and MFU
    bert_sizes: Tuple[str, ...] = ("bert_tiny", "bert_mini", "bert_small", "bert_base")
    # same global batch for every contender; smaller for the big sizes to fit the time budget on 2 cores
    batch_sizes: Dict[str, int] = dataclasses.field(
        default_factory=lambda: {"bert_small": 16, "bert_base": 8})
    default_batch: int = 32
    bert_overrides: Dict[str, object] = dataclasses.field(default_factory=dict)
    seq_length: int = 128
    num_masked: int = 20
    jit_options: Tuple[bool, ...] = (False, True)
    # sizes that reuse each contender's XLA choice from the previous size instead of probing
    xla_carry_over_sizes: Tuple[str, ...] = ("bert_base",)
    warmup: int = 1          # steps of the untimed first fit (tracing / XLA compilation)
    probe_steps: int = 2     # timed steps of the XLA off/on probe
    repeats: int = 3
    steps: int = 3           # timed steps per repeat
    mfu_sizes: Tuple[str, ...] = ("bert_mini", "bert_base")
    mfu_target_size: str = "bert_base"
    mfu_with_kerashub: bool = True   # also report keras-hub's MFU
    matmul_sizes: Tuple[int, ...] = (1024, 2048, 4096)
    matmul_repeats: int = 5
    # 2: fine-tuning on BBC News titles
    finetune_size: str = "bert_tiny"
    finetune_batch: int = 32
    finetune_repeats: int = 3       # timed end-to-end epochs
    finetune_examples: Optional[int] = None   # training titles per epoch (None = all 1,781)
    finetune_vocab_size: int = 8000
    finetune_torch_epochs: int = 3   # 11: epochs per timed run (one fit, as a user runs it)
    # 4: input pipeline vs the trainer (bert_mini, as the text-pipeline issue asks)
    pipeline_trainer_size: str = "bert_mini"
    pipeline_epochs: int = 3       # timed passes over the BBC training articles
    # 5: LSTM LM
    lstm_presets: Tuple[str, ...] = ("lstm_small", "lstm_medium")
    lstm_overrides: Dict[str, object] = dataclasses.field(default_factory=dict)
    lstm_steps: int = 10
    # 6: serving latency
    serving_calls: int = 200
    serving_presets: Tuple[str, ...] = ("bert_tiny", "bert_mini")
    # 7: memory (one subprocess per run)
    memory_size: str = "bert_base"
    memory_batch: int = 32
    memory_steps: int = 1         # the first step already allocates gradients + AdamW slots
    memory_runs: int = 2
    # 8: semantic search (all-MiniLM-L6-v2)
    search_embed_docs: int = 10_000   # really embedded: the index throughput figure
    search_sizes: Tuple[int, ...] = (10_000, 100_000)
    search_calls: int = 200
    search_export: bool = True        # also time the exported SavedModel's search signature

    # 9: `kerasllm finetune` on all-MiniLM-L6-v2 vs transformers (each run a fresh process)
    minilm_train: int = 1280
    minilm_test: int = 2000
    minilm_epochs: int = 3
    minilm_repeats: int = 2
    minilm_variants: Tuple[str, ...] = ("", "--jit", "--no-jit --precision float32")

    # 10-12: against transformers on PyTorch (torch_*.py); 10 uses batch_for(size), seq_length
    torch_sizes: Tuple[str, ...] = ("bert_tiny", "bert_mini", "bert_small", "bert_base")
    torch_modes: Tuple[str, ...] = ("eager", "compile")   # PyTorch's probe, like jit_options
    # sizes that reuse both sides' setting from the size before (probes cost minutes of XLA /
    # inductor compilation there; in section 1's full run kerasllm's choice at mini held at small and base)
    torch_carry_over_sizes: Tuple[str, ...] = ("bert_small", "bert_base")
    torch_repeats: int = 3
    torch_steps: int = 2
    # 12: inference ("minilm" = the real all-MiniLM-L6-v2 checkpoint)
    embed_sizes: Tuple[str, ...] = ("bert_mini", "bert_base", "minilm")
    embed_sentences: int = 2000
    # fewer for bert_base: 2,000 sentences take ~2 min per pass there on 2 cores
    embed_sentences_by_size: Dict[str, int] = dataclasses.field(
        default_factory=lambda: {"bert_base": 500})
    embed_batch: int = 32
    embed_repeats: int = 2
    embed_calls: int = 200        # single-sentence calls per contender for p50 / p99

    def batch_for(self, size):
        return self.batch_sizes.get(size, self.default_batch)


def full():
    return Settings(mode="full")


def quick():
    return Settings(
        mode="quick", bert_sizes=("bert_tiny", "bert_mini"), repeats=3, steps=2,
        mfu_sizes=("bert_mini",), mfu_target_size="bert_base", matmul_repeats=3,
        finetune_repeats=2, finetune_examples=320,
        finetune_vocab_size=4000, pipeline_epochs=2, lstm_presets=("lstm_small",),
        lstm_steps=5, serving_calls=50, serving_presets=("bert_tiny",), memory_size="bert_mini",
        memory_runs=1, search_embed_docs=1000, search_sizes=(10_000, 100_000), search_calls=50,
        search_export=False,
        minilm_repeats=1, minilm_epochs=2, minilm_variants=("",),
        torch_sizes=("bert_tiny", "bert_mini"), torch_carry_over_sizes=("bert_mini",), torch_steps=1,
        embed_sizes=("bert_mini", "minilm"), embed_sentences=500, embed_calls=300,
    )


def tiny():
    return Settings(
        mode="tiny", bert_sizes=("bert_tiny",), default_batch=4,
        bert_overrides={"vocabulary_size": 512, "max_sequence_length": 64},
        seq_length=32, num_masked=5, jit_options=(False,), warmup=1, probe_steps=1,
        repeats=2, steps=2, mfu_sizes=("bert_tiny",), mfu_target_size="bert_tiny",
        mfu_with_kerashub=False,
        matmul_sizes=(256, 512), matmul_repeats=2,
        finetune_batch=8, finetune_repeats=2, finetune_examples=64, finetune_torch_epochs=1,
        finetune_vocab_size=400, pipeline_epochs=1, pipeline_trainer_size="bert_tiny",
        lstm_presets=("lstm_small",),
        lstm_overrides={"vocabulary_size": 200, "embedding_dim": 16, "units": 16},
        lstm_steps=3, serving_calls=10, serving_presets=("bert_tiny",), memory_size="bert_tiny",
        memory_batch=4,
        memory_steps=1, memory_runs=1, search_embed_docs=40, search_sizes=(100,),
        search_calls=5, search_export=True,
        minilm_train=64, minilm_test=64, minilm_epochs=1,
        minilm_repeats=1, minilm_variants=("",),
        torch_sizes=("bert_tiny",), torch_modes=("eager",), torch_repeats=2, torch_steps=2,
        embed_sizes=("bert_tiny", "minilm"), embed_sentences=40, embed_batch=8, embed_repeats=1,
        embed_calls=5,
    )


MODES = {"full": full, "quick": quick, "tiny": tiny}
