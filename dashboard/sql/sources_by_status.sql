-- Input files seen, by status.
with
source as (
    select status from sources
)
select status, count(*) as files
from source
group by status
order by files desc
