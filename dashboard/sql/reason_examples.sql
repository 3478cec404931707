-- Items of the filtered slice giving one reason, newest first (queries.reason_examples adds
-- each one's sentence from reason_sentences.sql). $from_year (NULL: every year) leaves out the
-- items decided before it: when that still leaves $limit items, they are the newest of all
-- (queries.newest_first asks again without it if not), and item_facts, ordered by decision
-- year, is read from that year's row groups only. __HOLDS_REASON__: whether the item gives
-- $reason (_holds_value.sql, or its bit: queries.holds_value).
with
newest as (
    select letter_id, item_no, decision_date, decision, category, drug_class, request
    from item_facts
    where __FILTERS__ and __HOLDS_REASON__
        and __SINCE_YEAR__
)
select *
from newest
order by decision_date desc nulls last, letter_id, item_no
limit $limit
