-- One point in time per post and observation: the counts as the platform reported them, from
-- the daily collections and the hourly refreshes.
-- Incremental (macros/incremental.sql): a build recomputes every point of the posts with an
-- observation removed or added since the last one.
-- depends_on: {{ source('ops', 'analytics_changes') }}
{{ config(materialized='incremental', incremental_strategy='replace_changed', unique_key=['platform', 'post_id']) }}
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
{% if is_incremental() -%}
where (platform, post_id) in ({{ changed_keys('engagement_snapshots') }})
{% endif -%}
order by platform, post_id, collected_at, account_id
