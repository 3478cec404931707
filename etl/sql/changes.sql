-- What changed since build_baseline: letters whose rows went (replaced or gone) and letters
-- whose rows came (new or replaced). A replaced letter is in both.
create or replace temp table removed_letters as
select letter_id
from build_baseline
anti join letters using (letter_id, loaded_at);

create or replace temp table changed_letters as
select letter_id
from letters
anti join build_baseline using (letter_id, loaded_at);
