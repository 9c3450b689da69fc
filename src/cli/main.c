/*
 * main.c — the `leadscore` command: dispatch to a subcommand.
 */
#include <leadscore.h>

#include "cli/cli.h"
#include "core/outfile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char help[] =
    "LeadScore " LS_VERSION_STRING " — lead scoring you can question.\n"
    "\n"
    "usage: leadscore COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  inspect FILE.csv [--target NAME] [--json]   type, profile and find the target\n"
    "  train FILE.csv -o MODEL [options]          learn from leads with a known outcome\n"
    "  score MODEL FILE.csv [-o OUT] [--json]      score every lead: likelihood, tier, rank\n"
    "  explain MODEL FILE.csv --row N | --id ID    why one lead got its score\n"
    "  chat MODEL FILE.csv [--json]               answer questions about the run (stdin)\n"
    "  demo-data [--rows N] [--seed S] [-o FILE]   write a generated lead data set\n"
    "  serve [--host H] [--port P] [--data-dir D]  the HTTP API, the old routes and the web app\n"
    "\n"
    "  leadscore COMMAND --help    options of a command\n"
    "  leadscore --version         the version\n"
    "\n"
    "Exit codes: 0 success, 1 bad input (a file, a value in it, a failed write),\n"
    "2 bad usage (an option, a missing argument, an output that would replace an input).\n";

/* The command's exit code, or 1 when what it printed did not all reach
 * standard output (a full disk, a closed pipe): a truncated table or JSON must
 * not look like success. */
static int finish(int rc)
{
    errno = 0;
    if ((fflush(stdout) != 0 || ferror(stdout)) && rc == CLI_OK) { /* a failure said so already */
        int e = errno;
        int code = cli_fail(CLI_BAD_INPUT, "writing standard output failed: %s",
                            e ? strerror(e) : "write error");
        return code;
    }
    return rc;
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        fputs(help, stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(help, stdout);
        return CLI_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("leadscore %s\n", ls_version());
        return CLI_OK;
    }
    if (strcmp(cmd, "inspect") == 0)
        return cmd_inspect(argc - 1, argv + 1);
    if (strcmp(cmd, "train") == 0)
        return cmd_train(argc - 1, argv + 1);
    if (strcmp(cmd, "score") == 0)
        return cmd_score(argc - 1, argv + 1);
    if (strcmp(cmd, "explain") == 0)
        return cmd_explain(argc - 1, argv + 1);
    if (strcmp(cmd, "chat") == 0)
        return cmd_chat(argc - 1, argv + 1);
    if (strcmp(cmd, "demo-data") == 0)
        return cmd_demo_data(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(argc - 1, argv + 1);
    return cli_fail(CLI_USAGE, "unknown command '%s' (see leadscore --help)", cmd);
}

int main(int argc, char **argv)
{
    outfile_cleanup_on_signals(); /* an interrupted run leaves no half-written temp file */
    return finish(dispatch(argc, argv));
}
