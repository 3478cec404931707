-- The global filter predicate over item_facts. Every filter is a bound parameter;
-- NULL means the filter is off. List columns match when they contain any selected value.
($category::varchar[] is null or list_contains($category::varchar[], category))
and ($drug_class::varchar[] is null or list_contains($drug_class::varchar[], drug_class))
and ($drug::varchar[] is null or list_has_any(drugs, $drug::varchar[]))
and ($specialty::varchar[] is null or list_has_any(reviewer_specialties, $specialty::varchar[]))
and ($guideline_source::varchar[] is null
     or list_has_any(guideline_sources, $guideline_source::varchar[]))
and ($state::varchar[] is null or list_has_any(reviewer_states, $state::varchar[]))
and ($decision::varchar[] is null or list_contains($decision::varchar[], decision))
and ($injury_year_min::integer is null or injury_year >= $injury_year_min::integer)
and ($injury_year_max::integer is null or injury_year <= $injury_year_max::integer)
and ($decision_year_min::integer is null or decision_year >= $decision_year_min::integer)
and ($decision_year_max::integer is null or decision_year <= $decision_year_max::integer)
and (not $exclude_synthetic::boolean or not synthetic)
