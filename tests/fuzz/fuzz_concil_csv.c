/* fuzz_concil_csv.c — the medication CSV import (client/concil/concil_csv.c): the
 * bytes of a file given to `liaison concil import`, as the BMO list and as
 * the order list, then the one-line key=value entry of `liaison concil add`
 * on the same bytes. Properties: everything or nothing (a refused file
 * leaves no line and reports at least one problem, the first in st); every
 * imported line passes the whole-line rules and belongs to its list; an
 * accepted entry passes them too. */
#include <string.h>

#include "concil.h"
#include "fuzz_check.h"

static void
import(const char *text, size_t len, enum concil_list list)
{
	struct concil_lines out;
	struct concil_csv_report rep;
	struct lsn_status st;
	char why[CONCIL_MSG_MAX];
	memset(&out, 0, sizeof out);
	memset(&rep, 0, sizeof rep);
	memset(&st, 0, sizeof st);
	if (concil_csv_parse(text, len, list, &out, &rep, &st) == LSN_OK) {
		FUZZ_CHECK(rep.total == 0);
		FUZZ_CHECK(out.n <= CONCIL_LINES_MAX);
		for (size_t i = 0; i < out.n; i++) {
			FUZZ_CHECK(out.v[i].list == list);
			FUZZ_CHECK(concil_line_check(&out.v[i], why, sizeof why));
		}
	} else {
		FUZZ_CHECK(out.n == 0);
		FUZZ_CHECK(rep.total >= 1 && rep.n >= 1 && rep.n <= CONCIL_ERRORS_MAX);
		FUZZ_CHECK(rep.n <= rep.total);
		FUZZ_CHECK(st.msg[0] != '\0');
		for (size_t i = 0; i < rep.n; i++)
			FUZZ_CHECK(memchr(rep.p[i].msg, '\0', sizeof rep.p[i].msg) != NULL);
	}
	concil_lines_free(&out);
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *text = (const char *)data;
	import(text, size, CONCIL_BMO);
	import(text, size, CONCIL_ORDER);

	struct concil_line ln;
	struct lsn_status st;
	char why[CONCIL_MSG_MAX];
	memset(&st, 0, sizeof st);
	if (concil_entry_parse(text, size, CONCIL_ORDER, &ln, &st) == LSN_OK)
		FUZZ_CHECK(concil_line_check(&ln, why, sizeof why));
	else
		FUZZ_CHECK(st.msg[0] != '\0');
	return 0;
}
