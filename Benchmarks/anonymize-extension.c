/*
 * The hand-written baseline for the anonymization benchmark: a SQLite extension giving the sqlite3
 * shell the two functions retentiond's `truncate-ip` and `hmac-sha256` strategies compute, so that
 * one raw UPDATE does in C what retentiond does (docs/stores.md, "Anonymization strategies"):
 *
 *   truncate_ip(text)        IPv4 to its /24, IPv6 to its /48, a "/prefix" dropped first,
 *                            anything else '0.0.0.0'
 *   hmac_sha256(text, key)   lower-case hex HMAC-SHA256 of the text under the key's bytes
 *
 * Built by Benchmarks/bench.py: cc -O2 -shared -fPIC anonymize-extension.c -lcrypto
 */
#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sqlite3ext.h>
#include <string.h>
SQLITE_EXTENSION_INIT1

static void truncate_ip(sqlite3_context *context, int argc, sqlite3_value **argv) {
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) { sqlite3_result_null(context); return; }
    const char *text = (const char *)sqlite3_value_text(argv[0]);
    char address[64];
    size_t length = strcspn(text, "/");
    if (length >= sizeof address) { sqlite3_result_text(context, "0.0.0.0", -1, SQLITE_STATIC); return; }
    memcpy(address, text, length);
    address[length] = 0;
    unsigned char bytes[16];
    char out[INET6_ADDRSTRLEN];
    if (inet_pton(AF_INET, address, bytes) == 1) {
        bytes[3] = 0;
        inet_ntop(AF_INET, bytes, out, sizeof out);
    } else if (inet_pton(AF_INET6, address, bytes) == 1) {
        memset(bytes + 6, 0, 10);
        inet_ntop(AF_INET6, bytes, out, sizeof out);
    } else {
        strcpy(out, "0.0.0.0");
    }
    sqlite3_result_text(context, out, -1, SQLITE_TRANSIENT);
}

static void hmac_sha256(sqlite3_context *context, int argc, sqlite3_value **argv) {
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) { sqlite3_result_null(context); return; }
    const unsigned char *text = sqlite3_value_text(argv[0]);
    int textLength = sqlite3_value_bytes(argv[0]);
    const void *key = sqlite3_value_blob(argv[1]);
    int keyLength = sqlite3_value_bytes(argv[1]);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digestLength = 0;
    HMAC(EVP_sha256(), key, keyLength, text, (size_t)textLength, digest, &digestLength);
    static const char hex[] = "0123456789abcdef";
    char out[2 * EVP_MAX_MD_SIZE + 1];
    for (unsigned int i = 0; i < digestLength; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    sqlite3_result_text(context, out, (int)(2 * digestLength), SQLITE_TRANSIENT);
}

int sqlite3_extension_init(sqlite3 *db, char **error, const sqlite3_api_routines *api) {
    (void)error;
    SQLITE_EXTENSION_INIT2(api);
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
    int rc = sqlite3_create_function(db, "truncate_ip", 1, flags, 0, truncate_ip, 0, 0);
    if (rc == SQLITE_OK) rc = sqlite3_create_function(db, "hmac_sha256", 2, flags, 0, hmac_sha256, 0, 0);
    return rc;
}
