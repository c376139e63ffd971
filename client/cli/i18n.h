/* i18n.h — the CLI's language: gettext catalogues (po/), the French
 * spreadsheet form of CSV and the display form of times. English is the
 * text of the sources and the C locale's; French when the locale is French
 * (LANG/LC_ALL/LC_MESSAGES=fr_…). Error codes and JSON are never
 * translated (client/README.md, "Language"). */
#ifndef LIAISON_I18N_H
#define LIAISON_I18N_H

#include <stdbool.h>

#include "tr.h" /* _() and N_() */

/* setlocale(LC_ALL, "") but LC_NUMERIC stays "C" (numbers typed and parsed
 * keep their '.', JSON too), then the catalogue's directory: LIAISON_LOCALEDIR
 * when set, else the build tree's po/ for a liaison run from its build tree,
 * else the installed one (<prefix>/share/locale). */
void i18n_init(void);

/* Whether the messages locale is French (LC_MESSAGES fr or fr_XX): the
 * default of the French CSV form and of the French display of times. */
bool i18n_french(void);

/* Messages in English from now on (--json: JSON is never translated). */
void i18n_english_messages(void);

#endif
