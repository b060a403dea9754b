-- One row per comment with its latest known likes.
select distinct on (platform, comment_id)
    platform, account_id, post_id, comment_id, parent_id, author_username, text,
    published_at, likes, depth, collected_at
from {{ source('normalized', 'comments') }}
order by platform, comment_id, collected_at desc
