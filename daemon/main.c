/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mplaced: the loop.  One thread, one epoll: signals (SIGHUP reloads,
 * SIGTERM and SIGINT stop), the configuration's directories watched with
 * inotify (a change reloads, after a short quiet time so that an editor's
 * several writes make one reload), the control socket, and a timer that
 * retries what waits (a cgroup that does not exist yet).
 */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "config-mplace.h"
#include "daemon.h"

struct daemon d;

static bool to_journal; /* stderr is the journal: a priority prefix a line */

void say(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (to_journal)
		fprintf(stderr, "<%d>", prio);
	else
		fputs("mplaced: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void usage(FILE *f)
{
	fputs("Usage: mplaced [OPTION]...\n"
	      "Hold the system, cgroup and unit scopes of mplace's configuration in force.\n"
	      "\n"
	      "  --foreground         log to stderr without journal priorities; no sd_notify\n"
	      "  --config-dir DIR     the configuration (default /etc/mplace, as mplace's)\n"
	      "  --state-dir DIR      persisted changes (default /var/lib/mplace)\n"
	      "  --run-dir DIR        the control socket (default /run/mplace)\n"
	      "  --systemd-dir DIR    runtime drop-ins (default /run/systemd/system)\n"
	      "  --cgroup-root DIR    the cgroup v2 tree (default /sys/fs/cgroup)\n"
	      "  --sysfs-root DIR     read the topology under DIR (tests)\n"
	      "  --agent PATH         the preload agent named in units' drop-ins and ld.so.preload\n"
	      "  --preload-file PATH  the system agent's file (default /etc/ld.so.preload)\n"
	      "  --no-systemd         never talk to systemd (drop-ins are written, not reloaded)\n"
	      "  -h, --help           this text\n"
	      "      --version        the version\n"
	      "\n"
	      "See mplaced(8).\n",
	      f);
}

enum {
	OPT_FG = 256,
	OPT_CONFIG,
	OPT_STATE,
	OPT_RUN,
	OPT_SYSTEMD,
	OPT_CGROOT,
	OPT_SYSFS,
	OPT_AGENT,
	OPT_PRELOAD,
	OPT_NOSD,
	OPT_VER
};

static int parse_args(int argc, char **argv, bool *foreground)
{
	static const struct option opts[] = {
		{"foreground", no_argument, NULL, OPT_FG},
		{"config-dir", required_argument, NULL, OPT_CONFIG},
		{"state-dir", required_argument, NULL, OPT_STATE},
		{"run-dir", required_argument, NULL, OPT_RUN},
		{"systemd-dir", required_argument, NULL, OPT_SYSTEMD},
		{"cgroup-root", required_argument, NULL, OPT_CGROOT},
		{"sysfs-root", required_argument, NULL, OPT_SYSFS},
		{"agent", required_argument, NULL, OPT_AGENT},
		{"preload-file", required_argument, NULL, OPT_PRELOAD},
		{"no-systemd", no_argument, NULL, OPT_NOSD},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, OPT_VER},
		{0},
	};
	int c;

	/* where every mplace command looks (mp_config_load_default), and
	 * systemd's StateDirectory=mplace: fixed, whatever the prefix */
	d.p.config_dir = "/etc/mplace";
	d.p.state_dir = "/var/lib/mplace";
	d.p.run_dir = "/run/mplace";
	d.p.systemd_dir = "/run/systemd/system";
	d.p.cgroup_root = "/sys/fs/cgroup";
	d.p.agent = MPLACE_AGENT_INSTALLED;
	d.p.preload_file = "/etc/ld.so.preload";
	d.p.systemd = true;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_FG:
			*foreground = true;
			break;
		case OPT_CONFIG:
			d.p.config_dir = optarg;
			break;
		case OPT_STATE:
			d.p.state_dir = optarg;
			break;
		case OPT_RUN:
			d.p.run_dir = optarg;
			break;
		case OPT_SYSTEMD:
			d.p.systemd_dir = optarg;
			break;
		case OPT_CGROOT:
			d.p.cgroup_root = optarg;
			break;
		case OPT_SYSFS:
			d.p.sysfs_root = optarg;
			break;
		case OPT_AGENT:
			d.p.agent = optarg;
			break;
		case OPT_PRELOAD:
			d.p.preload_file = optarg;
			break;
		case OPT_NOSD:
			d.p.systemd = false;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case OPT_VER:
			printf("mplaced %s\n", MPLACE_VERSION);
			return 1;
		default:
			usage(stderr);
			return -2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mplaced: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return -2;
	}
	/* it goes into unit drop-ins and the preload file, read from anywhere */
	if (d.p.agent[0] != '/') {
		fprintf(stderr, "mplaced: --agent %s: not an absolute path\n", d.p.agent);
		return -2;
	}
	return 0;
}

/* ---- watching the configuration ------------------------------------------------- */

static int watch_config(int ifd)
{
	char dir[4200];
	uint32_t mask =
		IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF;

	if (inotify_add_watch(ifd, d.p.config_dir, mask | IN_ONLYDIR) < 0 && errno != ENOENT)
		say(LOG_WARNING, "cannot watch %s: %s; reload with systemctl reload mplaced", d.p.config_dir,
		    strerror(errno));
	snprintf(dir, sizeof(dir), "%s/conf.d", d.p.config_dir);
	/* a conf.d made later is seen through its parent's IN_CREATE */
	inotify_add_watch(ifd, dir, mask | IN_ONLYDIR);
	return 0;
}

