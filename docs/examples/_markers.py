"""The one rule of the generated parts of the docs: the text between two markers.

The generator scripts beside this file import it (a script's own folder is on
``sys.path``; ``tests/conftest.py`` puts this folder there for the tests that
load the scripts by path).
"""

from __future__ import annotations


def replace_between(text: str, start: str, end: str, body: str) -> str:
    r"""``text`` with what lies between ``start`` and the next ``end`` replaced by ``body``.

    The markers stay, each on its own line around ``body``. Raises ``ValueError``
    where ``start``, or an ``end`` after it, is missing.

    Examples
    --------
    >>> replace_between("a <s>\nold\n<e> b", "<s>", "<e>", "new")
    'a <s>\nnew\n<e> b'
    """
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body}\n{end}{tail}"
