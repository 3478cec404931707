-- Whether the warehouse's decisions have the reasons column (added by a later schema).
select count(*) > 0 as present
from duckdb_columns()
where database_name = 'warehouse' and table_name = 'decisions' and column_name = 'reasons'
