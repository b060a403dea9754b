-- One row per tracked account with its latest known counts. account_name is the newest name the
-- platform gave for the account (Reddit: the subreddit or user name; YouTube: the channel's
-- handle), or the account_id when it never gave one.
with named as (
    select platform, account_id, username as account_name
    from {{ source('normalized', 'profiles') }}
    where username is not null
    qualify row_number() over (partition by platform, account_id order by collected_at desc) = 1
)

select distinct on (p.platform, p.account_id)
    p.platform, p.account_id, coalesce(n.account_name, p.account_id) as account_name,
    p.username, p.followers, p.following, p.posts_count, p.collected_at, p.likes_received
from {{ source('normalized', 'profiles') }} p
left join named n using (platform, account_id)
order by p.platform, p.account_id, p.collected_at desc
