"""A backtest described as data: a strategy file, its parameters, dates, account, fees and data.

``backtest run`` and ``backtest check`` build a :class:`RunSpec` from three layers, later ones
winning: the strategy file's own ``RUN`` dict (its author's defaults), a TOML file
(``--config run.toml``), and the command line flags. A TOML run file::

    strategy = "strategies/double_ma.py"   # relative to this file
    start = 2020-01-02
    end = 2020-02-28
    init_balance = 1_000_000
    data = "data/store"                      # default: the bundled sample store
    symbols = ["IF2003.IF"]                  # passed to the strategy's `symbols` parameter
    fill_model = "default"                   # DESIGN.md §7's matching (the only model)

    [params]                                 # the strategy's keyword parameters
    fast = 5
    slow = 20

    [instruments.IF]                         # instrument overrides (see backtest.instrument)
    commission_close_today = 0.00023

    [stock_fees]
    commission_rate = 0.0002

Also ``stock_init_balance``, ``annual_days`` and ``risk_free_rate``. Unknown keys and unknown
parameters are errors naming the closest valid one.

**The strategy file** defines ``strategy``: an ``async def strategy(api, **params)`` function
(its keyword parameters are the run's params), or a class whose ``__init__`` takes the params
and whose instances have an ``async def run(self, api)`` method. It may define ``RUN`` (a dict of
the keys above) for its defaults.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any, Final

from .config import load_toml
from .errors import ConfigError, did_you_mean
from .runner import Backtest, StrategyFunction

KEYS: Final = (
    "strategy", "start", "end", "init_balance", "stock_init_balance", "data", "symbols",
    "params", "instruments", "stock_fees", "annual_days", "risk_free_rate", "fill_model",
)  # fmt: skip
FILL_MODELS: Final = ("default",)


class StrategyLoadError(ConfigError):
    """The strategy file could not be imported (the original error is ``__cause__``)."""


@dataclass(frozen=True)
class RunSpec:
    """A resolved run: everything :meth:`backtest` needs (see the module docstring)."""

    strategy: Path
    start: date | datetime
    end: date | datetime
    init_balance: float = 10_000_000.0
    stock_init_balance: float | None = None
    data: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    instruments: Mapping[str, Mapping[str, Any]] | str = field(default_factory=dict)
    stock_fees: Mapping[str, float | None] = field(default_factory=dict)
    annual_days: int = 250
    risk_free_rate: float = 0.0
    fill_model: str = "default"

    def describe(self) -> dict[str, Any]:
        """The strategy part of the saved config: file, its SHA-256, params, fill model."""
        digest = hashlib.sha256(self.strategy.read_bytes()).hexdigest()
        return {
            "path": str(self.strategy),
            "sha256": digest,
            "params": dict(self.params),
            "fill_model": self.fill_model,
        }

    def backtest(self, progress: bool | None = None, module: ModuleType | None = None) -> Backtest:
        """The :class:`~backtest.Backtest` of this spec.

        ``module`` is the strategy file already imported (else it is imported now).
        """
        loaded = module if module is not None else import_strategy_file(self.strategy)
        function = bind_strategy(loaded, self.strategy, self.params)
        return Backtest(
            function, self.start, self.end, init_balance=self.init_balance, data=self.data,
            instruments=self.instruments, annual_days=self.annual_days,
            risk_free_rate=self.risk_free_rate, stock_init_balance=self.stock_init_balance,
            stock_fees=self.stock_fees, progress=progress,
        )  # fmt: skip


def read_toml(path: Path) -> dict[str, Any]:
    """A run file's table, with ``strategy`` and ``data`` made relative to the file.

    Raises:
        ConfigError: the file is missing or not TOML.
    """
    table = load_toml(path, "run")
    for key in ("strategy", "data", "instruments"):
        if isinstance(table.get(key), str):
            table[key] = str((path.parent / table[key]).resolve())
    return table


def resolve(layers: Sequence[tuple[str, Mapping[str, Any]]]) -> RunSpec:
    """Merge ``(where, table)`` layers, later ones winning, into a :class:`RunSpec`.

    ``params`` and ``instruments`` tables merge key by key. ``where`` names the layer in errors.

    Raises:
        ConfigError: an unknown key, a missing strategy or date, a bad value or fill model.
    """
    merged: dict[str, Any] = {}
    for where, table in layers:
        for key, value in table.items():
            if key not in KEYS:
                raise ConfigError(f"{where}: unknown key {key!r}{did_you_mean(key, KEYS)}")
            _check_type(where, key, value)
            if key in ("params", "instruments") and isinstance(value, Mapping):
                if key == "instruments" and not isinstance(merged.get(key, {}), Mapping):
                    merged[key] = {}  # a file given before is replaced by tables
                merged[key] = {**merged.get(key, {}), **value}
            else:
                merged[key] = value
    for key in ("strategy", "start", "end"):
        if key not in merged:
            raise ConfigError(
                f"no {key} given: pass --{key} (or a --config file with `{key} = ...`)"
                if key != "strategy"
                else "no strategy file given"
            )
    if "symbols" in merged:
        params = dict(merged.get("params", {}))
        params["symbols"] = merged.pop("symbols")
        merged["params"] = params
    model = merged.get("fill_model", "default")
    if model not in FILL_MODELS:
        raise ConfigError(f"unknown fill_model {model!r}; the fill models are: default")
    return RunSpec(
        strategy=Path(merged.pop("strategy")),
        start=_moment(merged.pop("start"), "start"),
        end=_moment(merged.pop("end"), "end"),
        **merged,
    )


_TABLES: Final = ("params", "stock_fees")
_TEXTS: Final = ("strategy", "data", "fill_model")
_NUMBERS: Final = ("init_balance", "stock_init_balance", "annual_days", "risk_free_rate")


def _check_type(where: str, key: str, value: Any) -> None:
    """Refuse a value of the wrong kind, naming the layer and the key."""
    if key in _TABLES and not isinstance(value, Mapping):
        kind = "a table of strategy parameters" if key == "params" else "a table"
        raise ConfigError(f"{where}: {key} must be {kind} ([{key}] in TOML), was {value!r}")
    if key == "instruments" and not (
        isinstance(value, str | Path)
        or (isinstance(value, Mapping) and all(isinstance(v, Mapping) for v in value.values()))
    ):
        raise ConfigError(
            f"{where}: instruments must be tables of fields per symbol or product "
            f"([instruments.IF]) or the path of such a TOML file, was {value!r}"
        )
    if key in _TEXTS and not isinstance(value, str | Path):
        raise ConfigError(f"{where}: {key} must be a string, was {value!r}")
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if key in _NUMBERS and not number and not (key == "stock_init_balance" and value is None):
        raise ConfigError(f"{where}: {key} must be a number, was {value!r}")
    texts = isinstance(value, list) and all(isinstance(v, str) for v in value)
    if key == "symbols" and not (isinstance(value, str) or texts):
        raise ConfigError(f"{where}: symbols must be a string or a list of strings, was {value!r}")


def _moment(value: Any, name: str) -> date | datetime:
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        if len(text) == 8 and text.isdigit():  # 20200102
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"{name} must be a date (2020-01-02 or 20200102) or a time (2020-01-02T09:30), "
            f"was {value!r}"
        ) from None


def parse_param(text: str) -> tuple[str, Any]:
    """``"fast=5"`` → ``("fast", 5)``: the value is read as TOML (numbers, booleans, lists,
    quoted strings), else kept as a string."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--param takes name=value, was {text!r}")
    try:
        return key, tomllib.loads(f"value = {value.strip()}")["value"]
    except tomllib.TOMLDecodeError:
        return key, value.strip()


