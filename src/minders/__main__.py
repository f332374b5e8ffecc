"""``python -m minders``: the ``minders`` command (as ``python -m minders.cli``)."""

from minders.cli import main

main()
