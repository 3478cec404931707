-- Rejected input files, newest first.
with
reject as (
    select source_path, source_sha256, reason, detail, seen_at from rejects
)
select source_path, reason, detail, seen_at, source_sha256
from reject
order by seen_at desc, source_path
limit $row_limit
