-- One row per tracked account with its latest known counts.
select distinct on (platform, account_id)
    platform, account_id, username, followers, following, posts_count, collected_at
from {{ source('normalized', 'profiles') }}
order by platform, account_id, collected_at desc
