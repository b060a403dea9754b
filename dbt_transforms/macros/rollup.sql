{#
  Rollup of posts and followers per platform, account and period (grain: day, week, month).

  - A period counts the posts published in it, each with its latest known metrics.
  - Totals are sums over those posts; a count the platform never reports stays null. The sums
    and means of floating-point figures add their values in a fixed order (smallest first), so a
    period's figures do not depend on the order its posts are read in (an incremental build
    reads them in another order than a full one).
  - followers_end is the last follower snapshot collected at or before the period's end
    (the first instant of the next period);
    growth compares it with the same figure for the period before.
  - Periods are those with posts or follower snapshots. Weeks start on Monday.
  - Incremental (macros/incremental.sql): a build recomputes only the periods of the accounts
    that the changes since the last build touch (`changed_periods`).
#}
{% macro rollup(grain) %}
with {% if is_incremental() -%}
changed as (
    select * from ({{ changed_periods(grain) }}) c(platform, account_id, period_start)
),

{% endif -%}
posts as (
    select platform, account_id, date_trunc('{{ grain }}', published_at)::date as period_start,
           likes, comments, shares, views, saves, impressions, reach, clicks, watch_time_seconds, engagement_rate
    from {{ ref('posts') }}
    {% if is_incremental() -%}
    where (platform, account_id, date_trunc('{{ grain }}', published_at)::date) in (select * from changed)
    {% endif -%}
),

periods as (
    select * from (
        select distinct platform, account_id, period_start from posts
        union
        select distinct platform, account_id, date_trunc('{{ grain }}', collected_at)::date
        from {{ ref('follower_snapshots') }}
    ) p
    {% if is_incremental() -%}
    where (platform, account_id, period_start) in (select * from changed)
    {% endif -%}
),

bounds as (
    select *,
           (period_start + interval 1 {{ grain }})::timestamp as period_end,
           period_start::timestamp as previous_end
    from periods
),

with_followers as (
    select b.platform, b.account_id, b.period_start, b.period_end, b.previous_end,
           f.followers as followers_end
    from bounds b
    asof left join {{ ref('follower_snapshots') }} f
      on b.platform = f.platform and b.account_id = f.account_id and b.period_end >= f.collected_at
),

with_previous as (
    select w.*, p.followers as followers_previous
    from with_followers w
    asof left join {{ ref('follower_snapshots') }} p
      on w.platform = p.platform and w.account_id = p.account_id and w.previous_end >= p.collected_at
),

post_totals as (
    select platform, account_id, period_start,
           count(*) as posts,
           sum(likes) as likes,
           sum(comments) as comments,
           sum(shares) as shares,
           sum(views) as views,
           sum(saves) as saves,
           sum(impressions) as impressions,
           sum(reach) as reach,
           sum(clicks) as clicks,
           sum(watch_time_seconds order by watch_time_seconds) as watch_time_seconds,
           avg(engagement_rate order by engagement_rate) as avg_engagement_rate,
           min(engagement_rate) as min_engagement_rate,
           max(engagement_rate) as max_engagement_rate
    from posts
    group by all
)

select
    w.platform,
    w.account_id,
    w.period_start,
    coalesce(t.posts, 0) as posts,
    t.likes,
    t.comments,
    t.shares,
    t.views,
    t.saves,
    t.impressions,
    t.reach,
    t.clicks,
    t.watch_time_seconds,
    t.avg_engagement_rate,
    t.min_engagement_rate,
    t.max_engagement_rate,
    w.followers_end,
    w.followers_end - w.followers_previous as follower_growth,
    case when w.followers_previous > 0
         then 100.0 * (w.followers_end - w.followers_previous) / w.followers_previous
    end as follower_growth_rate
from with_previous w
left join post_totals t using (platform, account_id, period_start)
order by w.platform, w.account_id, w.period_start
{% endmacro %}
