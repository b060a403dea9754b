-- One point in time per account: the followers the platform reported.
-- snapshot_source says where the figure comes from: 'collected' is the count the profile
-- endpoint answered at collected_at (every snapshot today); 'derived' is reserved for past
-- counts that platforms' history endpoints give (Instagram account insights, LinkedIn
-- follower statistics), which will be added here with collected_at = the moment they describe.
select distinct on (platform, account_id, collected_at)
    platform, account_id, collected_at, followers, 'collected' as snapshot_source
from {{ source('normalized', 'profiles') }}
order by platform, account_id, collected_at
