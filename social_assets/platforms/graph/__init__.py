"""The Graph API layer shared by Instagram and Facebook Pages (no `PLATFORM`: not a platform).

- `api`: the pinned version, hosts, endpoint names, the error table, the usage-share limits
  and the `paging.next` paginator;
- `bodies`: reading Graph bodies for the normalizers (error envelopes, `data` lists, `?ids=`
  maps, timestamps, insights values).
"""
