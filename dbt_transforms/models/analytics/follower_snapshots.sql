-- One point in time per account: the followers the platform reported.
-- snapshot_source says where the figure comes from: 'collected' is the count the profile
-- endpoint answered at collected_at; 'derived' is a past count worked out from a platform's
-- history endpoint (Instagram's and LinkedIn's daily follower gains, YouTube Analytics'
-- subscriber changes; normalized.follower_history), with
-- collected_at = the moment it describes. A collected count wins over a derived one of the
-- same moment, and of several derivations of one moment the latest read wins.
-- Incremental (macros/incremental.sql): a build recomputes a changed account's snapshots from its
-- earliest changed moment on.
-- depends_on: {{ source('ops', 'analytics_changes') }}
{{ config(materialized='incremental', incremental_strategy='replace_changed', unique_key=['platform', 'account_id', 'collected_at']) }}
with snapshots as (
    select platform, account_id, collected_at, followers, 'collected' as snapshot_source,
           collected_at as read_at
    from {{ source('normalized', 'profiles') }}
    union all
    select platform, account_id, observed_at, followers, 'derived', collected_at
    from {{ source('normalized', 'follower_history') }}
)

select distinct on (platform, account_id, collected_at)
    platform, account_id, collected_at, followers, snapshot_source
from snapshots
{% if is_incremental() -%}
where exists (
    select 1 from ({{ follower_changes() }}) c
    where c.platform = snapshots.platform and c.account_id = snapshots.account_id and snapshots.collected_at >= c.since
)
{% endif -%}
order by platform, account_id, collected_at, snapshot_source, read_at desc
