/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What mplaced asks of systemd, over its bus (sd-bus): a unit's
 * AllowedMemoryNodes= at run time, a daemon reload after drop-ins change,
 * the units a glob names, and readiness (sd_notify).
 *
 * Why the bus and not `systemctl`: a property set through SetUnitProperties
 * is applied by systemd itself, which owns the cgroup tree it manages (a
 * direct write to a cgroup systemd manages is undone at its next
 * realization, and enabling the cpuset controller along the path is
 * systemd's job there); the reply says whether it worked, without parsing a
 * tool's output or forking at every reload.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>

#include "daemon.h"

static sd_bus *bus;

#define SD_DEST	 "org.freedesktop.systemd1"
#define SD_PATH	 "/org/freedesktop/systemd1"
#define SD_IFACE "org.freedesktop.systemd1.Manager"

bool sysd_present(void)
{
	return d.p.systemd && sd_booted() > 0;
}

static int get_bus(void)
{
	int r;

	if (bus)
		return 0;
	r = sd_bus_open_system(&bus);
	if (r < 0)
		bus = NULL;
	return r;
}

void sysd_close(void)
{
	bus = sd_bus_flush_close_unref(bus);
}

static void err_text(const sd_bus_error *e, int r, char *err, size_t errsize)
{
	if (sd_bus_error_is_set(e))
		snprintf(err, errsize, "%s", e->message ? e->message : e->name);
	else
		snprintf(err, errsize, "%s", strerror(r < 0 ? -r : EIO));
}

/* "/bar.slice" -> "bar.slice", "/system.slice/db.service" -> "db.service":
 * the unit whose cgroup path is exactly path, when systemd manages it (its
 * last component is a unit name of a kind that has a cgroup).  NULL when
 * it is not (a delegated subtree, a cgroup made by hand). */
const char *sysd_unit_of_cgroup(const char *path, char *buf, size_t size)
{
	static const char *const sfx[] = {".slice", ".service", ".scope", ".socket", ".mount", ".swap"};
	const char *last = strrchr(path, '/');
	size_t n;

	if (!last || !last[1])
		return NULL;
	/* every parent is a slice: anything else is not systemd's tree */
	for (const char *c = path + 1, *slash; (slash = strchr(c, '/')); c = slash + 1)
		if (slash - c <= 6 || strncmp(slash - 6, ".slice", 6))
			return NULL;
	last++;
	n = strlen(last);
	if (n >= size)
		return NULL;
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		size_t k = strlen(sfx[i]);

		if (n > k && !strcmp(last + n - k, sfx[i])) {
			/* a slice's parents are in its name: a-b.slice lives in a.slice */
			memcpy(buf, last, n + 1);
			return buf;
		}
	}
	return NULL;
}

int sysd_set_memory_nodes(const char *unit, const struct mp_nodemask *m, char *err, size_t errsize)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *msg = NULL;
	uint8_t bytes[MP_MAX_NODES / 8];
	size_t n = 0;
	int r, last;

	r = get_bus();
	if (r < 0) {
		snprintf(err, errsize, "cannot reach systemd's bus: %s", strerror(-r));
		return r;
	}
	/* the kernel's bitmap as systemd's D-Bus form of it: byte i holds
	 * nodes 8i..8i+7; no bytes resets the property */
	memset(bytes, 0, sizeof(bytes));
	last = m ? mp_mask_last(m) : -1;
	for (int i = 0; i <= last; i++)
		if (mp_mask_test(m, (unsigned)i))
			bytes[i / 8] |= (uint8_t)(1u << (i % 8));
	n = last < 0 ? 0 : (size_t)last / 8 + 1;

	r = sd_bus_message_new_method_call(bus, &msg, SD_DEST, SD_PATH, SD_IFACE, "SetUnitProperties");
	if (r >= 0)
		r = sd_bus_message_append(msg, "sb", unit, 1);
	if (r >= 0)
		r = sd_bus_message_open_container(msg, 'a', "(sv)");
	if (r >= 0)
		r = sd_bus_message_open_container(msg, 'r', "sv");
	if (r >= 0)
		r = sd_bus_message_append(msg, "s", "AllowedMemoryNodes");
	if (r >= 0)
		r = sd_bus_message_open_container(msg, 'v', "ay");
	if (r >= 0)
		r = sd_bus_message_append_array(msg, 'y', bytes, n);
	for (int i = 0; i < 3 && r >= 0; i++)
		r = sd_bus_message_close_container(msg);
	if (r >= 0)
		r = sd_bus_call(bus, msg, 0, &e, NULL);
	if (r < 0)
		err_text(&e, r, err, errsize);
	sd_bus_error_free(&e);
	sd_bus_message_unref(msg);
	return r < 0 ? r : 0;
}

int sysd_reload(char *err, size_t errsize)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r = get_bus();

	if (r < 0) {
		snprintf(err, errsize, "cannot reach systemd's bus: %s", strerror(-r));
		return r;
	}
	/* the reply comes once systemd has reloaded (as systemctl daemon-reload) */
	r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_IFACE, "Reload", &e, NULL, NULL);
	if (r < 0)
		err_text(&e, r, err, errsize);
	sd_bus_error_free(&e);
	return r < 0 ? r : 0;
}

/* Add name to the list unless it is there. */
static int names_add(char ***names, unsigned *n, const char *name)
{
	char **nn;

	for (unsigned i = 0; i < *n; i++)
		if (!strcmp((*names)[i], name))
			return 0;
	nn = realloc(*names, (*n + 1) * sizeof(*nn));
	if (!nn)
		return -ENOMEM;
	*names = nn;
	nn[*n] = strdup(name);
	if (!nn[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

int sysd_units_matching(const char *glob, char ***ret, unsigned *ret_n)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	char **names = NULL;
	unsigned n = 0;
	const char *s;
	int r = get_bus();

	*ret = NULL;
	*ret_n = 0;
	if (r < 0)
		return r;
	/* units systemd has loaded (running ones, transient ones) */
	r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_IFACE, "ListUnitsByPatterns", &e, &reply, "asas", 0, 1, glob);
	if (r >= 0)
		r = sd_bus_message_enter_container(reply, 'a', "(ssssssouso)");
	while (r >= 0) {
		r = sd_bus_message_read(reply, "(ssssssouso)", &s, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
					NULL);
		if (r <= 0)
			break;
		r = names_add(&names, &n, s);
	}
	reply = sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
	if (r < 0)
		goto fail;
	/* and unit files on disk that are not loaded */
	r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_IFACE, "ListUnitFilesByPatterns", &e, &reply, "asas", 0, 1,
			       glob);
	if (r >= 0)
		r = sd_bus_message_enter_container(reply, 'a', "(ss)");
	while (r >= 0) {
		const char *base;

		r = sd_bus_message_read(reply, "(ss)", &s, NULL);
		if (r <= 0)
			break;
		base = strrchr(s, '/');
		base = base ? base + 1 : s;
		/* a template (x@.service) is not a unit that runs */
		if (strstr(base, "@.") || fnmatch(glob, base, 0))
			continue;
		r = names_add(&names, &n, base);
	}
	reply = sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
	if (r < 0)
		goto fail;
	*ret = names;
	*ret_n = n;
	return 0;
fail:
	for (unsigned i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

void sysd_tell(const char *state)
{
	if (d.p.systemd)
		sd_notify(0, state);
}
