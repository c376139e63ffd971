-- 007_cpts.sql — placeholder so that migrations stay numbered without gaps
-- on this branch; the CPTS migration of the same name replaces it.
SELECT 1;
