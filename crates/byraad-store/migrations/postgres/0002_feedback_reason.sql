-- Why an answer was judged down: wrong_source, incomplete, not_an_answer, other (empty: none given).
ALTER TABLE feedback ADD COLUMN reason TEXT NOT NULL DEFAULT '';
