-- The warehouse's search index (its folder and id, etl/search/build.py), the file attached, and
-- this DuckDB's hash of the probe the index recorded (keys are hashes: both must agree).
with
entry as (
    select key, value from meta where key in ('search_index', 'search_index_id')
),
attached as (
    select path from duckdb_databases() where database_name = 'warehouse'
)
select
    (select path from attached) as path,
    (select value from entry where key = 'search_index') as search_index,
    (select value from entry where key = 'search_index_id') as search_index_id,
    hash('imr-search-probe', 7::integer, 0::integer)::varchar as hash_probe
