-- Columns of the warehouse marts the dashboard reads ($tables), with their types, in the
-- attached warehouse.
with
column_info as (
    select table_name, column_name, data_type from information_schema.columns
    where table_catalog = current_database() and list_contains($tables::varchar[], table_name)
)
select table_name, column_name, data_type
from column_info
order by table_name, column_name
