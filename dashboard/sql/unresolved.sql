-- Names the vocabulary could not resolve, with how many letters/items they occur in (the
-- unresolved_counts mart, which `imr vocab report` reads too).
with
counted as (
    select kind, value, occurrences, letters from unresolved_counts
)
select kind, value, occurrences, letters
from counted
order by occurrences desc, kind, value
