"""Sentences for tests on the bundled all-MiniLM-L6-v2 (the ``minilm_run`` fixture is in
conftest.py): two paraphrases and one unrelated text."""
SIMILAR = ["A man is playing a guitar.", "Someone plays the guitar on stage."]
UNRELATED = "The central bank raised interest rates again."
