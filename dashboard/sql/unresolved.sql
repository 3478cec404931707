-- Names the vocabulary could not resolve, with how many letters/items they occur in.
with
name as (
    select letter_id, item_no, kind, value from unresolved
)
select
    kind,
    value,
    count(*) as occurrences,
    count(distinct letter_id) as letters
from name
group by kind, value
order by occurrences desc, kind, value
