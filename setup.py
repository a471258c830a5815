"""Build script: metadata lives in setup.cfg.

The YAML presets stay in the top-level ``configs/`` folder (where users and
docs look for them) and are installed as the ``kerasllm.configs`` package so an
installed kerasllm finds them without the source tree.
"""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["kerasllm", "kerasllm.*"]) + ["kerasllm.configs"],
    package_dir={"kerasllm.configs": "configs"},
    package_data={"kerasllm.configs": ["*.yaml"]},
)
