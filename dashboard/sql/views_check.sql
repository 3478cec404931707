-- Columns of the derived tables the dashboard needs (built by etl/sql/views.sql).
with
column_info as (
    select table_name, column_name from information_schema.columns
    where table_name in ('item_facts', 'filter_options', 'parse_coverage')
)
select table_name, column_name
from column_info
order by table_name, column_name
