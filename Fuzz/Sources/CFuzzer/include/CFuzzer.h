#ifndef RETENTIOND_CFUZZER_H
#define RETENTIOND_CFUZZER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (compiler-rt's FuzzerDriver.cpp), linked in by `-sanitize=fuzzer`: runs the
/// fuzzing loop, or the given inputs, with `callback` as the target, parsing libFuzzer's flags
/// from argv. Called from a Swift `@main` because SwiftPM renames an executable's entry point.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
