-- Rejected input files by reason.
with
reject as (
    select reason, detail, source_path, seen_at from rejects
)
select
    reason,
    count(*) as files,
    count(distinct source_path) as paths,
    any_value(detail) as example_detail,
    max(seen_at) as last_seen
from reject
group by reason
order by files desc, reason
