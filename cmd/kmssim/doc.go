// Kmssim runs kmsmodel, the model of AWS KMS, as an AWS-compatible service
// or as a fleet simulation.
//
// Usage:
//
//	kmssim serve [flags]
//	kmssim simulate [flags]
//	kmssim attest [flags]
//	kmssim help [command]
//	kmssim version
//
// Every command takes --help. Version (also --version) prints the module
// version, VCS revision and Go version recorded in the binary. A bad command line exits with status 2 and
// says what was wrong; a failure while running exits with status 1.
//
// # serve
//
// Serve serves the AWS KMS API (AWS JSON 1.1) over HTTP with package
// kms/kmshttp, so that AWS SDKs and the AWS CLI can drive the model:
//
//	go run ./cmd/kmssim serve --mem
//	aws kms create-key --endpoint-url http://127.0.0.1:4599
//
// It listens on --addr (127.0.0.1:4599, loopback, by default). State lives
// in a bbolt file (--db, default kms.db, through store/boltstore and
// kms.Open) or in memory only (--mem). The file holds the root secret
// every key derives from; --wrapping-key-file or the environment variable
// KMSSIM_WRAPPING_KEY give a 32-byte key (boltstore Options.WrappingKey)
// that stores it encrypted, and serve warns at start when the file is not
// wrapped. --seed makes all randomness reproducible, key material
// included: a second server with the same seed decrypts the first one's
// ciphertexts (for tests only). The clock is the wall clock, or with
// --clock manual a simulated one starting at --start and moved by clients
// through the non-AWS targets KmsModel.AdvanceClock and KmsModel.Now (see
// package kms/kmshttp). The caller is the one mapped to the access key of
// the request's SigV4 credential (--access-key KEY=ACCOUNT, that account's
// root, or --access-key KEY=PRINCIPAL_ARN, an IAM user, role, assumed-role
// session or account root, whom key policies then allow or refuse; by
// default every key is --account, and so is a request with no
// Authorization header; once any key is mapped, an unsigned request is
// refused with MissingAuthenticationTokenException); signatures are not
// verified. --identity-policy PRINCIPAL_ARN=FILE attaches an IAM
// identity-based policy to a user or role; with any, users and roles are
// allowed only what those policies and the key policies allow together
// (decision D59 of package kms), and otherwise IAM is taken to allow every
// kms action. --permissions-boundary PRINCIPAL_ARN=FILE and
// --session-policy SESSION_ARN=FILE add IAM's guard rails, which bound
// what those policies and the key policies allow (D62); --principal ARN
// records an existing user or role, after which key policies and grants
// may name no unknown one (D66); --scp TARGET=FILE,
// --rcp TARGET=FILE, --place-account ACCOUNT=ORG_PATH and
// --management-account ACCOUNT add AWS Organizations' service control and
// resource control policies and the organization condition keys (D62,
// D63); --vpc-endpoint VPCE_ID=VPC_ID and --vpc-endpoint-policy
// VPCE_ID=FILE add VPC endpoints, which requests name with the header
// X-Kmsmodel-Vpc-Endpoint (D64). The
// Region of that credential is the Region of the call, so one server
// serves every AWS Region the AWS SDK lists (and those named with
// --allow-region) and its multi-Region keys; --region (us-east-1 by
// default) is the Region of unsigned requests. Logs
// are structured (log/slog) on stderr; --log-level debug logs every
// request. Clients are bounded by kmshttp.Server's limits
// (--read-header-timeout, --read-timeout, --write-timeout, --idle-timeout,
// --max-header-bytes, --max-conns) and the handler's --body-memory, so the
// memory held for clients stays under kmshttp.MemoryBound (232 MiB with
// the defaults). SIGINT or SIGTERM shuts the server down gracefully: it
// stops accepting connections, cuts clients still sending a request,
// finishes the requests in flight, then closes the store. A second signal
// ends the process at once.
//
// # simulate
//
// Simulate creates --keys keys on a manual clock, enables automatic
// rotation on a share of them (--auto) with periods drawn from --periods
// (a list such as 90,180,365,730 or a range such as 90-730), and drives
// them for --years with random on-demand rotations, disables and enables,
// and scheduled (sometimes cancelled) deletions at the given yearly rates
// per key, all drawn from --seed. Time advances month by month: the
// simulation sets the clock to each planned call and calls the service,
// and at each month's end sets the clock there and calls Sweep, so every
// automatic rotation and deletion happens at its own instant (decision
// D13). The service's running totals (kms.Service.Totals), read at each
// month's end, count rotations by type and month and deletions; the
// errors of the calls count refusals by exception and operation; the
// accepted calls and the deletions count the keys by state at the end.
// Nothing is recorded per event, so a run costs about what the library
// costs for the same fleet.
//
// The summary goes to stdout; --csv writes the monthly timeline of
// rotations by type, --svg a stacked bar chart of it. Both files are
// opened before the run, so that a path that cannot be written fails at
// once; a failed run removes a file it created and leaves an existing one
// unchanged. Progress bars, one for the creation of the fleet and one
// for the months, are drawn on stderr when stderr is a terminal
// (--progress).
//
// # attest
//
// Attest plays a simulated Nitro Secure Module (kms/attestation.Module),
// made from --seed, so that the Recipient parameter can be tried outside
// a Nitro enclave (decision D80 of package kms): --root writes the
// module's root certificate, which serve --attestation-root trusts, and
// otherwise it writes an attestation document for the enclave's RSA
// public key (--public-key), with the PCRs (--pcr), user data and nonce
// given, claiming --at (default now). Serve trusts only AWS's Nitro
// Enclaves root unless --attestation-root says otherwise ("aws" names
// AWS's root, to trust both).
package main
