"""The Gloam runtime: a control process and traffic workers that store ops durably
and serve live HTTP traffic (`docs/architecture.md`).

It depends on `shared_ast`, never on the editor nor on the `gloam` command
(`tests/test_layering.py`). `python -m runtime serve` runs it in the foreground.
"""
