/* notice_view.h — the discharge notice of a discharge_notice message, for
 * people. */
#ifndef LIAISON_NOTICE_VIEW_H
#define LIAISON_NOTICE_VIEW_H

#include <stdio.h>

#include <jansson.h>

/* The notice of a discharge_notice message, for people (read, watch, case
 * show), each line starting with indent. */
void notice_print(FILE *f, json_t *content, const char *indent);

#endif
