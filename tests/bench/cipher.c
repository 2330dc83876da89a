/* cipher.c - the mbedtls cipher limit for make bench: seal 16 KiB records (TLS's largest) with ChaCha20-Poly1305 and AES-128-GCM on one core. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/chachapoly.h>
#include <mbedtls/gcm.h>

#define RECORD 16384
#define TOTAL (512u << 20)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	static unsigned char in[RECORD], out[RECORD], key[32], iv[12], tag[16];
	mbedtls_chachapoly_context cp;
	mbedtls_gcm_context gcm;
	double t;

	memset(in, 'x', sizeof(in));
	mbedtls_chachapoly_init(&cp);
	mbedtls_chachapoly_setkey(&cp, key);
	t = now();
	for (unsigned done = 0; done < TOTAL; done += RECORD) {
		iv[0]++;
		mbedtls_chachapoly_encrypt_and_tag(&cp, RECORD, iv, NULL, 0, in, out, tag);
	}
	printf("chacha20-poly1305 %.0f\n", TOTAL / (now() - t) / 1048576);
	mbedtls_gcm_init(&gcm);
	mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 128);
	t = now();
	for (unsigned done = 0; done < TOTAL; done += RECORD) {
		iv[0]++;
		mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, RECORD, iv, 12, NULL, 0, in,
					  out, 16, tag);
	}
	printf("aes-128-gcm %.0f\n", TOTAL / (now() - t) / 1048576);
	mbedtls_chachapoly_free(&cp);
	mbedtls_gcm_free(&gcm);
	return 0;
}
