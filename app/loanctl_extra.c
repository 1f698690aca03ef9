/*
 * Domain commands of loanctl. Each issue that adds an operator command registers it here.
 */
#include <string.h>

#include "loanctl.h"

const char *loanctl_extra_usage(void)
{
    return "";
}

int loanctl_extra(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return -1;
}
