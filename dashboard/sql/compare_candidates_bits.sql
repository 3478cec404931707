-- compare_candidates.sql for a list whose value $a and $candidates all have bits of their own
-- (the build's dictionary: queries.value_bits): the patterns of the items' __COLUMN___bits
-- under the filters (a few thousand rows at 4M items), each candidate summing those that hold
-- its bit ($candidate_masks, in the order of $candidates) and not $a's ($a_mask). The list
-- itself is not read. Candidates without such items are no row.
with
patterns as (
    select __COLUMN___bits as pattern, count(*) as n
    from item_facts
    where __FILTERS__
    group by pattern
),
candidates as (
    select
        unnest($candidates::varchar[]) as candidate,
        unnest($candidate_masks::ubigint[]) as mask
)
select candidates.candidate, sum(patterns.n)::bigint as n
from candidates
join patterns
    on (patterns.pattern & candidates.mask) <> 0
    and (patterns.pattern & $a_mask::ubigint) = 0
group by candidates.candidate