def import_strategy_file(path: Path) -> ModuleType:
    """Import a strategy file as a module of its own name.

    As ``python file.py`` would, the file's directory goes first on ``sys.path``, so the file
    can import modules that sit beside it.

    Raises:
        ConfigError: the file does not exist.
        StrategyLoadError: importing it raised (a syntax error, an exception at import).
    """
    if not path.is_file():
        raise ConfigError(f"strategy file {path} does not exist")
    name = f"backtest_strategy_{hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"{path} cannot be imported as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up there
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise StrategyLoadError(f"{path} failed to import: {type(exc).__name__}: {exc}") from exc
    return module


def file_defaults(module: ModuleType, path: Path) -> dict[str, Any]:
    """The ``RUN`` dict of an imported strategy file (its author's defaults), or ``{}``."""
    defaults = getattr(module, "RUN", {})
    if not isinstance(defaults, Mapping):
        raise ConfigError(f"{path}: RUN must be a dict of run settings, was {defaults!r}")
    return dict(defaults)


def strategy_of(module: ModuleType, path: Path) -> Any:
    """The file's ``strategy`` (a function or a class).

    Raises:
        ConfigError: the file defines none.
    """
    target = getattr(module, "strategy", None)
    if target is None:
        raise ConfigError(
            f"{path} defines no `strategy`: write `async def strategy(api, ...)` or a class "
            f"`strategy` with `async def run(self, api)`"
        )
    return target


