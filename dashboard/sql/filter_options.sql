-- Sidebar options with item counts over the whole warehouse (see filter_options in views.sql).
with
option as (
    select dimension, value, n from filter_options
)
select dimension, value, n
from option
order by dimension, n desc, value
