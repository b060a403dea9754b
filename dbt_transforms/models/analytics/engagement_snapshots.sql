-- One point in time per post and observation: the counts as the platform reported them, from
-- the daily collections and the hourly refreshes.
with observations as (
    select platform, account_id, post_id, collected_at, likes, comments, shares, views
    from {{ source('normalized', 'posts') }}
    union all
    select platform, account_id, post_id, collected_at, likes, comments, shares, views
    from {{ source('normalized', 'post_metrics') }}
)

select distinct on (platform, post_id, collected_at)
    platform, account_id, post_id, collected_at, likes, comments, shares, views
from observations
order by platform, post_id, collected_at, account_id
