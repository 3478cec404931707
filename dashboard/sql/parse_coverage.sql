-- Parse coverage per field, over all layouts and per layout.
with
coverage as (
    select scope, layout, field, present, total from parse_coverage
),
overall as (
    select scope, 'all' as layout, field, sum(present)::bigint as present, sum(total)::bigint as total
    from coverage
    group by scope, field
),
combined as (
    select * from overall
    union all
    select * from coverage
)
select scope, layout, field, present, total, present / nullif(total, 0) as share
from combined
order by scope, field, layout = 'all' desc, layout
