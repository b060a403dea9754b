{#
  Every row of the model points at a row of `to` with the same `columns` (a foreign key over
  several columns, e.g. platform and post_id). Failing rows: the keys that point nowhere.
#}
{% test references(model, to, columns) %}
select {% for column in columns %}c.{{ column }}{{ ', ' if not loop.last }}{% endfor %}, count(*) as rows_pointing_nowhere
from {{ model }} c
where not exists (
    select 1 from {{ to }} p
    where {% for column in columns %}p.{{ column }} = c.{{ column }}{{ ' and ' if not loop.last }}{% endfor %}
)
group by all
{% endtest %}
