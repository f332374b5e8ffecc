"""Seeded generator of fuzz cases: mutated scenario, experiment and graph files, and flags.

A case is fully determined by its id: ``g:SEED`` (a generated case; the seed
drives one ``random.Random``) or ``k:NAME`` (a named regression case of
:data:`KNOWN`). The harness regenerates a case from its id in the worker
process, so a failure is reproduced with ``python -m tests.fuzz --case g:SEED``.
"""

from __future__ import annotations

import copy
import json
import math
import random
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

BUNDLED = Path(__file__).resolve().parents[2] / "src" / "minders" / "scenarios"


@dataclass
class Case:
    """One fuzz case: files to write into a fresh folder and what to run on them.

    ``argv`` is a ``minders`` command line (``{dir}`` is the case's folder);
    ``target`` is ``"cli"`` (run ``minders.cli.main``) or ``"experiment"``
    (``load_experiment`` then ``build_sweep`` on ``files``' first file).
    """

    id: str
    kind: str
    category: str
    files: dict[str, bytes] = field(default_factory=dict)
    argv: list[str] = field(default_factory=list)
    target: str = "cli"
    #: Reason the case is expected to fail (a bug outside this branch's files), or None.
    xfail: str | None = None


# --------------------------------------------------------------------------- bases
def _load(name: str) -> dict[str, Any]:
    return tomllib.loads((BUNDLED / name).read_text())


def scenario_bases() -> dict[str, dict[str, Any]]:
    """Every bundled scenario, by file name."""
    return {p.name: _load(p.name) for p in sorted(BUNDLED.glob("*.toml"))}


def experiment_bases() -> dict[str, dict[str, Any]]:
    """Every bundled experiment, by file name."""
    return {p.name: _load(f"experiments/{p.name}")
            for p in sorted((BUNDLED / "experiments").glob("*.toml"))}


def small_minders() -> dict[str, Any]:
    """Pyongyang at a tiny scale and without burn-in: runs 2 steps in well under a second."""
    data = _load("pyongyang.toml")
    data["tiers"]["residents"]["size"] = 300
    data["tiers"]["elites"]["size"] = 30
    data["run"]["burn_in"] = 0
    return data


def small_bases() -> dict[str, dict[str, Any]]:
    """One small, quick scenario per kind (the ones generated cases may run)."""
    bases = {"minders": small_minders()}
    for kind, name in [("epstein", "epstein_model1.toml"), ("epstein2", "epstein_model2.toml"),
                       ("granovetter", "granovetter_riot.toml"),
                       ("watts", "watts_er.toml"), ("kuran", "kuran_revolution.toml")]:
        bases[kind] = _load(name)
    bases["epstein"]["grid"].update(width=20, height=20)
    bases["epstein2"]["grid"].update(width=20, height=20)
    bases["watts"]["network"]["nodes"] = 500
    bases["kuran"]["population"]["size"] = 500
    return bases


# --------------------------------------------------------------------------- serialisers
def _toml_string(text: str) -> str:
    out = json.dumps(text, ensure_ascii=False)
    return out.replace("\x7f", "\\u007f")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        items = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items() if v is not None]
        return "{" + ", ".join(items) + "}"
    return _toml_string(str(value))


def _toml_key(key: Any) -> str:
    key = str(key)
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_string(key)


def to_toml(data: dict[str, Any]) -> str:
    """TOML text of ``data``: scalars first, then one ``[table]`` per top-level mapping."""
    lines, tables = [], []
    for key, value in data.items():
        if value is None:
            continue
        if isinstance(value, dict) and value:
            tables.append((key, value))
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for key, value in tables:
        lines.append(f"\n[{_toml_key(key)}]")
        lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items() if v is not None]
    return "\n".join(lines) + "\n"


