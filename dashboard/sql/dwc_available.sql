-- Whether the warehouse holds DWC's index (`imr fetch` writes it; an older warehouse has none).
select count(*) > 0 as available
from duckdb_tables()
where database_name = $database and table_name = 'dwc_index'
