-- One point in time per account and collection.
select distinct on (platform, account_id, collected_at)
    platform, account_id, collected_at, followers
from {{ source('normalized', 'profiles') }}
order by platform, account_id, collected_at
