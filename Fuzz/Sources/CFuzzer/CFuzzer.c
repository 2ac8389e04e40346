// The declarations in include/CFuzzer.h are implemented by libFuzzer itself.
#include "CFuzzer.h"