def bind_strategy(module: ModuleType, path: Path, params: Mapping[str, Any]) -> StrategyFunction:
    """The strategy of an imported file, bound to ``params``, as ``async (api) -> None``.

    Raises:
        ConfigError: no ``strategy`` in the file, a parameter it does not take or of the wrong
            kind, or a parameter without a default that ``params`` does not give.
    """
    target = strategy_of(module, path)
    if inspect.isclass(target):
        accepted = _parameters(target.__init__, skip=1)
        _check_params(path, params, accepted)
        try:
            instance = target(**params)
        except Exception as exc:
            raise StrategyLoadError(
                f"{path}: creating the strategy raised {type(exc).__name__}: {exc}"
            ) from exc
        run = getattr(instance, "run", None)
        if run is None or not inspect.iscoroutinefunction(run):
            raise ConfigError(f"{path}: class strategy needs an `async def run(self, api)` method")
        bound: StrategyFunction = run
        return bound
    if not inspect.iscoroutinefunction(target):
        raise ConfigError(f"{path}: `strategy` must be an async function or a class")
    accepted = _parameters(target, skip=1)
    _check_params(path, params, accepted)

    async def call(api: Any) -> None:
        await target(api, **params)

    call.__name__ = getattr(target, "__name__", "strategy")
    return call


def _parameters(function: Any, skip: int) -> dict[str, Any] | None:
    """Keyword parameters after the first ``skip``, name → default (``inspect.Parameter.empty``
    when none); None when the function takes ``**kwargs``."""
    signature = inspect.signature(function)
    found = {}
    for position, parameter in enumerate(signature.parameters.values()):
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            return None
        if position >= skip and parameter.kind in (
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            inspect.Parameter.KEYWORD_ONLY,
        ):
            found[parameter.name] = parameter.default
    return found


def _check_params(
    path: Path, params: Mapping[str, Any], accepted: Mapping[str, Any] | None
) -> None:
    """Every param is a parameter of the strategy, of the kind its default has (a number
    where the default is a number: ``--param fast=1O`` is a typo, not the text "1O"), and
    every parameter without a default is given."""
    if accepted is None:
        return
    for name, value in params.items():
        if name not in accepted:
            known = ", ".join(accepted) or "none"
            raise ConfigError(
                f"{path}: the strategy has no parameter {name!r}{did_you_mean(name, accepted)} "
                f"(its parameters: {known})"
            )
        default = accepted[name]
        kind = type(default)
        if kind in (bool, int, float, str) and not _fits(value, kind):
            raise ConfigError(
                f"{path}: parameter {name} takes {_KIND_NAMES[kind]} (its default is "
                f"{default!r}), was {value!r}"
            )
    missing = [n for n, d in accepted.items() if d is inspect.Parameter.empty and n not in params]
    if missing:
        given = " ".join(f"--param {n}=…" for n in missing)
        raise ConfigError(
            f"{path}: the strategy's parameter(s) {', '.join(missing)} have no default; give "
            f"them ({given}, or [params] in the run file)"
        )


_KIND_NAMES: Final = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def _fits(value: Any, kind: type) -> bool:
    if kind is float:  # an int is a fine float
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)
