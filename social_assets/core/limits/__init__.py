"""Staying inside each platform's limits, shared by every process that uses a credential.

- `kinds`: the kinds of limit (calls per window, units per day, usage percentages), each a pure
  state machine fed by the platform's headers;
- `policy`: `LimitPolicy`, what a platform declares in its own folder (its limits, header
  names, quota costs, which answers mean "slow down" or "quota spent");
- `breaker`: a circuit breaker per endpoint;
- `limiter`: `Limiter`, which applies a policy around every exchange of an `ApiSession`;
- `tokens`: `TokenCache` and `OAuthClient`, OAuth tokens shared across processes;
- `store` and `shared`: where the state lives (SQLite, Redis, PostgreSQL or memory) and under
  which key (a hash of the credential).
"""

from social_assets.core.limits.breaker import BreakerRule
from social_assets.core.limits.kinds import DailyQuota, MonthlyQuota, SlidingWindow, UsageShare, WindowHeaders, WindowLimit
from social_assets.core.limits.limiter import Headroom, Limiter, Permit, Settled
from social_assets.core.limits.policy import LimitPolicy, path_endpoint
from social_assets.core.limits.shared import SharedState, credential_hash, shared_state
from social_assets.core.limits.store import MemoryStore, PostgresStore, RedisStore, SQLiteStore, StateStore, open_store
from social_assets.core.limits.tokens import OAuthClient, TokenCache, TokenGrant

__all__ = [
    "BreakerRule",
    "DailyQuota",
    "Headroom",
    "Limiter",
    "LimitPolicy",
    "MemoryStore",
    "MonthlyQuota",
    "OAuthClient",
    "Permit",
    "PostgresStore",
    "RedisStore",
    "SQLiteStore",
    "Settled",
    "SharedState",
    "SlidingWindow",
    "StateStore",
    "TokenCache",
    "TokenGrant",
    "UsageShare",
    "WindowHeaders",
    "WindowLimit",
    "credential_hash",
    "open_store",
    "path_endpoint",
    "shared_state",
]
