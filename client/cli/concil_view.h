/* concil_view.h — how a reconciliation is shown: the episode as a readable
 * table (the BMO beside the prescription, each row marked with its
 * discrepancies), the discrepancies with their review, the history of
 * updates folded from the thread, and what to do next; the same as JSON;
 * and the one-paragraph summaries `read` and `watch` print for the
 * conciliation, circle_case and circle_session messages. Text that others
 * wrote is printed with control characters neutralised. */
#ifndef LIAISON_CONCIL_VIEW_H
#define LIAISON_CONCIL_VIEW_H

#include <stdio.h>

#include <jansson.h>

#include "case_view.h"
#include "concil_thread.h"
#include "e2e.h"

/* The whole episode for people. */
void concil_view_print(struct e2e *e, const struct case_ctx *cc, const struct concil_fold *f,
		       const struct concil_item *it);
/* Only the discrepancies table (after a comparison). */
void concil_view_print_discs(const struct concil_episode *ep);
/* {"episode","seq","document","rows","updates","rejected","discrepancies",
 *  "unintentional","pending","resolved"}. */
json_t *concil_view_json(struct e2e *e, const struct concil_fold *f, const struct concil_item *it);
/* A rejected message as JSON {"seq","sender","sender_name","episode","reason"}. */
json_t *concil_view_rejected_json(struct e2e *e, const struct concil_rejected *r);

/* "furosémide 40 mg, 1 comprimé matin" (with form and route when asked). */
void concil_view_line(const struct concil_line *ln, bool form_route, char *out, size_t len);

/* Summaries of the messages in a thread, each line starting with indent. */
void concil_view_message(FILE *f, json_t *content, const char *indent);
void circle_view_case_message(FILE *f, json_t *content, const char *indent);
void circle_view_session_message(FILE *f, json_t *content, const char *indent);

/* CASE as case_load resolves it, the caller a member of its thread, the
 * thread synced, its episodes folded. Prints the error and returns the exit
 * code; the caller frees cc and f either way. */
int concil_case_open(struct e2e *e, const char *case_text, struct case_ctx *cc,
		     struct concil_fold *f);

#endif
