-- One point in time per account: the followers the platform reported.
-- snapshot_source says where the figure comes from: 'collected' is the count the profile
-- endpoint answered at collected_at; 'derived' is a past count worked out from a platform's
-- history endpoint (Instagram's and LinkedIn's daily follower gains, YouTube Analytics'
-- subscriber changes; normalized.follower_history), with
-- collected_at = the moment it describes. A collected count wins over a derived one of the
-- same moment, and of several derivations of one moment the latest read wins.
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
order by platform, account_id, collected_at, snapshot_source, read_at desc
