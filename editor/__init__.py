"""The Gloam structure editor (PySide6 + qasync).

It edits typed-hole ASTs directly and sends each edit to the runtime as ops over
the wire protocol; it never imports the runtime's internals.
"""
