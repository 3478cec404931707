-- Created by the dashboard in its session's in-memory catalog when it connects (the warehouse
-- is attached read-only beside it), so changing them never needs an ingest.

-- 95% Wilson score interval for k successes out of n trials (z = 1.959963984540054, z² =
-- 3.841458820694124); NULL when n = 0. In double precision (4·n² overflows an integer), within
-- [0, 1]: rounding would otherwise give -3.75e-17 for k = 0 ("-0%" on screen and in CSVs).
create or replace macro wilson_low(k, n) as
    case when n > 0 then greatest(0.0,
        ((k::double / n) + 3.841458820694124 / (2 * n::double)
         - 1.959963984540054
           * sqrt((k::double / n) * (1 - k::double / n) / n
                  + 3.841458820694124 / (4 * n::double * n::double)))
        / (1 + 3.841458820694124 / n))
    end;

create or replace macro wilson_high(k, n) as
    case when n > 0 then least(1.0,
        ((k::double / n) + 3.841458820694124 / (2 * n::double)
         + 1.959963984540054
           * sqrt((k::double / n) * (1 - k::double / n) / n
                  + 3.841458820694124 / (4 * n::double * n::double)))
        / (1 + 3.841458820694124 / n))
    end;
