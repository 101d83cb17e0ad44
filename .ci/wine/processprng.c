/* Test-only stand-in for bcryptprimitives.dll under Wine 8, which lacks it. Rust's standard
 * library takes its random numbers from ProcessPrng there (Windows 10 and later have it);
 * this one asks the same system RNG through RtlGenRandom. Never shipped: .ci/windows.sh puts
 * it beside the test binaries only. */
#include <windows.h>
#include <ntsecapi.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    return RtlGenRandom(data, (ULONG)len);
}
