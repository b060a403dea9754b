-- depends_on: {{ source('ops', 'analytics_changes') }}, {{ source('normalized', 'posts') }}
{{ config(materialized='incremental', incremental_strategy='replace_changed', unique_key=['platform', 'account_id', 'period_start']) }}
{{ rollup('month') }}
