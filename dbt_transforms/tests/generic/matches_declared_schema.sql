{#
  The table has exactly the columns its YAML declares, each of the declared `data_type`
  (DuckDB's names, as information_schema.columns reports them: VARCHAR, BIGINT, TIMESTAMP, ...).
  Failing rows: one per column that is missing, unexpected, or of another type.
  The declaration is the analysts' contract: change it together with the model.
#}
{% test matches_declared_schema(model) %}
{%- set declared = [] %}
{%- if execute %}
  {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.alias == model.identifier and node.schema == model.schema %}
    {%- for column in node.columns.values() %}
      {%- do declared.append((column.name, (column.data_type or '') | upper)) %}
    {%- endfor %}
  {%- endfor %}
{%- endif %}
with declared as (
    {%- if declared %}
    select * from (values
        {%- for name, type in declared %}
        ('{{ name }}', '{{ type }}'){{ ',' if not loop.last }}
        {%- endfor %}
    ) as t(column_name, data_type)
    {%- else %}
    select null::varchar as column_name, null::varchar as data_type where false
    {%- endif %}
),

actual as (
    select column_name, upper(data_type) as data_type
    from information_schema.columns
    where table_schema = '{{ model.schema }}' and table_name = '{{ model.identifier }}'
)

select
    coalesce(d.column_name, a.column_name) as column_name,
    d.data_type as declared_type,
    a.data_type as actual_type
from declared d
full outer join actual a on d.column_name = a.column_name
where d.data_type is distinct from a.data_type
{% endtest %}
