-- One row per post: what it is (from its latest collection) with its latest known metrics
-- (from the latest engagement snapshot, daily or hourly). engagement_rate is
-- (likes + comments + shares, a missing count taken as 0) / the account's followers when the
-- metrics were collected, in percent; null when followers are unknown or 0. account_name comes
-- from analytics.profiles. A post the platform says is gone is a tombstone: deleted_at is set,
-- text, author, media and permalink are null, and the metrics are the last ones observed.
-- Incremental (macros/incremental.sql): a build recomputes the posts with an observation removed
-- or added since the last one, those of renamed accounts and those whose follower count at
-- collection may have changed.
-- depends_on: {{ source('ops', 'analytics_changes') }}
{{ config(materialized='incremental', incremental_strategy='replace_changed', unique_key=['platform', 'post_id']) }}
with {% if is_incremental() -%}
changed as ({{ changed_keys('posts') }}),

{% endif -%}
latest_collection as (
    select distinct on (platform, post_id) *
    from {{ source('normalized', 'posts') }}
    {% if is_incremental() -%}
    where (platform, post_id) in (select platform, post_id from changed)
    {% endif -%}
    order by platform, post_id, collected_at desc, account_id
),

latest_metrics as (
    select distinct on (platform, post_id) *
    from {{ ref('engagement_snapshots') }}
    {% if is_incremental() -%}
    where (platform, post_id) in (select platform, post_id from changed)
    {% endif -%}
    order by platform, post_id, collected_at desc
)

select
    p.platform,
    p.account_id,
    coalesce(a.account_name, p.account_id) as account_name,
    p.post_id,
    p.author_id,
    p.author_username,
    p.text,
    p.content_type,
    p.media_urls,
    p.published_at,
    m.likes,
    m.comments,
    m.shares,
    m.views,
    m.saves,
    m.impressions,
    m.reach,
    m.clicks,
    m.watch_time_seconds,
    p.permalink,
    m.collected_at,
    f.followers as followers_at_collection,
    case when f.followers > 0
         then 100.0 * (coalesce(m.likes, 0) + coalesce(m.comments, 0) + coalesce(m.shares, 0)) / f.followers
    end as engagement_rate,
    p.deleted_at,
    p.duration_seconds
from latest_collection p
join latest_metrics m using (platform, post_id)
left join {{ ref('profiles') }} a on p.platform = a.platform and p.account_id = a.account_id
asof left join {{ ref('follower_snapshots') }} f
  on p.platform = f.platform and p.account_id = f.account_id and m.collected_at >= f.collected_at
