{#
  Incremental analytics (issue #11): the tables that grow with history are not rebuilt on each
  build; only what the partitions written since the last build touch is recomputed.

  ops.analytics_changes lists, for every partition write since the last build, the items of the
  normalized rows it removed and of those it added (posts, comments, accounts), with the
  earliest moment and publication of those rows. From it each model knows its changed keys
  (`changed_keys`): the rows that may differ from a full rebuild. The analytics step deletes the
  changes a successful build consumed (social_assets/warehouse/dbt_project.py).

  Strategy `replace_changed`: every row of the table whose unique_key is among the model's
  changed keys is deleted, then the model's rows, computed for those keys only, are inserted.
  dbt's own delete+insert deletes only the keys of the new rows, so an item a replaced partition
  no longer holds anywhere (gone, left the sources) would stay; here it goes, as in a full
  rebuild. The changed keys are read before anything is deleted (the model's rows are computed
  first, and the delete's subquery sees the table as it was).

  A run with --full-refresh, or the first build, rebuilds every table from the normalized layer.
#}
{% macro get_incremental_replace_changed_sql(arg_dict) %}
{%- set target = arg_dict['target_relation'] -%}
{%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
delete from {{ target }}
where ({{ arg_dict['unique_key'] | join(', ') }}) in ({{ changed_keys(model.name) }});

insert into {{ target }} ({{ columns }})
select {{ columns }} from {{ arg_dict['temp_relation'] }}
{% endmacro %}


{# The changed keys of a model, in the columns (and order) of its unique_key. #}
{% macro changed_keys(model_name) %}
{%- set ROLLUP_GRAINS = {'rollups_daily': 'day', 'rollups_weekly': 'week', 'rollups_monthly': 'month'} -%}
{%- if model_name == 'comments' -%}
    select distinct platform, item_id as comment_id from ({{ changes(['comments']) }})
{%- elif model_name == 'engagement_snapshots' -%}
    {{ changed_posts() }}
{%- elif model_name == 'follower_snapshots' -%}
    {#- Every snapshot of a changed account from its earliest changed moment on: a moment's
        snapshot depends only on that moment's rows. #}
    select t.platform, t.account_id, t.collected_at
    from {{ this }} t join ({{ follower_changes() }}) s using (platform, account_id)
    where t.collected_at >= s.since
{%- elif model_name == 'posts' -%}
    {{ changed_posts() }}
    union
    {#- account_name is the account's newest name: a renamed account's posts all change. #}
    select t.platform, t.post_id
    from {{ this }} t left join {{ ref('profiles') }} a using (platform, account_id)
    where t.account_name is distinct from coalesce(a.account_name, t.account_id)
    union
    {#- followers_at_collection: the last snapshot at or before the metrics' collection. #}
    select t.platform, t.post_id
    from {{ this }} t join ({{ follower_changes() }}) s using (platform, account_id)
    where t.collected_at >= s.since
{%- elif model_name in ROLLUP_GRAINS -%}
    {{ changed_periods(ROLLUP_GRAINS[model_name]) }}
{%- else -%}
    {{ exceptions.raise_compiler_error("changed_keys: no changed keys are defined for " ~ model_name) }}
{%- endif -%}
{% endmacro %}


{% macro changes(resources) -%}
select * from {{ source('ops', 'analytics_changes') }}
where resource in ({% for r in resources %}'{{ r }}'{{ ', ' if not loop.last }}{% endfor %})
{%- endmacro %}


{# Posts with an observation (a daily collection or an hourly refresh) removed or added. #}
{% macro changed_posts() -%}
select distinct platform, item_id as post_id from ({{ changes(['posts', 'post_metrics']) }})
{%- endmacro %}


{# Per account with a profile or a derived follower count removed or added: the earliest
   moment it describes (since). Its follower snapshots from then on may change. #}
{% macro follower_changes() -%}
select platform, item_id as account_id, min(observed_at) as since
from ({{ changes(['profiles', 'follower_history']) }})
group by all
{%- endmacro %}


{# The (platform, account_id, period_start) of a rollup that may change. #}
{% macro changed_periods(grain) -%}
{%- set period_of = "date_trunc('" ~ grain ~ "', {})::date" -%}
{#- The periods of a changed post: those of all its collections (the latest one, which
    analytics.posts holds, may be under another account), and of the rows removed. #}
select platform, account_id, {{ period_of.format('published_at') }}
from {{ source('normalized', 'posts') }}
where (platform, post_id) in ({{ changed_posts() }})
union
select platform, account_id, {{ period_of.format('published_at') }} from ({{ changes(['posts']) }})
union
{#- Posts whose followers_at_collection, hence engagement_rate, may have changed. #}
select p.platform, p.account_id, {{ period_of.format('p.published_at') }}
from {{ ref('posts') }} p join ({{ follower_changes() }}) s using (platform, account_id)
where p.collected_at >= s.since
union
{#- Periods ending at or after a changed follower moment: followers_end and the growth. #}
select r.platform, r.account_id, r.period_start
from {{ this }} r join ({{ follower_changes() }}) s using (platform, account_id)
where r.period_start + interval 1 {{ grain }} >= s.since
union
select f.platform, f.account_id, {{ period_of.format('f.collected_at') }}
from {{ ref('follower_snapshots') }} f join ({{ follower_changes() }}) s using (platform, account_id)
where f.collected_at >= s.since
{%- endmacro %}
