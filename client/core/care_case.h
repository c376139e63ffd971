/* care_case.h — a care-pathway case as the core holds it: the case_get reply
 * (docs/PROTOCOL.md, "Care pathways") and what is read from it. The CLI's
 * case_view.h finds, fetches and shows cases; the core's concil_thread
 * folds a case thread's reconciliations. */
#ifndef LIAISON_CARE_CASE_H
#define LIAISON_CARE_CASE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "ident.h"

#define CASE_NAME_MAX 256

/* A case as case_get returned it. */
struct case_ctx {
	json_t *reply;                  /* {"case","steps","notice","member"} */
	json_t *summary;                /* reply.case (borrowed) */
	uint8_t id[LSN_ID_BYTES];
	char id_hex[LSN_ID_HEX + 1];
	uint8_t channel[LSN_ID_BYTES];
	char ref[24];                   /* patient_ref */
	bool member;                    /* a current member (else a coordinator's view) */
};

#endif
