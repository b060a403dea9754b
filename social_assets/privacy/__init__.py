"""Personal data and platform deletions: what the warehouse must forget, and the record of
every time it did (ops.audit_log).

- `deletions`: posts and comments the platform says are gone are purged everywhere, leaving a
  tombstone row (ids, metrics, `deleted_at`);
- `scrub`: removing one item from a landed JSON body, whatever the platform's shape;
- `pseudonyms`: usernames of people who are not tracked accounts, as keyed hashes;
- `retention`: raw bodies and comments older than the sources file allows are deleted;
- `audit`: one row per destructive action.
"""
