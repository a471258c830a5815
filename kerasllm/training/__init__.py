"""Training: tf.distribute strategy, optimizers, callbacks, crash-safe fit, and the jobs.

The three jobs, from Python, with the CLI's defaults and checks::

    import kerasllm.training as training

    training.pretrain(corpus="small.txt", output="run", steps=1000)
    training.finetune(init="run", train="train.csv", output="clf")
    training.train_lm(corpus="ptb.train.txt", output="lm", preset="lstm_small")

Each takes keyword arguments named like the flags (``seq_length`` for ``--seq-length``),
an options object (``PretrainOptions``, ``FinetuneOptions``, ``TrainLMOptions``) and / or
``config=`` a ``--config`` YAML file, and returns the metrics dict. A bad value raises
``KerasLLMError`` with the line the CLI prints. This package import stays cheap:
TensorFlow loads when a job starts.
"""


def pretrain(options=None, *, config=None, **values):
    """Run ``kerasllm pretrain``; see ``kerasllm.training.pretrain_options.PretrainOptions``."""
    from kerasllm.training.pretrain_options import PretrainOptions

    return PretrainOptions.build(options, config, **values).run()


def finetune(options=None, *, config=None, **values):
    """Run ``kerasllm finetune``; see ``kerasllm.training.finetune_options.FinetuneOptions``."""
    from kerasllm.training.finetune_options import FinetuneOptions

    return FinetuneOptions.build(options, config, **values).run()


def train_lm(options=None, *, config=None, **values):
    """Run ``kerasllm train-lm``; see ``kerasllm.training.lm_options.TrainLMOptions``."""
    from kerasllm.training.lm_options import TrainLMOptions

    return TrainLMOptions.build(options, config, **values).run()
