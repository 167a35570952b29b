// `mape stats` diagnostics of the rules in force (rules_diag.c).
#ifndef MAPE_ROUTER_RULES_DIAG_H
#define MAPE_ROUTER_RULES_DIAG_H
#include <stddef.h>
/** After every configuration that took: notes the time and the --rules file of argv. */
void diag_applied(int argc, char **argv);
/** `,"configuration":{…}[,"provisioning":{…}]` for the stats answer; its length. */
size_t diag_json(char *out, size_t cap);
/** The text form's rows of the answer's "configuration" and "provisioning", as the Node host prints them. */
void diag_print(const char *reply);
#endif
