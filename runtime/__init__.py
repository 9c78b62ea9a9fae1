"""The Gloam runtime: the daemon that stores ops in SQLite and serves live HTTP traffic.

For now it holds the `gloam` command line (`runtime.cli`); the daemon arrives
with the runtime issue. It depends on `shared_ast`, never on the editor.
"""
