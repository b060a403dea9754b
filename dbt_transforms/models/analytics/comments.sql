-- One row per comment with its latest known likes. A comment the platform says is gone is a
-- tombstone: deleted_at is set and its text and author are null.
-- Incremental (macros/incremental.sql): a build recomputes the comments partition writes
-- removed or added since the last one.
-- depends_on: {{ source('ops', 'analytics_changes') }}
{{ config(materialized='incremental', incremental_strategy='replace_changed', unique_key=['platform', 'comment_id']) }}
select distinct on (platform, comment_id)
    platform, account_id, post_id, comment_id, parent_id, author_username, text,
    published_at, likes, depth, collected_at, deleted_at
from {{ source('normalized', 'comments') }}
{% if is_incremental() -%}
where (platform, comment_id) in ({{ changed_keys('comments') }})
{% endif -%}
order by platform, comment_id, collected_at desc
