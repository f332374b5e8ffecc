"""The result of one run: records, metadata, summary, plots and files."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import polars as pl
    from matplotlib.figure import Figure


@dataclass
class Result:
    """Records and metadata of one run.

    Attributes
    ----------
    scenario : Scenario
        The resolved scenario that was run (of any kind, see :mod:`minders.kinds`).
    seed : int
        Base seed of the run.
    records : pandas.DataFrame
        Tidy records; for the minders model one row per (step, tier), see
        ``docs/model.md`` for the columns.
    wall_time : float
        Seconds spent building and running.
    steps : int
        Steps simulated.

    Examples
    --------
    >>> import minders, tempfile
    >>> scenario = minders.load_scenario("pyongyang", ["tiers.residents.size=2000"])
    >>> result = minders.simulate(scenario, steps=10)
    >>> int(result.summary().loc["residents", "positions"])
    2000
    >>> sorted(result.save(tempfile.mkdtemp()))
    ['figure', 'records', 'run']
    """

    scenario: Any
    seed: int
    records: pd.DataFrame
    wall_time: float
    steps: int

    def to_polars(self) -> pl.DataFrame:
        """The records as a polars DataFrame."""
        import polars as pl

        return pl.from_pandas(self.records.assign(tier=self.records["tier"].astype(str)))

    def summary(self) -> pd.DataFrame:
        """The summary table of the run (per tier for the minders model)."""
        from minders import kinds

        return kinds.of(self.scenario).summary(self)

    def metadata(self) -> dict[str, Any]:
        """What ``run.json`` holds: the resolved scenario, its hash, seed, versions, timing."""
        from minders import __version__, kinds
        from minders.spec import content_hash

        # The scenario as run: the seed and horizon actually used (--seed, --steps).
        scenario = self.scenario.model_dump(mode="json")
        scenario["run"].update(seed=self.seed, steps=self.steps)
        return {
            "scenario": scenario,
            "scenario_hash": content_hash(scenario),
            # The scenario's own seed and horizon, so that ``Result.load`` rebuilds it exactly.
            "scenario_run": {"seed": self.scenario.run.seed, "steps": self.scenario.run.steps},
            "seed": self.seed,
            "steps": self.steps,
            **kinds.of(self.scenario).metadata(self.scenario),
            "minders_version": __version__,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "wall_time_s": round(self.wall_time, 3),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": command_line(),
            "machine": machine(),
        }

    def plot(self, path: str | Path | None = None) -> Figure:
        """The summary figure; saved to ``path`` when given."""
        from minders import kinds

        fig = kinds.of(self.scenario).figure(self)
        if path is not None:
            with atomic_path(Path(path)) as tmp:
                fig.savefig(tmp, dpi=120, format=Path(path).suffix.lstrip(".") or "png")
        return fig

    @classmethod
    def load(cls, directory: str | Path) -> Result:
        """The result saved in ``directory`` by :meth:`save` (``minders run --out DIR``).

        The records, scenario, seed and steps are those of the run that was
        saved; ``wall_time`` is the one recorded (to the millisecond).

        Raises
        ------
        ScenarioError
            If ``directory`` holds no saved run.

        Examples
        --------
        >>> import minders, tempfile
        >>> scenario = minders.load_scenario("pyongyang", ["tiers.residents.size=2000"])
        >>> result = minders.simulate(scenario, steps=10)
        >>> folder = tempfile.mkdtemp()
        >>> _ = result.save(folder)
        >>> back = minders.load(folder)
        >>> back.records.equals(result.records), back.scenario == scenario, back.steps
        (True, True, 10)
        """
        from minders.errors import ScenarioError
        from minders.kinds import validate_scenario

        directory = Path(directory)
        files = [directory / "run.json", directory / "records.parquet"]
        if not all(path.is_file() for path in files):
            raise ScenarioError("results", str(directory),
                                "a results folder of 'minders run' (with run.json and "
                                "records.parquet)")
        try:
            saved = json.loads(files[0].read_text(encoding="utf-8"))
            data = saved["scenario"]
            # run.json holds the scenario as run (seed, steps); put its own back.
            data["run"].update(saved.get("scenario_run", {}))
            seed, steps = int(saved["seed"]), int(saved["steps"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ScenarioError("results", str(files[0]),
                                f"the run.json that 'minders run' writes ({exc!r})") from None
        records = pd.read_parquet(files[1])
        return cls(scenario=validate_scenario(data), seed=seed, records=records,
                   wall_time=float(saved.get("wall_time_s", 0.0)), steps=steps)

    def save(self, directory: str | Path, figure_format: str = "png") -> dict[str, Path]:
        """Write ``records.parquet``, ``run.json`` and ``summary.png`` into ``directory``.

        ``figure_format`` is ``png``, ``svg`` or ``pdf`` (``summary.svg``, ...).

        The files are written into a hidden staging folder and renamed into
        place only once all three are complete, so an interrupted save leaves
        no half-written file (and, short of a crash between two renames, no
        partial set) behind.
        """
        import matplotlib.pyplot as plt

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        names = {"records": "records.parquet", "run": "run.json",
                 "figure": f"summary.{figure_format}"}
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=directory))
        try:
            self.records.to_parquet(staging / names["records"], index=False)
            (staging / names["run"]).write_text(
                json.dumps(self.metadata(), indent=2) + "\n", encoding="utf-8"
            )
            plt.close(self.plot(staging / names["figure"]))
            for name in names.values():
                os.replace(staging / name, directory / name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return {key: directory / name for key, name in names.items()}


def command_line() -> str:
    """The command line of this process, as a shell would take it back (for provenance)."""
    import shlex
    import sys

    if not sys.argv or not sys.argv[0]:
        return ""
    path = Path(sys.argv[0])
    # ``python -m minders.cli`` runs minders/cli/__main__.py: the same as the ``minders`` script.
    ours = path.name == "minders" or path.parts[-3:] == ("minders", "cli", "__main__.py")
    return shlex.join(["minders" if ours else path.name, *sys.argv[1:]])


def machine() -> str:
    """The kind of machine (system, architecture, CPUs); not its name, as reports are shared.

    Examples
    --------
    >>> "CPUs" in machine()
    True
    """
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs"


_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(target: Path):
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success only."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the usual mode
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def load(directory: str | Path) -> Result:
    """The :class:`Result` saved in a ``minders run`` folder (see :meth:`Result.load`).

    Examples
    --------
    >>> import minders
    >>> minders.load("no/such/folder")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    minders.errors.ScenarioError: results: expected a results folder of 'minders run' ...
    """
    return Result.load(directory)
