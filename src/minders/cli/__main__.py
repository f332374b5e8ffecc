"""``python -m minders.cli``: the ``minders`` command."""

from minders.cli import main

main()
