-- One row per comment with its latest known likes. A comment the platform says is gone is a
-- tombstone: deleted_at is set and its text and author are null.
select distinct on (platform, comment_id)
    platform, account_id, post_id, comment_id, parent_id, author_username, text,
    published_at, likes, depth, collected_at, deleted_at
from {{ source('normalized', 'comments') }}
order by platform, comment_id, collected_at desc
