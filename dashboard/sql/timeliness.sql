-- Days from application received to decision, by review priority, where the letter states both.
with
-- Not materialized: read by either branch below.
filtered as not materialized (
    select letter_key, __LETTER_FLAG__ as letter_flag, priority, days_to_decision
    from item_facts
    where __FILTERS__
),
-- One row per letter: its one flagged item where the slice has such a flag ($by_flag:
-- queries.letter_flag; the first item when every filter is the letter's own, the first with
-- the selected value of an item's own field), else the distinct letters (letter_key, not
-- letter_id: the same letters, a third faster to tell apart at millions). Under one specialty
-- at 4M items, 100-110 ms distinct, 65 by first items.
letter as (
    select letter_key, coalesce(priority, '(not stated)') as priority, days_to_decision
    from filtered
    where days_to_decision is not null and $by_flag::boolean and letter_flag
    union all
    select distinct letter_key, coalesce(priority, '(not stated)') as priority, days_to_decision
    from filtered
    where days_to_decision is not null and not $by_flag::boolean
),
-- The quartiles and the 90th percentile of a priority in one aggregate rather than four
-- (under a reason and a guideline source at 4M items 45 -> 38 ms).
per_priority as (
    select
        priority,
        count(*) as letters,
        quantile_cont(days_to_decision, [0.5, 0.25, 0.75, 0.9]) as quantiles,
        min(days_to_decision) as min_days,
        max(days_to_decision) as max_days
    from letter
    group by priority
)
select
    priority,
    letters,
    quantiles[1] as median_days,
    quantiles[2] as p25_days,
    quantiles[3] as p75_days,
    quantiles[4] as p90_days,
    min_days,
    max_days,
    letters < $small_n as small_sample
from per_priority
order by letters desc, priority
