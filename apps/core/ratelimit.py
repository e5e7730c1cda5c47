"""Fixed-window request budgets for the public endpoints, kept in the cache (Redis in
production, so every web process shares one count per client)."""

from django.core.cache import cache

WINDOW_SECONDS = 60


def budget_spend(scope: str, client: str | None, *, per_minute: int) -> bool:
    """Counts one request of `client` against its budget in `scope` for the current
    minute; False once the budget is spent."""
    return budget_count(scope, client, spend=True) <= per_minute


def budget_exhausted(scope: str, client: str | None, *, per_minute: int) -> bool:
    """Whether `client` has already spent its budget in `scope`, without spending any."""
    return budget_count(scope, client, spend=False) >= per_minute


def budget_count(scope: str, client: str | None, *, spend: bool) -> int:
    key = f"rate:{scope}:{client or 'unknown'}"
    if not spend:
        return cache.get(key, 0)
    cache.add(key, 0, timeout=WINDOW_SECONDS)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS)
        return 1
