-- The demo-letter switch: when it is on, synthetic letters are left out.
(not $exclude_synthetic::boolean or not synthetic)
