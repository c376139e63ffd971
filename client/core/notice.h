/* notice.h — the discharge notice (lettre de liaison, Code de la santé
 * publique art. R1112-1-2) as the discharge team writes it in a JSON file:
 * read, checked field by field before anything leaves the computer, and
 * shown again when the encrypted message is read. The format is documented
 * in docs/PATHWAYS.md, "Discharge notice format", and client/README.md.
 *
 * In the thread the notice travels as one encrypted message
 *   {"type":"discharge_notice","version":1,"case":HEX,"patient_ref":"P-…",
 *    "pathway":CODE,"notice":{…the checked file…},"letter":{…file fields…}}
 * where "letter" (optional) has the fields of a "file" message (attach_io.h). */
#ifndef LIAISON_NOTICE_H
#define LIAISON_NOTICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#define NOTICE_FILE_MAX  (24 * 1024)   /* the notice must fit one message */
#define NOTICE_VERSION   1

/* Told each problem found, as "FILE: field: what is wrong: what to do". */
typedef void (*notice_report_fn)(void *arg, const char *problem);

/* Read and check the notice in path. date (may be NULL) is the discharge day
 * given with --date: it fills a missing "discharge_date" and must equal one
 * that is there. Every problem goes to report (may be NULL), all of them,
 * and the return value is the number of problems (0: *out is the notice,
 * with the INS written without spaces and discharge_date set). */
size_t notice_load(const char *path, const char *date, json_t **out, notice_report_fn report,
		   void *arg);

/* INS (NIR or NIA of 13 characters + 2-digit key, spaces allowed). true if
 * the shape and the key are right (key = 97 − NIR mod 97; the Corsican
 * departments 2A and 2B count as 19 and 18); otherwise why says what is
 * wrong in words. */
bool notice_ins_check(const char *ins, char *why, size_t why_len);

/* "DUPONT Jeanne" from a notice object or a discharge_notice message
 * content; false (out "") when it has no patient name. */
bool notice_patient_name(json_t *obj, char *out, size_t len);

#endif
