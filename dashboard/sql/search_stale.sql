-- Searches to forget: beyond the $keep most recently used, those idle since $idle_before.
select search_id
from memory.main.search_registry
where used_at < $idle_before
  and search_id not in (
      select search_id from memory.main.search_registry order by used_at desc limit $keep
  )
