/* day.c — calendar days without the C library's time zone, but for
 * today's date, which is the user's (day.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "day.h"

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian (H. Hinnant's algorithm). */
static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int
days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

bool
day_parse(const char *text, int64_t *days)
{
	if (text == NULL || strlen(text) != 10 || text[4] != '-' || text[7] != '-')
		return false;
	for (size_t i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (text[i] < '0' || text[i] > '9'))
			return false;
	int y = (text[0] - '0') * 1000 + (text[1] - '0') * 100 + (text[2] - '0') * 10 + text[3] - '0';
	int m = (text[5] - '0') * 10 + text[6] - '0';
	int d = (text[8] - '0') * 10 + text[9] - '0';
	if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return false;
	*days = days_from_civil(y, m, d);
	return true;
}

char *
day_format(int64_t days, char out[DAY_TEXT])
{
	int y, m, d;
	char text[48];
	civil_from_days(days, &y, &m, &d);
	snprintf(text, sizeof text, "%04d-%02d-%02d", y, m, d);
	snprintf(out, DAY_TEXT, "%.10s", text);
	return out;
}

char *
day_format_ms(int64_t ms, char out[DAY_TEXT])
{
	if (ms <= 0) {
		snprintf(out, DAY_TEXT, "-");
		return out;
	}
	return day_format(ms / DAY_MS, out);
}

int64_t
day_today(void)
{
	/* the one local-time read of this file: the user's date, not UTC's
	 * (in Paris, from midnight to 01:00, 02:00 in summer, UTC's is still
	 * yesterday: a measurement typed then defaulted to yesterday and one
	 * dated today was refused as in the future) */
	time_t now = time(NULL);
	struct tm tm;
	if (localtime_r(&now, &tm) == NULL)
		return (int64_t)now / 86400;
	return days_from_civil((int64_t)tm.tm_year + 1900, (int64_t)tm.tm_mon + 1, tm.tm_mday);
}

/* The server counts days in its CPTS's time zone: a day starts at local
 * midnight, up to 14 h before or 12 h after the UTC midnight of the same
 * date, and lasts 23 to 25 h. The nearest UTC midnight names the date. */
static int64_t
nearest_midnight(int64_t ms)
{
	int64_t half = DAY_MS / 2;
	return (ms >= -half ? ms + half : ms + half - DAY_MS + 1) / DAY_MS;
}

int64_t
day_of_start(int64_t start_ms)
{
	return nearest_midnight(start_ms);
}

int64_t
day_of_due(int64_t due_at_ms)
{
	return nearest_midnight(due_at_ms + 1) - 1;
}

char *
day_format_start(int64_t start_ms, char out[DAY_TEXT])
{
	if (start_ms <= 0) {
		snprintf(out, DAY_TEXT, "-");
		return out;
	}
	return day_format(day_of_start(start_ms), out);
}

char *
day_format_due(int64_t due_at_ms, char out[DAY_TEXT])
{
	if (due_at_ms <= 0) {
		snprintf(out, DAY_TEXT, "-");
		return out;
	}
	return day_format(day_of_due(due_at_ms), out);
}

int64_t
day_offset(int64_t j0_ms, int64_t due_at_ms)
{
	return day_of_due(due_at_ms) - day_of_start(j0_ms);
}
