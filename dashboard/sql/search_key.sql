-- An item's key in the search index, as etl/search/sql/documents.sql computes it.
select hash($letter_id::varchar, $item_no::integer, $search_salt::integer) as key
