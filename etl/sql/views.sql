-- Derived tables and macros for the dashboard. Executed by the ETL at the end of every warehouse
-- build, after all inserts and after item_facts.sql and parse_coverage.sql have filled item_facts
-- and coverage_parts bucket by bucket, in the new file (the dashboard opens the warehouse
-- read-only, so it cannot create these itself). Owned by the dashboard; contract documented in dashboard/README.md.
--
-- Everything here is rebuilt from letters, decisions and citations: safe to run again.

-- 95% Wilson score interval for k successes out of n trials (z = 1.959963984540054).
create or replace macro wilson_lower(k, n) as
    case when n > 0 then
        ((k::double / n) + 3.841458820694124 / (2 * n)
         - 1.959963984540054
           * sqrt((k::double / n) * (1 - k::double / n) / n + 3.841458820694124 / (4 * n * n)))
        / (1 + 3.841458820694124 / n)
    end;

create or replace macro wilson_upper(k, n) as
    case when n > 0 then
        ((k::double / n) + 3.841458820694124 / (2 * n)
         + 1.959963984540054
           * sqrt((k::double / n) * (1 - k::double / n) / n + 3.841458820694124 / (4 * n * n)))
        / (1 + 3.841458820694124 / n)
    end;

-- Sidebar filter options with their item counts over the whole warehouse.
-- dimension is the query-parameter name; list dimensions count an item once per value.
create or replace table filter_options as
with facts as (
    select * from item_facts
)
select 'category' as dimension, category as value, count(*) as n
from facts where category is not null group by category
union all
select 'drug_class', drug_class, count(*)
from facts where drug_class is not null group by drug_class
union all
select 'drug', value, count(*)
from (select unnest(drugs) as value from facts) group by value
union all
select 'specialty', value, count(*)
from (select unnest(reviewer_specialties) as value from facts) group by value
union all
select 'guideline_source', value, count(*)
from (select unnest(guideline_sources) as value from facts) group by value
union all
select 'state', value, count(*)
from (select unnest(reviewer_states) as value from facts) group by value
union all
select 'decision', decision, count(*)
from facts group by decision
union all
select 'injury_year', injury_year::varchar, count(*)
from facts where injury_year is not null group by injury_year
union all
select 'decision_year', decision_year::varchar, count(*)
from facts where decision_year is not null group by decision_year;

-- Parse coverage: the per-bucket counts of parse_coverage.sql added up.
create or replace table parse_coverage as
with parts as (
    select * from coverage_parts
)
select scope, layout, field, sum(present)::bigint as present, sum(total)::bigint as total
from parts
group by scope, layout, field;
