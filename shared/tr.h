/* tr.h — marking text for translation (gettext, catalogues in po/):
 * _("text") is translated where it is used, N_("text") only marked (text in
 * tables, translated where it is printed). Without a setlocale (the unit
 * tests, the C locale) gettext returns the English text unchanged. */
#ifndef LIAISON_TR_H
#define LIAISON_TR_H

#include <libintl.h>

#define _(s)  gettext(s)
#define N_(s) s

#endif
