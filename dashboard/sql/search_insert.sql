-- A search's hits, from the Arrow table of keys registered as search_keys on this cursor.
insert into memory.main.search_hits
select $search_id::integer, key from search_keys