static void arm(int tfd, long ms)
{
	struct itimerspec it = {.it_value = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L}};

	timerfd_settime(tfd, 0, &it, NULL);
}

static void status_line(void)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "STATUS=generation %lu%s, %u action%s in place, %u problem%s", d.generation,
		 d.config_error ? " (the last load failed)" : "", d.n_actions, d.n_actions == 1 ? "" : "s",
		 d.n_problems, d.n_problems == 1 ? "" : "s");
	sysd_tell(buf);
}

int main(int argc, char **argv)
{
	struct epoll_event ev;
	sigset_t mask;
	bool foreground = false, stop = false, reload_due = false;
	int r, efd, sfd, ifd, tfd, cfd;

	r = parse_args(argc, argv, &foreground);
	if (r)
		return r > 0 ? 0 : 2;
	to_journal = !foreground && getenv("JOURNAL_STREAM");
	/* absolute, so that status and the drop-ins name files anyone can find */
	{
		static char abs[4][PATH_MAX];
		const char **dirs[4] = {&d.p.config_dir, &d.p.state_dir, &d.p.systemd_dir, &d.p.run_dir};

		for (int i = 0; i < 4; i++)
			if ((*dirs[i])[0] != '/' && realpath(".", abs[i]) &&
			    strlen(abs[i]) + strlen(*dirs[i]) + 2 < sizeof(abs[i])) {
				strcat(abs[i], "/");
				strcat(abs[i], *dirs[i]);
				*dirs[i] = abs[i];
			}
	}
	if (foreground)
		unsetenv("NOTIFY_SOCKET");
	mp_config_init(&d.cfg);

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	efd = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || ifd < 0 || tfd < 0 || efd < 0) {
		say(LOG_ERR, "cannot set up the loop: %s", strerror(errno));
		return 1;
	}
	cfd = ctl_open();
	if (cfd < 0) {
		say(LOG_ERR, "cannot listen on %s/mplaced.sock: %s", d.p.run_dir, strerror(-cfd));
		return 1;
	}
	watch_config(ifd);

	/* what a previous run put in place and could not take back (kill -9) */
	r = actions_load();
	if (r < 0)
		say(LOG_WARNING, "cannot read what a previous run put in place: %s", strerror(-r));
	else if (d.n_actions)
		say(LOG_NOTICE, "a previous run left %u action%s in place: kept or taken back now", d.n_actions,
		    d.n_actions == 1 ? "" : "s");
	daemon_reload(NULL);
	track_push();
	if (d.pending)
		arm(tfd, 2000);
	say(LOG_NOTICE, "generation %lu in force, %u action%s, %u problem%s; listening on %s/mplaced.sock",
	    d.generation, d.n_actions, d.n_actions == 1 ? "" : "s", d.n_problems, d.n_problems == 1 ? "" : "s",
	    d.p.run_dir);
	sysd_tell("READY=1");
	status_line();

	ev.events = EPOLLIN;
	ev.data.fd = sfd;
	epoll_ctl(efd, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.fd = ifd;
	epoll_ctl(efd, EPOLL_CTL_ADD, ifd, &ev);
	ev.data.fd = tfd;
	epoll_ctl(efd, EPOLL_CTL_ADD, tfd, &ev);
	ev.data.fd = cfd;
	epoll_ctl(efd, EPOLL_CTL_ADD, cfd, &ev);

	while (!stop) {
		struct epoll_event evs[4];
		unsigned long gen = d.generation;
		int n = epoll_wait(efd, evs, 4, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			say(LOG_ERR, "epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == sfd) {
				struct signalfd_siginfo si;

				while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGHUP) {
						say(LOG_NOTICE, "reloading (SIGHUP)");
						reload_due = true;
					} else {
						stop = true;
					}
				}
			} else if (fd == ifd) {
				char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

				while (read(ifd, buf, sizeof(buf)) > 0)
					;
				/* conf.d may have been made: watching it again is harmless */
				watch_config(ifd);
				arm(tfd, 200); /* let the writer finish */
				d.pending = true;
				d.config_changed = true;
			} else if (fd == tfd) {
				uint64_t x;

				if (read(tfd, &x, sizeof(x)) < 0 && errno != EAGAIN)
					break;
				if (d.config_changed) {
					say(LOG_NOTICE, "the configuration changed on disk: reloading");
					d.config_changed = false;
					reload_due = true;
				} else if (d.pending && !d.suspended) {
					enforce_all();
					actions_save();
				}
			} else if (fd == cfd) {
				ctl_serve(cfd);
			}
		}
		if (reload_due && !stop) {
			reload_due = false;
			sysd_tell("RELOADING=1");
			daemon_reload(NULL);
			sysd_tell("READY=1");
		}
		if (d.generation != gen)
			track_push();
		if (d.pending && !d.config_changed)
			arm(tfd, 2000);
		status_line();
	}

	sysd_tell("STOPPING=1");
	if (d.cfg.settings.keep == 1) {
		say(LOG_NOTICE, "stopping; keep = yes: %u action%s left in place", d.n_actions,
		    d.n_actions == 1 ? "" : "s");
		actions_save();
	} else {
		say(LOG_NOTICE, "stopping: taking back %u action%s", d.n_actions, d.n_actions == 1 ? "" : "s");
		enforce_undo();
		actions_save();
	}
	ctl_close();
	sysd_close();
	mp_live_free(&d.live);
	mp_config_free(&d.cfg);
	problems_clear();
	scopes_clear();
	actions_clear();
	free(d.config_error);
	return 0;
}
