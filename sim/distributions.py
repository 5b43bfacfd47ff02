"""Random durations (handle time, patience, bot session, delays) as scenario files state them.

Each distribution is a frozen pydantic model with a `dist` tag, parameters in the units a
planner knows (mean and standard deviation, in seconds), a `mean_s` used by the analytic
baselines, and `sample(rng, n)` that draws a numpy block: the model draws in blocks because
one numpy call per contact would dominate the run time.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Union, get_args

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

from .errors import at
from .units import parse_clock, parse_duration

DURATION_SCHEMA = WithJsonSchema({
    "anyOf": [{"type": "number", "minimum": 0},
              {"type": "string", "pattern": r"^\s*[0-9]*\.?[0-9]+\s*(s|sec|secs|second|seconds|m|min|mins|minute|minutes|"
                                            r"h|hr|hrs|hour|hours|d|day|days|w|week|weeks)?\s*$"}],
    "description": "a duration: seconds, or text like 20s, 3min, 1.5h, 2d",
})
Seconds = Annotated[float, BeforeValidator(parse_duration), DURATION_SCHEMA]
PositiveSeconds = Annotated[float, BeforeValidator(parse_duration), Field(gt=0, allow_inf_nan=False), DURATION_SCHEMA]
NonNegativeSeconds = Annotated[float, BeforeValidator(parse_duration), Field(ge=0, allow_inf_nan=False),
                               DURATION_SCHEMA]


def _holds_numbers(field) -> bool:
    """Whether a field holds plain numbers (alone, in lists or in mappings): not a bool, a model (models
    check their own fields), a duration or a clock time (their parsers refuse true/false themselves)."""
    found = False

    def parsed(metadata) -> bool:
        return any(getattr(m, "func", None) in (parse_duration, parse_clock) for m in metadata)

    def plain(a) -> bool:
        nonlocal found
        if a is bool or (isinstance(a, type) and issubclass(a, BaseModel)) or parsed(getattr(a, "__metadata__", ())):
            return False
        found = found or a in (int, float)
        return all(plain(arg) for arg in get_args(a))

    # pydantic moves a field's own `Annotated[...]` metadata (validators, bounds) to `field.metadata`
    return not parsed(field.metadata) and plain(field.annotation) and found


def _first_bool(value, path=()):
    """Where (relative path) the first true/false sits in a value, lists and mappings included; None if nowhere."""
    if isinstance(value, bool):
        return path
    items = enumerate(value) if isinstance(value, list) else value.items() if isinstance(value, dict) else ()
    for key, item in items:
        found = _first_bool(item, path + (key,))
        if found is not None:
            return found
    return None


class StrictModel(BaseModel):
    """Base of every scenario model: `true`/`false` (YAML also reads yes/no/on/off so) is not a number.

    pydantic's lax mode would read `replications: true` as 1 and `shrinkage: no` as 0, silently;
    fields whose type is not (or does not contain) bool refuse them with a located message.
    """

    @model_validator(mode="before")
    @classmethod
    def _no_bool_numbers(cls, data):
        if not isinstance(data, dict):
            return data
        for name, field in cls.model_fields.items():
            value = data.get(name)
            if not isinstance(value, (bool, list, dict)) or not _holds_numbers(field):
                continue
            where = _first_bool(value)
            if where is not None:
                inner = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in where)
                raise at(f".{name}{inner}", f"must be a number, not true/false (got {_first_value(value, where)!r}); "
                         "write the number (YAML reads yes/no/on/off as true/false)")
        return data


def _first_value(value, path):
    for key in path:
        value = value[key]
    return value


MAX_SPREAD = 1000.0  # sd ÷ mean above this cannot be drawn reliably (lognormal σ², gamma shape under/overflow)
MIN_GAMMA_SPREAD = 1e-6  # below this the gamma shape (mean/sd)² overflows; a deterministic time is meant


def _check_spread(dist, low: float = 0.0, high: float = MAX_SPREAD) -> None:
    """An sd so far from the mean that the distribution's parameters overflow is an input error, not a crash."""
    ratio = dist.sd / dist.mean
    if not low <= ratio <= high:
        bounds = f"at most {high:g} × the mean" if not low else f"between {low:g} and {high:g} × the mean"
        fix = "use a smaller sd" if ratio > high else "use a larger sd, or dist: deterministic for a fixed time"
        raise at(".sd", f"must be {bounds} for a {dist.dist} distribution (got sd/mean = {ratio:.3g}); {fix}")


