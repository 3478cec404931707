-- Warehouse metadata (build time, versions).
with
entry as (
    select key, value from meta
)
select key, value
from entry
order by key
