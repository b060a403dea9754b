-- One row per post with its latest known metrics. engagement_rate is
-- (likes + comments + shares, a missing count taken as 0) / the account's followers when the
-- metrics were collected, in percent; null when followers are unknown or 0.
with latest as (
    select distinct on (platform, post_id) *
    from {{ source('normalized', 'posts') }}
    order by platform, post_id, collected_at desc, account_id
)

select
    p.platform,
    p.account_id,
    p.post_id,
    p.author_id,
    p.author_username,
    p.text,
    p.content_type,
    p.media_urls,
    p.published_at,
    p.likes,
    p.comments,
    p.shares,
    p.views,
    p.permalink,
    p.collected_at,
    f.followers as followers_at_collection,
    case when f.followers > 0
         then 100.0 * (coalesce(p.likes, 0) + coalesce(p.comments, 0) + coalesce(p.shares, 0)) / f.followers
    end as engagement_rate
from latest p
asof left join {{ ref('follower_snapshots') }} f
  on p.platform = f.platform and p.account_id = f.account_id and p.collected_at >= f.collected_at
