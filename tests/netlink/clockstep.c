/* SPDX-License-Identifier: MIT */
/*
 * LD_PRELOAD library for tests: the wall clock (time(), CLOCK_REALTIME)
 * jumps an hour ahead at every read, as after an NTP step or `date -s`.
 * The monotonic clock is left alone.
 */
#include <dlfcn.h>
#include <time.h>

static long steps;

int clock_gettime(clockid_t id, struct timespec *ts)
{
	static int (*real)(clockid_t, struct timespec *);
	int r;

	if (!real)
		real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
	r = real(id, ts);
	if (r == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
		ts->tv_sec += 3600 * ++steps;
	return r;
}

time_t time(time_t *t)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (t)
		*t = ts.tv_sec;
	return ts.tv_sec;
}
