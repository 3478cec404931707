-- Days from application received to decision, by review priority, where the letter states both.
with
filtered as (
    select letter_key, priority, days_to_decision from item_facts where __FILTERS__
),
letter as (
    -- letter_key, not letter_id: the same letters, a third faster to tell apart at millions.
    select distinct letter_key, coalesce(priority, '(not stated)') as priority, days_to_decision
    from filtered
    where days_to_decision is not null
)
select
    priority,
    count(*) as letters,
    median(days_to_decision) as median_days,
    quantile_cont(days_to_decision, 0.25) as p25_days,
    quantile_cont(days_to_decision, 0.75) as p75_days,
    quantile_cont(days_to_decision, 0.9) as p90_days,
    min(days_to_decision) as min_days,
    max(days_to_decision) as max_days,
    letters < $small_n as small_sample
from letter
group by priority
order by letters desc, priority
