-- One point in time per post and observation: the counts as the platform reported them, from
-- the daily collections and the hourly refreshes.
{% set metrics = 'likes, comments, shares, views, saves, impressions, reach, clicks, watch_time_seconds' %}
with observations as (
    select platform, account_id, post_id, collected_at, {{ metrics }}
    from {{ source('normalized', 'posts') }}
    union all
    select platform, account_id, post_id, collected_at, {{ metrics }}
    from {{ source('normalized', 'post_metrics') }}
)

select distinct on (platform, post_id, collected_at)
    platform, account_id, post_id, collected_at, {{ metrics }}
from observations
order by platform, post_id, collected_at, account_id
