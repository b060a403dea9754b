-- One point in time per post and collection: the counts as the platform reported them.
select distinct on (platform, post_id, collected_at)
    platform, account_id, post_id, collected_at, likes, comments, shares, views
from {{ source('normalized', 'posts') }}
order by platform, post_id, collected_at, account_id
