/*
 * Keeps a core library non-empty while its directory has no sources yet.
 * CMake refuses a static library without any source file.
 */
extern int stls__empty_unit;
int stls__empty_unit;
