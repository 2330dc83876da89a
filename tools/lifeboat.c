/* lifeboat.c - the lifeboat command: dispatch to one subcommand per file. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} cmds[] = {
	{ "scan", cmd_scan, "report what is on a disk and what remains of earlier filesystems" },
	{ "carve", cmd_carve, "recover the mail still on a disk, verified, into a directory" },
	{ "send", cmd_send, "send a carved directory to a receiver over TLS" },
	{ "receive", cmd_receive, "receive jobs from authenticated senders, verified" },
	{ "verify", cmd_verify, "re-check a received job: signature and every hash" },
	{ "pull", cmd_pull, "fetch a complete job back from a receiver, verified, for a restore" },
	{ "restore", cmd_restore, "put a received job's mail into a mail store for Dovecot" },
};

static void usage(FILE *f)
{
	fputs("usage: lifeboat COMMAND [ARGS]\n\n"
	      "Recover Maildir mail from a formatted or damaged disk, read-only.\n\n"
	      "commands:\n", f);
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
	fputs("\n'lifeboat COMMAND --help' describes one command; 'lifeboat --version'\n"
	      "names the tree this binary was built from.\n", f);
}

int main(int argc, char **argv)
{
	/* A peer that goes away is an error return (EPIPE), never a silent death. */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_DONE;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("lifeboat %s\n", lb_version);
		return EXIT_DONE;
	}
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	lb_warn("'%s' is not a lifeboat command", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
