#include "host.h"
int cmd_bench(int argc, char **argv) { (void)argc; (void)argv; say_error("not yet"); return 1; }
