-- One letter's header fields.
with
letter as (
    select * from letters where letter_id = $letter_id
)
select
    letter_id, case_number, decision_date, injury_date, outcome, layout, priority,
    application_received, date_assigned, ur_denial_date, patient_age, patient_sex,
    reviewer_specialties, reviewer_states, diagnoses, case_summary, item_count, synthetic,
    source_path
from letter
