{#
  The model's key: no column of it null, and no two rows share it.
  Failing rows: each null key (reason 'null key') and each duplicated key (reason 'duplicate key',
  with how many rows share it).
#}
{% test unique_key(model, columns) %}
{%- set key = columns | join(', ') %}
select {{ key }}, 'null key' as reason, 1 as rows_with_key
from {{ model }}
where {% for column in columns %}{{ column }} is null{{ ' or ' if not loop.last }}{% endfor %}

union all

select {{ key }}, 'duplicate key' as reason, count(*) as rows_with_key
from {{ model }}
where {% for column in columns %}{{ column }} is not null{{ ' and ' if not loop.last }}{% endfor %}
group by {{ key }}
having count(*) > 1
{% endtest %}
