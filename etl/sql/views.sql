-- The parse_coverage and unresolved_counts marts. Executed by the ETL at the end of every warehouse build, after all
-- inserts and after item_facts.sql and parse_coverage.sql have filled item_facts and
-- coverage_parts bucket by bucket, in the new file. The marts' contract is documented in
-- dashboard/README.md.
--
-- Everything here is rebuilt from letters, decisions and citations: safe to run again.

-- The Wilson macros and the filter options moved to the dashboard, which creates them when it
-- connects; drop what builds before that left in the file (a build starts from a copy).
drop macro if exists wilson_lower;
drop macro if exists wilson_upper;
drop table if exists filter_options;

-- Parse coverage: the per-bucket counts of parse_coverage.sql added up.
create or replace table parse_coverage as
with parts as (
    select * from coverage_parts
)
select scope, layout, field, sum(present)::bigint as present, sum(total)::bigint as total
from parts
group by scope, layout, field;

-- What the vocabulary did not resolve, counted once for `imr vocab report` and the dashboard.
create or replace table unresolved_counts as
with name as (
    select letter_id, item_no, kind, value from unresolved
)
select
    kind,
    value,
    count(*) as occurrences,
    count(distinct letter_id) as letters
from name
group by kind, value;
