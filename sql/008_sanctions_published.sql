-- The date a sanctions list was published, taken from its file name (ofac_sdn_YYYY-MM-DD.csv,
-- .csv.gz) or `loanctl sanctions load --date`; NULL when unknown. A stack start compares it
-- (`loanctl sanctions ensure`) to load a list only when it is newer than the active one.
ALTER TABLE sanctions_lists ADD COLUMN published date;

UPDATE sanctions_lists
   SET published = substring(source from '(?:19|20)\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])')::date
 WHERE source ~ '(19|20)\d\d-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])';