def to_yaml(data: Any) -> str:
    """YAML text of ``data`` (block style, unicode kept)."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10**6)


DEEP = re.compile(r"""["']?__DEEP__(\d+)["']?""")


def _expand_deep(text: str) -> str:
    """Replace ``__DEEP__N`` placeholders by a value nested N lists deep (both formats)."""
    return DEEP.sub(lambda m: "[" * int(m.group(1)) + "1" + "]" * int(m.group(1)), text)


def serialise(data: dict[str, Any], fmt: str) -> bytes:
    """``data`` as TOML or YAML bytes, with deep-nesting placeholders expanded."""
    text = to_toml(data) if fmt == "toml" else to_yaml(data)
    return _expand_deep(text).encode("utf-8", "surrogatepass")


# --------------------------------------------------------------------------- value pools
MARKUP = ["[/]", "[/bold]", "[bold red]x[/]", "[link=x]y", "[", "]", "\\[x]"]
STRINGS = ["", " ", "x" * 5000, "ünïcödé ☃ 𝔘𝔫𝔦", "\x00", "\t\n", "auto", "nan", "inf",
           "1e308", "-1", "10**20", "a.b.c", "../../etc/passwd", "\u202e", *MARKUP]
NUMBERS: list[Any] = [0, -1, 1, 2, 3, 2**31 - 1, 2**31, 2**32, 2**63 - 1, 2**63, 2**64, 10**8,
                      10**12, 10**20, 10**100, -(2**63), 0.0, -0.0, 0.5, 1.5, -0.5, 1e-308,
                      5e-324, 1e308, -1e308, float("nan"), float("inf"), float("-inf")]


def random_value(rng: random.Random, depth: int = 0) -> Any:
    """A value of a random type, biased towards extremes."""
    pick = rng.random()
    if pick < 0.45:
        return rng.choice(NUMBERS)
    if pick < 0.7:
        return rng.choice(STRINGS)
    if pick < 0.75:
        return rng.choice([True, False])
    if pick < 0.8:
        return None
    if depth > 1:
        return rng.choice(NUMBERS)
    if pick < 0.9:
        size = rng.choice([0, 1, 2, 3, 1000])
        return [random_value(rng, 2 if size > 3 else depth + 1) for _ in range(size)]
    return {rng.choice(["kind", "a", "b", "low", "high", "mean", "sd", "x", "[/]"]):
            random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def typo(rng: random.Random, key: str) -> str:
    """A plausible misspelling of ``key``."""
    if not key:
        return "x"
    i = rng.randrange(len(key))
    op = rng.randrange(5)
    if op == 0:
        return key[:i] + key[i + 1:] or "x"
    if op == 1:
        return key[:i] + key[i] + key[i:]
    if op == 2 and len(key) > 1:
        j = min(i + 1, len(key) - 1)
        chars = list(key)
        chars[i], chars[j] = chars[j], chars[i]
        return "".join(chars) if "".join(chars) != key else key + "s"
    if op == 3:
        return key.upper()
    return key + rng.choice(["s", "_", "[/]", "é"])


# --------------------------------------------------------------------------- tree mutations
def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (tuple of keys / indices) in ``data``, the root excluded."""
    out = []
    if isinstance(data, dict):
        items = list(data.items())
    elif isinstance(data, list):
        items = list(enumerate(data))[:50]
    else:
        return out
    for key, value in items:
        out.append((*prefix, key))
        out += _paths(value, (*prefix, key))
    return out


def _get(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part]
    return data


def mutate_tree(rng: random.Random, data: dict[str, Any], fmt: str) -> str:
    """Apply one random structural mutation to ``data`` in place; return its name."""
    paths = _paths(data)
    if not paths:
        data["x"] = random_value(rng)
        return "add"
    path = rng.choice(paths)
    parent = _get(data, path[:-1])
    last = path[-1]
    op = rng.choice(["delete", "rename", "value", "value", "value", "swap_shape", "add",
                     "deep", "kind"])
    if op == "delete":
        del parent[last]
    elif op == "rename" and isinstance(parent, dict):
        parent[typo(rng, str(last))] = parent.pop(last)
    elif op == "value":
        parent[last] = random_value(rng)
    elif op == "swap_shape":
        value = parent[last]
        if isinstance(value, dict):
            parent[last] = list(value.values()) if rng.random() < 0.5 else list(value.items())
        elif isinstance(value, list):
            parent[last] = {str(i): v for i, v in enumerate(value)}
        else:
            parent[last] = rng.choice([[value], {"value": value}, {}, []])
    elif op == "add" and isinstance(parent, dict):
        parent[rng.choice(["extra", "x", "[/bold]", typo(rng, str(last))])] = random_value(rng)
    elif op == "deep":
        parent[last] = f"__DEEP__{rng.choice([2, 10, 31, 33, 100, 1000, 5000])}"
    elif op == "kind":
        target = data if rng.random() < 0.5 else parent
        if isinstance(target, dict):
            target["kind"] = rng.choice(["minders", "epstein", "granovetter", "watts", "kuran",
                                         "beta", "gamma", "", "[/]", 1])
    else:
        parent[last] = random_value(rng)
        op = "value"
    return op


# --------------------------------------------------------------------------- text mutations
def mutate_text(rng: random.Random, text: bytes, fmt: str) -> tuple[bytes, str]:
    """Apply one random byte-level mutation."""
    op = rng.choice(["truncate", "duplicate_line", "junk", "binary", "flip", "alias",
                     "empty", "bom"])
    if op == "truncate" and text:
        return text[: rng.randrange(len(text))], op
    if op == "duplicate_line":
        lines = text.split(b"\n")
        i = rng.randrange(len(lines))
        lines.insert(i, lines[i])
        return b"\n".join(lines), op
    if op == "junk":
        i = rng.randrange(len(text) + 1)
        junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 20)))
        return text[:i] + junk + text[i:], op
    if op == "binary":
        return bytes(rng.randrange(256) for _ in range(rng.choice([1, 64, 4096]))), op
    if op == "flip" and text:
        data = bytearray(text)
        for _ in range(rng.randint(1, 5)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data), op
    if op == "alias" and fmt == "yaml":
        return alias_bomb(rng.randint(2, 12), rng.randint(2, 12)) + text, op
    if op == "empty":
        return b"", op
    if op == "bom":
        return b"\xef\xbb\xbf" + text, op
    return text + b"\n" + text[: rng.randrange(len(text) + 1)], "append"


def alias_bomb(levels: int, width: int) -> bytes:
    """YAML whose aliases expand to ``width ** levels`` values in a few hundred bytes."""
    lines = ["a0: &a0 [x, x]"]
    for k in range(1, levels + 1):
        refs = ", ".join([f"*a{k - 1}"] * width)
        lines.append(f"a{k}: &a{k} [{refs}]")
    return ("\n".join(lines) + "\n").encode()


# --------------------------------------------------------------------------- overrides, graphs
def random_override(rng: random.Random, data: dict[str, Any]) -> str:
    """A ``--set path=value`` argument: a real path (or a typo of one) and a wild value."""
    paths = [".".join(map(str, p)) for p in _paths(data)] or ["name"]
    path = rng.choice(paths)
    if rng.random() < 0.2:
        path = typo(rng, path)
    raw = rng.choice(["nan", "inf", "-inf", "1e308", "-1", "0", "2**63", str(2**63),
                      str(10**20), "abc", "[1, 2", "[/bold]", "{a = 1}", "[]", "''", '"x"',
                      "true", "1.5", "", "=", "[[[[1]]]]", "ünï", str(2**31)])
    return f"{path}={raw}"


def graph_content(rng: random.Random, n: int, suffix: str) -> bytes:
    """An edge list or GraphML file, valid or broken."""
    op = rng.choice(["valid", "negative", "big", "float", "letters", "one_column", "binary",
                     "empty", "header", "nan", "wide", "graphml_junk"])
    sep = "," if suffix == ".csv" else "\t" if suffix == ".tsv" else " "
    edges = [(rng.randrange(n), rng.randrange(n)) for _ in range(rng.randint(0, 40))]
    if op == "negative":
        edges.append((-rng.randint(1, 10**6), 0))
    elif op == "big":
        edges.append((rng.choice([n, 2**31, 2**63, 10**30]), 0))
    elif op == "float":
        edges.append((1.5, 2.25))
    elif op == "letters":
        edges.append(("a", "[/bold]"))
    elif op == "nan":
        edges.append(("nan", "inf"))
    elif op == "one_column":
        return "\n".join(str(u) for u, _ in edges).encode()
    elif op == "binary":
        return bytes(rng.randrange(256) for _ in range(rng.choice([16, 4096])))
    elif op == "empty":
        return b""
    elif op == "wide":
        return "\n".join(sep.join(str(rng.randrange(n)) for _ in range(7))
                         for _ in range(10)).encode()
    elif op == "graphml_junk":
        return b"<graphml><graph><node id='0'/><edge source='0' target='99999'/>" \
               + bytes(rng.randrange(256) for _ in range(20))
    lines = [sep.join(map(str, e)) for e in edges]
    if op == "header":
        lines.insert(0, f"source{sep}target")
    return "\n".join(lines).encode()


# --------------------------------------------------------------------------- generated cases
SCENARIOS = scenario_bases()
EXPERIMENTS = experiment_bases()
SMALL = small_bases()
KINDS = ["minders", "epstein", "epstein2", "granovetter", "watts", "kuran"]
CATEGORIES = ["tree", "text", "override", "flags", "graph", "experiment", "run"]
WEIGHTS = [40, 14, 14, 8, 6, 14, 4]


def _kind_of(data: dict[str, Any]) -> str:
    return str(data.get("kind", "minders"))


def generate(seed: int) -> Case:
    """The generated case of ``seed`` (same seed, same case)."""
    rng = random.Random(seed)
    category = rng.choices(CATEGORIES, WEIGHTS)[0]
    case_id = f"g:{seed}"
    fmt = rng.choice(["toml", "toml", "yaml"])
    name = f"scenario.{fmt if rng.random() < 0.95 else rng.choice(['yml', 'json', 'txt'])}"
    if category == "experiment":
        base_name = rng.choice(sorted(EXPERIMENTS))
        data = copy.deepcopy(EXPERIMENTS[base_name])
        ops = [mutate_tree(rng, data, fmt) for _ in range(rng.randint(1, 3))]
        body = serialise(data, fmt)
        if rng.random() < 0.15:
            body, text_op = mutate_text(rng, body, fmt)
            ops.append(text_op)
        files = {f"experiment.{fmt}": body}
        return Case(case_id, "experiment", category, files, target="experiment")
    if category in ("flags", "graph", "run"):
        kind = rng.choice(KINDS if category != "graph" else ["minders", "watts"])
        data = copy.deepcopy(SMALL[kind])
    else:
        base_name = rng.choice(sorted(SCENARIOS))
        data = copy.deepcopy(SCENARIOS[base_name])
        kind = _kind_of(data)
    files: dict[str, bytes] = {}
    argv: list[str]
    if category == "tree":
        for _ in range(rng.randint(1, 3)):
            mutate_tree(rng, data, fmt)
        files[name] = serialise(data, fmt)
        argv = ["validate", f"{{dir}}/{name}"]
    elif category == "text":
        body = serialise(data, fmt)
        for _ in range(rng.randint(1, 2)):
            body, _op = mutate_text(rng, body, fmt)
        files[name] = body
        argv = ["validate", f"{{dir}}/{name}"]
    elif category == "override":
        files[name] = serialise(data, fmt)
        argv = ["validate", f"{{dir}}/{name}"]
        for _ in range(rng.randint(1, 3)):
            argv += ["--set", random_override(rng, data)]
    elif category == "graph":
        suffix = rng.choice([".csv", ".tsv", ".txt", ".edgelist", ".graphml", ".bin", ""])
        n = _graph_nodes(data)
        files[f"graph{suffix}"] = graph_content(rng, n, suffix)
        if kind == "minders":
            data.setdefault("network", {})["file"] = f"graph{suffix}"
        else:
            data["network"] = {"kind": "file", "file": f"graph{suffix}", "nodes": n}
        files[name] = serialise(data, fmt)
        argv = ["run", f"{{dir}}/{name}", "--steps", "2", "--quiet", "--out", "{dir}/out"]
    elif category == "flags":
        files[name] = serialise(data, fmt)
        argv = ["run", f"{{dir}}/{name}", "--quiet", "--out", "{dir}/out"]
        steps = rng.choice(["0", "-1", "1", "2", "abc", "", "1e3", "2.5", "nan", str(2**63),
                            "99999999999999999999999", "1_0", " 2", "[/]", "２"])
        seed = rng.choice(["0", "-1", "7", "abc", "", str(2**63 - 1), str(2**63), "1.0",
                           "99999999999999999999999", "nan", "[/bold]", "-0"])
        argv += ["--steps", steps]
        if rng.random() < 0.7:
            argv += ["--seed", seed]
        if rng.random() < 0.3:
            argv += ["--set", random_override(rng, data)]
        if rng.random() < 0.1:
            argv.append(rng.choice(["--bogus", "--steps", "-x", "extra"]))
        # A valid --steps larger than 3 would be a legitimately long run: not what is tested.
        try:
            if int(steps.replace("_", "")) > 3:
                argv[argv.index("--steps") + 1] = "3"
        except ValueError:
            pass
    else:  # run: a mutated small scenario, run for 2 steps when it validates
        mutate_tree(rng, data, fmt)
        files[name] = serialise(data, fmt)
        argv = ["run", f"{{dir}}/{name}", "--steps", "2", "--quiet", "--out", "{dir}/out"]
    return Case(case_id, kind, category, files, argv)


def _graph_nodes(data: dict[str, Any]) -> int:
    if data.get("kind") == "watts":
        return int(data["network"]["nodes"])
    return 300 + 30 + 10 + 2 + 1  # small_minders: residents, elites, minders, security (auto)


# --------------------------------------------------------------------------- known regressions
def _known() -> dict[str, Case]:
    cases: dict[str, Case] = {}

    def add(name: str, kind: str, category: str, files: dict[str, Any], argv: list[str],
            target: str = "cli", xfail: str | None = None) -> None:
        files = {k: v.encode() if isinstance(v, str) else v for k, v in files.items()}
        cases[name] = Case(f"k:{name}", kind, category, files, argv, target, xfail)

    pyong = to_toml(SCENARIOS["pyongyang.toml"])
    small = to_toml(SMALL["minders"])
    files_of = {
        "minders": ("pyongyang.toml", pyong),
        "epstein": ("epstein.toml", to_toml(SCENARIOS["epstein_model1.toml"])),
        "epstein2": ("epstein2.toml", to_toml(SCENARIOS["epstein_model2.toml"])),
        "granovetter": ("granovetter.toml", to_toml(SCENARIOS["granovetter_normal.toml"])),
        "watts": ("watts.toml", to_toml(SCENARIOS["watts_er.toml"])),
        "kuran": ("kuran.toml", to_toml(SCENARIOS["kuran_revolution.toml"])),
    }

    def override(name: str, kind: str, *sets: str, command: str = "validate",
                 xfail: str | None = None) -> None:
        file, text = files_of[kind]
        argv = [command, f"{{dir}}/{file}"]
        for s in sets:
            argv += ["--set", s]
        if command == "run":
            argv += ["--steps", "2", "--quiet", "--out", "{dir}/out"]
        add(name, kind, "known", {file: text}, argv, xfail=xfail)

    # Rich markup in keys, values and paths
    add("markup-key", "minders", "known", {"s.toml": pyong + '\n"[/]" = 1\n'},
        ["validate", "{dir}/s.toml"])
    add("markup-value", "minders", "known",
        {"s.toml": pyong.replace('name = "pyongyang"', 'name = "[/bold]"')},
        ["validate", "{dir}/s.toml"])
    add("markup-path", "minders", "known", {"[/bold].toml": "name = 1\n"},
        ["validate", "{dir}/[/bold].toml"])
    add("markup-missing-path", "minders", "known", {}, ["validate", "{dir}/[/].toml"])
    override("markup-set-key", "minders", "[/bold]=1")
    override("markup-set-tier", "minders", "tiers.[/].span=3")
    # NaN / inf
    override("shock-value-nan", "minders", "shocks.0.value=nan")
    override("shock-value-inf", "minders", "shocks.1.value=inf")
    override("dist-param-nan", "minders", "tiers.residents.hardship.a=nan")
    override("dist-param-inf", "minders", "tiers.residents.threshold.sd=inf")
    override("granovetter-threshold-nan", "granovetter", "population.threshold.0=nan")
    override("granovetter-mean-inf", "granovetter", "population.threshold.mean=inf")
    override("kuran-threshold-nan", "kuran", "population.threshold.mean=nan")
    override("epstein-legitimacy-nan", "epstein", "legitimacy.initial=nan")
    override("max-memory-inf", "minders", "run.max_memory_gb=inf")
    override("max-memory-1e308", "minders", "run.max_memory_gb=1e308")
    # Huge horizons and integers beyond 64 bits
    override("burn-in-1e8", "minders", f"run.burn_in={10**8}")
    override("burn-in-2p63", "minders", f"run.burn_in={2**63}")
    override("steps-1e8", "minders", f"run.steps={10**8}")
    override("steps-2p63", "minders", f"run.steps={2**63}")
    for kind in ["epstein", "epstein2", "granovetter", "watts", "kuran"]:
        override(f"{kind}-steps-2p63", kind, f"run.steps={2**63}")
        override(f"{kind}-seed-1e20", kind, f"run.seed={10**20}")
    override("memory-1e20", "minders", f"model.memory={10**20}")
    override("replace-delay-2p63", "minders", f"tiers.residents.replace_delay={2**63}")
    override("max-jail-2p31", "minders", f"model.max_jail={2**31}")
    override("seed-1e20", "minders", f"run.seed={10**20}")
    # Absurd classic sizes
    override("epstein-width-1e12", "epstein", f"grid.width={10**12}")
    override("epstein-width-1e6", "epstein", f"grid.width={10**6}")
    override("epstein-width-1e6-both", "epstein", f"grid.width={10**6}", f"grid.height={10**6}")
    override("epstein2-width-1e12", "epstein2", f"grid.width={10**12}")
    override("epstein2-peacekeepers-2", "epstein2", "peacekeepers.density=2")
    override("watts-nodes-1e12", "watts", f"network.nodes={10**12}")
    override("granovetter-size-1e12", "granovetter", f"population.size={10**12}")
    override("kuran-size-1e12", "kuran", f"population.size={10**12}")
    override("minders-size-1e12", "minders", f"tiers.residents.size={10**12}")
    # Deep nesting
    deep = "[" * 5000 + "1" + "]" * 5000
    add("deep-toml", "minders", "known", {"s.toml": f"name = {deep}\n"},
        ["validate", "{dir}/s.toml"])
    add("deep-yaml", "minders", "known", {"s.yaml": f"name: {deep}\n"},
        ["validate", "{dir}/s.yaml"])
    add("deep-yaml-block", "minders", "known",
        {"s.yaml": "".join(" " * i + "a:\n" for i in range(1400)) + " " * 1400 + "b: 1\n"},
        ["validate", "{dir}/s.yaml"])
    add("deep-toml-tables", "minders", "known",
        {"s.toml": "x = " + "{a = " * 5000 + "1" + "}" * 5000 + "\n"},
        ["validate", "{dir}/s.toml"])
    add("deep-set", "minders", "known", {"p.toml": pyong},
        ["validate", "{dir}/p.toml", "--set", "name=" + "[" * 3000 + "]" * 3000])
    # YAML alias bomb (about 700 bytes)
    bomb = alias_bomb(9, 9)
    add("alias-bomb", "minders", "known", {"s.yaml": bomb + b"name: *a9\n"},
        ["validate", "{dir}/s.yaml"])
    add("alias-recursive", "minders", "known", {"s.yaml": "a: &a [*a]\n"},
        ["validate", "{dir}/s.yaml"])
    # Long chains of tiers
    for n in (1200, 3000):
        tiers = {f"t{i}": {"size": 10 if i == 0 else "auto", "span": 2,
                           **({"minded_by": f"t{i + 1}"} if i < n - 1 else {})}
                 for i in range(n)}
        text = "name = \"chain\"\n" + "".join(
            f"[tiers.t{i}]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in t.items())
            for i, t in enumerate(tiers.values()))
        add(f"chain-{n}", "minders", "known", {"s.toml": text}, ["validate", "{dir}/s.toml"])
    # Graph files
    add("binary-graph", "minders", "known",
        {"s.toml": small + '\n', "g.csv": bytes(range(256)) * 8},
        ["run", "{dir}/s.toml", "--set", "network.file=g.csv", "--steps", "2", "--quiet",
         "--out", "{dir}/out"])
    add("binary-graph-txt", "minders", "known",
        {"s.toml": small, "g.txt": b"\x00\xff\xfe" * 100},
        ["run", "{dir}/s.toml", "--set", "network.file=g.txt", "--steps", "2", "--quiet",
         "--out", "{dir}/out"])
    add("negative-graph", "minders", "known",
        {"s.toml": small, "g.txt": b"0 1\n-5 3\n"},
        ["run", "{dir}/s.toml", "--set", "network.file=g.txt", "--steps", "2", "--quiet",
         "--out", "{dir}/out"])
    add("graph-markup-path", "minders", "known", {"s.toml": small},
        ["validate", "{dir}/s.toml", "--set", "network.file=[/bold].csv"])
    add("binary-scenario", "minders", "known", {"s.toml": bytes(range(256))},
        ["validate", "{dir}/s.toml"])
    add("huge-file", "minders", "known", {"s.toml": b"# " + b"x" * (2 << 20)},
        ["validate", "{dir}/s.toml"])
    # Experiment files
    exp = EXPERIMENTS["span_sweep.toml"]
    for name, change in [("replicates-1e12", {"replicates": 10**12}),
                         ("num-1e12", {"parameters": {"tiers.minders.span": {
                             "low": 5, "high": 45, "num": 10**12}}}),
                         ("values-1e20", {"parameters": {"worker_span": {
                             "paths": ["tiers.workers_china.span"], "values": [6, 10**20]}}}),
                         ("scenario-markup", {"scenario": "[/bold]"}),
                         ("seed-1e20", {"seed": 10**20}),
                         ("replicates-nan", {"replicates": float("nan")})]:
        data = copy.deepcopy(exp)
        data.update(change)
        body = to_toml(data).replace('scenario = "overseas_workers"',
                                     f'scenario = "{BUNDLED / "overseas_workers.toml"}"')
        if name == "scenario-markup":
            body = to_toml(data)
        add(f"experiment-{name}", "experiment", "known", {"e.toml": body}, [],
            target="experiment")
        if name != "seed-1e20":  # a valid experiment: the CLI would run the whole sweep
            add(f"experiment-cli-{name}", "experiment", "known", {"e.toml": body},
                ["sweep", "{dir}/e.toml", "--executor", "serial", "--quiet", "--out",
                 "{dir}/out"])
    # Flags
    flags = [("steps-0", ["--steps", "0"]), ("seed-minus-1", ["--seed", "-1"]),
             ("steps-abc", ["--steps", "abc"]),
             ("seed-huge", ["--seed", "99999999999999999999999"]),
             ("steps-empty", ["--steps", ""]), ("steps-markup", ["--steps", "[/bold]"]),
             ("unknown-flag", ["--bogus"]), ("set-no-equals", ["--set", "nonsense"]),
             ("set-bad-toml", ["--set", "tiers.residents.span=[1,"])]
    for name, extra in flags:
        add(f"flag-{name}", "minders", "known", {"s.toml": small},
            ["run", "{dir}/s.toml", "--quiet", "--out", "{dir}/out", *extra])
    add("flag-missing-file", "minders", "known", {}, ["validate", "{dir}/nope.toml"])
    add("flag-no-args-run", "minders", "known", {}, ["run"])
    add("flag-schema-kind", "minders", "known", {}, ["schema", "--kind", "[/]"])
    # Each small base runs (the harness's own sanity check)
    for kind, data in SMALL.items():
        add(f"small-{kind}-runs", kind, "known", {"s.toml": to_toml(data)},
            ["run", "{dir}/s.toml", "--steps", "2", "--quiet", "--out", "{dir}/out"])
    for name, reason in XFAIL.items():
        cases[name].xfail = reason
    return cases


#: Known cases expected to fail, with the reason (none now: every known case must pass).
XFAIL: dict[str, str] = {}

KNOWN = _known()


def case(case_id: str) -> Case:
    """The case of an id (``g:SEED`` or ``k:NAME``)."""
    prefix, _, rest = case_id.partition(":")
    if prefix == "g":
        return generate(int(rest))
    return KNOWN[rest]
