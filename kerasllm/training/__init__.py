"""Training: tf.distribute strategy, optimizers, callbacks, crash-safe fit, and the jobs.

Import the submodules you need (``kerasllm.training.pretrain`` etc.); this
package import stays cheap.
"""
