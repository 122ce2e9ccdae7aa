/*
 * clock.c: thin wrappers over clock_gettime, kept in one place so tests and
 * benchmarks measure with the same clock the runtime uses.
 */
#define _DEFAULT_SOURCE		/* timegm */
#include "clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t og_clock_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t og_clock_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *og_clock_iso8601(int64_t wall_ms, char *buf, int len)
{
	int64_t secs, days, rem, z, era, doe, yoe, doy, mp, y, m, d, ms = wall_ms;
	char *p = buf;

	if (ms < 0 || ms >= INT64_C(253402300800000) || len < 25) {
		/* outside years 1970..9999, or a short buffer: the libc way */
		time_t t = (time_t)(wall_ms / 1000);
		struct tm tm;

		gmtime_r(&t, &tm);
		snprintf(buf, (size_t)len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(wall_ms % 1000));
		return buf;
	}
	/* by hand: gmtime_r and snprintf were a sixth of a store get and half
	 * of a resume's bookkeeping; civil_from_days (H. Hinnant) */
	secs = ms / 1000;
	days = secs / 86400;
	rem = secs % 86400;
	z = days + 719468;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = yoe + era * 400 + (m <= 2);
#define D2(v) (*p++ = (char)('0' + (v) / 10), *p++ = (char)('0' + (v) % 10))
	D2(y / 100);
	D2(y % 100);
	*p++ = '-';
	D2(m);
	*p++ = '-';
	D2(d);
	*p++ = 'T';
	D2(rem / 3600);
	*p++ = ':';
	D2(rem / 60 % 60);
	*p++ = ':';
	D2(rem % 60);
#undef D2
	*p++ = '.';
	*p++ = (char)('0' + ms % 1000 / 100);
	*p++ = (char)('0' + ms % 100 / 10);
	*p++ = (char)('0' + ms % 10);
	*p++ = 'Z';
	*p = '\0';
	return buf;
}

void og_clock_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0)
		;
}

int64_t og_clock_parse_iso8601(const char *s)
{
	struct tm tm = { 0 };
	int n = 0, ms = 0;

	if (!s || sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3 || n != 10)
		return -1;
	if (s[n] == 'T' || s[n] == ' ') {
		int m = 0;
		if (sscanf(s + n + 1, "%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &m) != 2 || m != 5)
			return -1;
		n += 1 + m;
		if (s[n] == ':') {
			if (sscanf(s + n + 1, "%2d%n", &tm.tm_sec, &m) != 1 || m != 2)
				return -1;
			n += 1 + m;
			if (s[n] == '.') {
				int digits = 0;
				for (n++; s[n] >= '0' && s[n] <= '9'; n++, digits++)
					if (digits < 3)
						ms = ms * 10 + (s[n] - '0');
				if (!digits)
					return -1;
				for (; digits < 3; digits++)
					ms *= 10;
			}
		}
	}
	if (s[n] == 'Z')
		n++;
	else if (!strncmp(s + n, "+00:00", 6))
		n += 6;
	if (s[n] || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + ms;
}
