-- What changed since search_baseline: letters to remove from the index (replaced or gone) and
-- letters to add (new or replaced). A replaced letter is in both.
create or replace temp table search_removed as
select letter_id
from search_baseline
anti join letters using (letter_id, loaded_at);

create or replace temp table search_changed as
select letter_id
from letters
anti join search_baseline using (letter_id, loaded_at);
