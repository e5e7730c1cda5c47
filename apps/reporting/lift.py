"""Holdout lift: did messaging move conversion, compared with the random holdout that
entered the same journey and was never messaged?

The 95% confidence interval of the difference of the two conversion rates is Newcombe's
hybrid score interval (his method 10, 1998): each rate gets its Wilson score interval and
the two are combined. Unlike the plain normal approximation (Wald) it stays inside
[-1, 1] and keeps close to its nominal coverage for small groups and for rates near 0 or
1, which is what holdouts of a few percent produce."""

from dataclasses import dataclass
from math import sqrt

Z_95 = 1.959963984540054  # the 97.5th percentile of the standard normal distribution


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of successes / trials."""
    if trials <= 0:
        raise ValueError("the interval of an empty group is undefined")
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Lift:
    """Messaged vs holdout conversion, the difference in percentage points and its 95% CI."""

    messaged: int
    messaged_converted: int
    holdout: int
    holdout_converted: int
    messaged_rate: float
    holdout_rate: float
    difference: float
    low: float
    high: float

    @property
    def relative(self) -> float | None:
        """The messaged rate over the holdout rate, minus one (None when the holdout is 0)."""
        return self.messaged_rate / self.holdout_rate - 1 if self.holdout_rate else None

    @property
    def is_significant(self) -> bool:
        """True when the whole interval lies on one side of zero."""
        return self.low > 0 or self.high < 0


def holdout_lift(
    *, messaged: int, messaged_converted: int, holdout: int, holdout_converted: int
) -> Lift | None:
    """The lift of the messaged group over the holdout, or None when a group is empty."""
    if messaged <= 0 or holdout <= 0:
        return None
    p1, p2 = messaged_converted / messaged, holdout_converted / holdout
    l1, u1 = wilson_interval(messaged_converted, messaged)
    l2, u2 = wilson_interval(holdout_converted, holdout)
    difference = p1 - p2
    return Lift(
        messaged=messaged,
        messaged_converted=messaged_converted,
        holdout=holdout,
        holdout_converted=holdout_converted,
        messaged_rate=p1,
        holdout_rate=p2,
        difference=difference,
        low=difference - sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        high=difference + sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )
