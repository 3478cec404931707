-- A search already kept in this session (same index, same text).
select search_id, negated, salt
from memory.main.search_registry
where index_id = $index_id and query = $query