class _Dist(StrictModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @property
    def mean_s(self) -> float:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def scaled(self, factor: float) -> "_Dist":
        """The same shape with every duration multiplied by `factor` (used for multipliers)."""
        raise NotImplementedError  # pragma: no cover


class Exponential(_Dist):
    """Memoryless: the textbook M in M/M/c (Erlang C) and M/M/c+M (Erlang A)."""

    dist: Literal["exponential"] = Field(description="the family")
    mean: PositiveSeconds = Field(description="mean duration")

    @property
    def mean_s(self) -> float:
        return self.mean

    def sample(self, rng, n):
        return rng.exponential(self.mean, n)

    def scaled(self, factor):
        return Exponential(dist="exponential", mean=self.mean * factor)


class Lognormal(_Dist):
    """Right-skewed handle times, stated by their mean and standard deviation in seconds (sd at most 1000 × mean)."""

    dist: Literal["lognormal"] = Field(description="the family")
    mean: PositiveSeconds = Field(description="mean duration")
    sd: PositiveSeconds = Field(description="standard deviation of the duration")

    @property
    def mean_s(self) -> float:
        return self.mean

    def _mu_sigma(self) -> tuple[float, float]:
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        return math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2)

    @model_validator(mode="after")
    def _drawable(self):
        _check_spread(self, high=MAX_SPREAD)
        return self

    def sample(self, rng, n):
        mu, sigma = self._mu_sigma()
        return rng.lognormal(mu, sigma, n)

    def scaled(self, factor):
        return Lognormal(dist="lognormal", mean=self.mean * factor, sd=self.sd * factor)


class Gamma(_Dist):
    """Gamma by mean and standard deviation (shape = (mean/sd)²; sd between 0.000001 and 1000 × mean)."""

    dist: Literal["gamma"] = Field(description="the family")
    mean: PositiveSeconds = Field(description="mean duration")
    sd: PositiveSeconds = Field(description="standard deviation of the duration")

    @model_validator(mode="after")
    def _drawable(self):
        _check_spread(self, low=MIN_GAMMA_SPREAD, high=MAX_SPREAD)
        return self

    @property
    def mean_s(self) -> float:
        return self.mean

    def sample(self, rng, n):
        shape = (self.mean / self.sd) ** 2
        return rng.gamma(shape, self.mean / shape, n)

    def scaled(self, factor):
        return Gamma(dist="gamma", mean=self.mean * factor, sd=self.sd * factor)


class Weibull(_Dist):
    """Weibull by `shape` and either `scale` or `mean` (seconds); shape < 1 gives impatient early leavers."""

    dist: Literal["weibull"] = Field(description="the family")
    # below 0.01 the mean-to-scale factor Γ(1 + 1/shape) overflows (and draws span hundreds of decades)
    shape: float = Field(ge=0.01, allow_inf_nan=False, description="below 1: many early leavers and a long tail")
    scale: PositiveSeconds | None = Field(default=None, description="scale duration (give this or `mean`)")
    mean: PositiveSeconds | None = Field(default=None, description="mean duration (give this or `scale`)")

    @model_validator(mode="after")
    def _one_of_scale_mean(self):
        if (self.scale is None) == (self.mean is None):
            got = "both" if self.scale is not None else "neither"
            raise ValueError(f"give exactly one of `scale` or `mean` for a weibull distribution (got {got}); "
                             "keep `mean` (seconds) or `scale`")
        return self

    @property
    def scale_s(self) -> float:
        if self.scale is not None:
            return self.scale
        return self.mean / math.gamma(1 + 1 / self.shape)

    @property
    def mean_s(self) -> float:
        return self.scale_s * math.gamma(1 + 1 / self.shape)

    def sample(self, rng, n):
        return self.scale_s * rng.weibull(self.shape, n)

    def scaled(self, factor):
        return Weibull(dist="weibull", shape=self.shape, scale=self.scale_s * factor)


class Deterministic(_Dist):
    """A fixed duration: for tiny exact tests and for scripted bot sessions."""

    dist: Literal["deterministic"] = Field(description="the family")
    value: NonNegativeSeconds = Field(description="the fixed duration")

    @property
    def mean_s(self) -> float:
        return self.value

    def sample(self, rng, n):
        return np.full(n, self.value)

    def scaled(self, factor):
        return Deterministic(dist="deterministic", value=self.value * factor)


class Empirical(_Dist):
    """Resample observed durations (seconds) with replacement."""

    dist: Literal["empirical"] = Field(description="the family")
    values: list[NonNegativeSeconds] = Field(min_length=1, max_length=1_000_000,
                                             description="observed durations to draw from")

    @property
    def mean_s(self) -> float:
        return float(np.mean(self.values))

    def sample(self, rng, n):
        return rng.choice(np.asarray(self.values, dtype=float), n)

    def scaled(self, factor):
        return Empirical(dist="empirical", values=[v * factor for v in self.values])


Distribution = Annotated[
    Union[Exponential, Lognormal, Gamma, Weibull, Deterministic, Empirical],
    Field(discriminator="dist"),
]
DIST_NAMES = ("exponential", "lognormal", "gamma", "weibull", "deterministic", "empirical")


class BlockSampler:
    """Hands out one draw at a time from numpy blocks, so the model pays numpy's cost once per block."""

    __slots__ = ("_dist", "_rng", "_block", "_buf", "_pos")

    def __init__(self, dist: _Dist, rng: np.random.Generator, block: int = 4096):
        self._dist, self._rng, self._block = dist, rng, block
        self._buf: list[float] = []
        self._pos = 0

    def __call__(self) -> float:
        if self._pos >= len(self._buf):
            self._buf = self._dist.sample(self._rng, self._block).tolist()
            self._pos = 0
        value = self._buf[self._pos]
        self._pos += 1
        return value
