/* alarm_view.h — the membership alarms of a channel in a thread view (read,
 * watch): what the server hid, since when, and when it was cleared
 * (local_alarm.h; CRYPTO.md "Membership bound into messages"). */
#ifndef LIAISON_ALARM_VIEW_H
#define LIAISON_ALARM_VIEW_H

#include <stdint.h>

#include <jansson.h>

#include "e2e.h"

/* Active alarms, then cleared ones, one paragraph each (nothing if none). */
void alarm_view_print(struct e2e *e, const uint8_t channel[LSN_ID_BYTES]);

/* [{"state","source","log_seq","log_hash","by","by_name","message_seq",
 *   "raised_at","cleared_at","text"}], active and cleared (English). */
json_t *alarm_view_json(struct e2e *e, const uint8_t channel[LSN_ID_BYTES]);

#endif
