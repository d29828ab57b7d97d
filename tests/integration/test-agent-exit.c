/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Processes whose threads all end by pthread_exit must end with the last of
 * them, as without the agent, and their atexit work must run (doc/agent.md,
 * "Threads"): the agent's control thread must not keep them alive.
 *
 *   test-agent-exit main    main() creates a worker and calls pthread_exit;
 *                           the worker prints after 200 ms (buffered stdout:
 *                           flushed by exit(0) in the last thread)
 *   test-agent-exit fork    a thread forks; in the child that thread starts
 *                           another, joins it and calls pthread_exit (as
 *                           CPython's test_threading does); the parent waits
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *late(void *arg)
{
	(void)arg;
	usleep(200000);
	printf("worker done\n"); /* no flush: exit(0) in this thread flushes */
	return NULL;
}

static void *forker(void *arg)
{
	pthread_t t;
	int st;
	pid_t pid = fork();

	(void)arg;
	if (pid < 0)
		exit(2);
	if (pid) {
		waitpid(pid, &st, 0);
		printf("child ended: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		exit(0);
	}
	pthread_create(&t, NULL, late, NULL);
	pthread_join(t, NULL);
	pthread_exit(NULL);
}

int main(int argc, char **argv)
{
	pthread_t t;

	if (argc != 2)
		return 2;
	if (!strcmp(argv[1], "main")) {
		pthread_create(&t, NULL, late, NULL);
		pthread_exit(NULL);
	}
	if (!strcmp(argv[1], "fork")) {
		pthread_create(&t, NULL, forker, NULL);
		pthread_join(t, NULL);
		return 0;
	}
	return 2;
}
