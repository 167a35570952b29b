#include "host.h"
#include "mod.h"
int cmd_serve(int mode, int argc, char **argv) { (void)mode; (void)argc; (void)argv; say_error("not yet"); return 1; }
int cmd_stats(int argc, char **argv) { (void)argc; (void)argv; say_error("not yet"); return 1; }
