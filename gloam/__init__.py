"""The `gloam` command (`gloam.cli`): the one place that opens both the runtime and
the editor, which never import each other."""
