/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A program to run under the agent: it reports, one "key value" line each,
 * what the kernel says about its own memory, so the tests can compare it
 * with what was asked: whether the agent is there (and active), the task
 * policy of the main thread and of a new thread, and the range policy and
 * node of the pages of a heap block, the main stack, a new thread's stack
 * and an anonymous mapping.  It asks the kernel directly (get_mempolicy,
 * move_pages), never the agent.
 *
 *   test-agent-probe [--sleep SECONDS]
 */
#include <dlfcn.h>
#include <errno.h>
#include <linux/mempolicy.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void mask_text(const unsigned long *mask, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int n = 0; n < 64 && o < size; n++)
		if (mask[0] & (1UL << n))
			o += (size_t)snprintf(buf + o, size - o, "%s%d", o ? "," : "", n);
	if (!o)
		snprintf(buf, size, "-");
}

/* "MODE NODES" of the task (addr NULL) or of the range holding addr. */
static void policy_of(const char *what, void *addr)
{
	unsigned long mask[16] = {0};
	char nodes[256];
	int mode = -1;
	long r = syscall(SYS_get_mempolicy, &mode, mask, 16 * 64UL, addr, addr ? MPOL_F_ADDR : 0UL);

	if (r < 0) {
		printf("%s-policy error %s\n", what, strerror(errno));
		return;
	}
	mask_text(mask, nodes, sizeof(nodes));
	printf("%s-policy %d %s\n", what, mode & 0xff, nodes);
}

static void node_of(const char *what, void *addr)
{
	void *page = (void *)((unsigned long)addr & ~4095UL);
	int status = -1;

	if (syscall(SYS_move_pages, 0, 1UL, &page, NULL, &status, 0) < 0)
		printf("%s-node error %s\n", what, strerror(errno));
	else
		printf("%s-node %d\n", what, status);
}

static void *thread_main(void *arg)
{
	char buf[16384];

	memset(buf, 1, sizeof(buf));
	policy_of("thread-task", NULL);
	policy_of("thread-stack", buf);
	node_of("thread-stack", buf);
	return NULL;
}

int main(int argc, char **argv)
{
	int *state = dlsym(RTLD_DEFAULT, "mplace_agent_state");
	char stack_buf[8192];
	pthread_t th;
	char *heap, *anon;

	printf("agent %s\n", state ? (*state == 1 ? "active" : *state == 2 ? "secure" : "inactive") : "absent");
	printf("env %s\n", getenv("MPLACE_AGENT_HEAP") ? "set" : "unset");
	policy_of("task", NULL);

	heap = malloc(1 << 20);
	memset(heap, 1, 1 << 20);
	policy_of("heap", heap + (1 << 19));
	node_of("heap", heap + (1 << 19));

	memset(stack_buf, 1, sizeof(stack_buf));
	policy_of("stack", stack_buf);
	node_of("stack", stack_buf);

	anon = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (anon != MAP_FAILED) {
		memset(anon, 1, 1 << 20);
		policy_of("anon", anon);
		node_of("anon", anon);
	}
	if (pthread_create(&th, NULL, thread_main, NULL) == 0)
		pthread_join(th, NULL);
	fflush(stdout);
	/* the agent's `set policy=` signals every thread: sleep to the end */
	if (argc == 3 && !strcmp(argv[1], "--sleep")) {
		time_t end = time(NULL) + (time_t)strtoul(argv[2], NULL, 10);

		while (time(NULL) < end)
			sleep(1);
		policy_of("task-after", NULL);
	}
	free(heap);
	return 0;
}
