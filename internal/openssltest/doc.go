// Package openssltest runs the OpenSSL command line for the tests that
// check kmsmodel's cryptography against an independent implementation
// (internal/keycrypto, kms, kms/attestation): a temporary directory for a
// test's files, skipping the test where openssl is not on PATH, writing
// files into it, and running openssl there.
package openssltest
