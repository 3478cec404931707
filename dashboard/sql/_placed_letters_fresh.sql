-- A pattern's letters at its place in _placed_parts.sql where one axis (__OWN__) is an item's
-- own field and the other the letter's: at a kept value's place (the empty label's among
-- them) its items count as letters when they are their letters' first with that value
-- (their fresh bits hold its place's bit: $__OWN___fresh_masks); the patterns of
-- _rest_letters.sql count their letters at "(other)".
letters
+ case
    when (fresh & coalesce(($__OWN___fresh_masks::ubigint[])[__OWN___order], 0::ubigint)) <> 0
        then n
    else 0
end
