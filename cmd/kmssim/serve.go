package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/kms/attestation"
	"github.com/kmsmodel/kmsmodel/kms/kmshttp"
	"github.com/kmsmodel/kmsmodel/store"
	"github.com/kmsmodel/kmsmodel/store/boltstore"
	"github.com/kmsmodel/kmsmodel/store/etcdstore"
)

const serveHelp = `Usage: kmssim serve [flags]

Serve the AWS KMS API (AWS JSON 1.1, X-Amz-Target TrentService.<Operation>)
over HTTP, backed by kmsmodel. Point an AWS SDK or the AWS CLI at it:

	aws kms create-key --endpoint-url http://127.0.0.1:4599

State lives in a bbolt file (--db, default kms.db, with its write-ahead
log beside it as kms.db.wal while serve runs or after a crash: keep the
two together), only in memory (--mem), or in an etcd cluster shared with
other kmssim nodes (--etcd, below). The caller comes from the access key
ID of the SigV4 credential: --access-key maps keys to accounts (their
roots) or to principal ARNs; by default every key is the root of
--account. Without --access-key, a request with no Authorization header
(plain curl) runs as --account; once any access key is mapped, such a
request is refused with MissingAuthenticationTokenException. Signatures
are NOT verified, so serve only on addresses you trust (loopback by
default).

Every operation on a key is decided by the key's policy for that caller
(PutKeyPolicy sets it; the default policy lets every principal of the
key's account in, and no other account). Map access keys to principals to
try a policy out:

	--access-key AKIDAPP=arn:aws:iam::111122223333:role/app
	--access-key AKIDALICE=arn:aws:iam::111122223333:user/alice
	--access-key AKIDS=arn:aws:sts::111122223333:assumed-role/app/session
	--access-key AKIDPARTNER=444455556666

A session matches its role in policies. A refusal is
AccessDeniedException naming the caller, the action and the key ARN.

IAM identity-based policies are taken to allow every kms action, unless
--identity-policy attaches some: then each IAM user and role is allowed
only what they allow together with the key policies, as in AWS (a key
policy naming the account delegates to them; operations on no key, such
as CreateKey and ListKeys, need them alone):

	--identity-policy arn:aws:iam::111122223333:role/app=app-policy.json

--identity-policies keeps them with none at first. Either way, the
KmsModel.PutIdentityPolicy, KmsModel.GetIdentityPolicy and
KmsModel.DeleteIdentityPolicy targets change and read them while serve
runs (package kms/kmshttp).

IAM's guard rails bound what those policies and the key policies allow:
a user's or role's permissions boundary and a session's session policy
(each turns identity-based policies on),

	--permissions-boundary arn:aws:iam::111122223333:role/app=boundary.json
	--session-policy arn:aws:sts::111122223333:assumed-role/app/ci=session.json

and AWS Organizations: service control policies bound every principal
of an organization's accounts, roots included, resource control
policies bound every call on their customer managed keys, and placed
accounts carry aws:PrincipalOrgID and aws:ResourceOrgID:

	--scp r-ab12=keep-keys.json --rcp r-ab12=perimeter.json
	--place-account 111122223333=o-a1b2c3d4e5/r-ab12/

A request's aws:SourceIp is its connection's address, or the header
X-Kmsmodel-Source-Ip; with the header X-Kmsmodel-Vpc-Endpoint it comes
through a VPC endpoint, whose policy bounds it:

	--vpc-endpoint vpce-0123456789abcdef0=vpc-0abc1234
	--vpc-endpoint-policy vpce-0123456789abcdef0=endpoint-policy.json

The Region of the credential is the Region of the call: one server
serves every AWS Region (such as us-west-2, plus any named with
--allow-region), so clients configured for different Regions can use
multi-Region keys (ReplicateKey, UpdatePrimaryRegion). --region is the
Region of unsigned requests.

With --db, the file holds the root secret from which every key is
derived: anyone who can read the file can derive every key. Give a
32-byte wrapping key (AES-256; raw, 64 hex digits or base64) in a file
(--wrapping-key-file) or in the environment variable KMSSIM_WRAPPING_KEY
(hex or base64), never on the command line, and the secret is stored
encrypted under it; the same key is then needed at every start. Without
one, serve warns at start that the file is unwrapped.

--seed N makes ALL randomness reproducible from N, not only key IDs: the
root secret of a new store, key material, data keys, GenerateRandom's
bytes, import tokens. A second server started with the same seed holds
the same keys and decrypts the first one's ciphertexts. That is meant for
reproducible tests and demos; never use --seed for data you want kept
secret.

With --clock manual, simulated time starts at --start and moves only when a
client calls the non-AWS targets KmsModel.AdvanceClock ({"Seconds": n} or
{"To": epoch-seconds}) or reads it with KmsModel.Now. The store records the
latest instant it has seen: restarted on the same --db, the manual clock
resumes from there unless --start is later, and the wall clock must not be
behind it. Time is kept to the microsecond and ends at kmsmodel's horizon,
9999-12-31T23:59:59.999999Z; a move past it is refused.

Hostile or broken clients are bounded: a client has --read-header-timeout
to send its headers and --read-timeout to send its whole request (a body
still arriving then is refused), --write-timeout to be answered once its
headers are in, and a keep-alive connection is closed after --idle-timeout
without a request. Header blocks over --max-header-bytes are refused (HTTP
431, RequestEntityTooLargeException). At most --max-conns connections are
open at once; more wait in the kernel's accept queue. Bodies over 16 KiB
share --body-memory; beyond it requests are refused with
ThrottlingException. Together these bound the memory held for clients to
--max-conns x (2 x (--max-header-bytes + 4 KiB) + 96 KiB) + --body-memory:
232 MiB with the defaults, whatever the clients do.

--eventual-consistency makes the server eventually consistent, as AWS KMS
is: each change reaches callers only after a propagation delay drawn from
--propagation-delay, so a key used right after CreateKey may be
NotFoundException, a new grant AccessDeniedException unless its token is
passed, a just-disabled key may still encrypt, and deletions fire up to
--deletion-delay after DeletionDate. KmsModel.GetPropagationStatus ({})
says whether everything has propagated and KmsModel.Propagate ({}) makes
it so at once, so tests of retry logic need not sleep.

--rules chooses the rule profile: 2024 (the default: at most 10 on-demand
rotations per key, imported key material never rotates) or current
(today's AWS: 25, and symmetric keys with imported material rotate on
demand to new material imported with ImportType NEW_KEY_MATERIAL). A --db
file records the profile it was written under; serve refuses to open it
under the other one, unless --rules-upgrade takes a 2024 file to current.

--etcd ENDPOINTS (comma-separated client URLs of an etcd v3 cluster)
makes this server one node of a cluster: every node started with the
same --etcd and --etcd-prefix serves one key space. Each node keeps a
full copy in memory, follows the others' commits through an etcd watch
(and catches up every second when it answers no call), and before each
call catches up with the cluster's latest revision, so
a change acknowledged by any node is seen by the next call on every node
(linearizable reads); --stale-reads skips that wait (faster, and a read
may miss another node's latest change; writes stay safe). Every write is
one etcd transaction guarded by the revisions of what it read: a node
that loses a race runs the call again. The root secret is stored in etcd
encrypted under the wrapping key, which this mode requires
(--wrapping-key-file or KMSSIM_WRAPPING_KEY; the same key on every
node). TLS to etcd takes --etcd-ca, --etcd-cert and --etcd-key (PEM
files, as etcdctl's --cacert, --cert and --key); authentication takes
--etcd-user and the password in --etcd-password or the environment
variable KMSSIM_ETCD_PASSWORD. --etcd-max-txn-ops must not exceed the
etcd members' --max-txn-ops (128 by default): a write needing more
operations is refused. With --clock manual the cluster has one clock:
KmsModel.AdvanceClock on any node moves every node's. What stands for
services other than KMS (IAM's policies and principals, AWS
Organizations, VPC endpoints) each node builds from its flags: give
every node the same, in the same order (and the same --account,
--region, --rules, quotas, --no-predefined-aliases, --allow-region and
--clock). The first node to serve records a digest of them in etcd
(kmssim/flags), and a node given others refuses to start. The KmsModel targets that change them while serve
runs change every node: the change goes into a log in etcd (under the
prefix, in kmssim/model/) that every node applies in one order, those
started later included. The node that takes it answers once it has
applied it; the others apply it within milliseconds, as IAM's own
changes take time to propagate; a KmsModel target that reads them
waits until its node has applied every change made before it. Each node
reports in GetKeyLastUsage (and counts in kms:TrailingDaysWithoutKeyUsage)
the key uses it answered; with --share-key-usage the nodes share them
through etcd (in kmssim/usage/): each node writes its latest uses at most
every --usage-share-every (100ms), so a use reaches the other nodes
within that and the watch's delay, and the cluster has one
TrackingStartDate (decision D79). That costs an etcd record for each key
used in an interval, which every node receives: a node's Encrypt over
10,000 keys in turn cost about a quarter more CPU.

For load balancers, GET /healthz answers 200 while the process serves,
and GET /readyz answers 200 when the node can answer calls (in cluster
mode: it reached etcd and caught up with its latest revision within
--ready-timeout), 503 with the reason otherwise.

SIGINT or SIGTERM stops the server gracefully: requests in flight finish,
clients still sending a request are cut off, then the store is closed. A
second signal stops it at once.
`

// serveConfig is the parsed command line of serve.
type serveConfig struct {
	addr            string
	db              string
	mem             bool
	clock           string
	start           time.Time
	account         string
	region          string
	accessKeys      map[string]string
	identities      *kms.IdentityPolicies       // --identity-policy; nil: IAM allows every kms action (D24)
	orgs            *kms.Organizations          // --scp, --rcp, --place-account; nil: no organizations
	vpces           map[string]*kms.VPCEndpoint // --vpc-endpoint, by ID
	attestRoots     *x509.CertPool              // --attestation-root; nil: AWS's Nitro Enclaves root (D80)
	allowRegions    []string
	quota           int // -1: the --rules profile's
	grantsPerKey    int // --grants-per-key
	rules           kms.Rules
	rulesUpgrade    bool
	seed            uint64
	wrappingKey     []byte // nil: the store's secret is not wrapped
	maxBody         int64
	bodyMemory      int64
	limits          kmshttp.Limits
	shutdownTimeout time.Duration
	logLevel        slog.Level
	logJSON         bool
	ec              []kms.Option       // --eventual-consistency
	etcd            *etcdstore.Options // --etcd; nil otherwise
	staleReads      bool
	shareUsage      bool          // --share-key-usage
	usageEvery      time.Duration // --usage-share-every
	readyTimeout    time.Duration
	noPredefined    bool // --no-predefined-aliases

	// modelFlags lists the flags that build IAM, Organizations and VPC
	// endpoints, with their files' contents, which every node of a
	// cluster must be given alike (modelFingerprint).
	modelFlags []string
}

// identityPolicies returns the identity-based policies, made at the first
// flag that needs them.
func (c *serveConfig) identityPolicies() *kms.IdentityPolicies {
	if c.identities == nil {
		c.identities = kms.NewIdentityPolicies()
	}
	return c.identities
}

// organizations returns the organizations, made at the first flag that
// needs them.
func (c *serveConfig) organizations() *kms.Organizations {
	if c.orgs == nil {
		c.orgs = kms.NewOrganizations()
	}
	return c.orgs
}

func parseServe(args []string, stdout, stderr io.Writer) (*serveConfig, int) {
	c := &serveConfig{accessKeys: map[string]string{}, vpces: map[string]*kms.VPCEndpoint{}}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:4599", "`address` to listen on (host:port; port 0 picks a free one)")
	fs.StringVar(&c.db, "db", "kms.db", "bbolt `file` holding the service's state (created if missing)")
	fs.BoolVar(&c.mem, "mem", false, "keep state in memory only (instead of --db)")
	fs.StringVar(&c.clock, "clock", "wall", "`clock`: wall (real time) or manual (simulated time moved by KmsModel.AdvanceClock)")
	start := fs.String("start", "2024-01-01T00:00:00Z", "RFC 3339 `instant` the manual clock starts at (--clock manual only)")
	fs.StringVar(&c.account, "account", "111122223333", "the service's AWS account `ID` (twelve digits)")
	fs.StringVar(&c.region, "region", "us-east-1", "the service's default `Region`, for unsigned requests; a request signed for another Region goes to that Region")
	fs.Func("access-key", "map an access key to a caller, `KEY=ACCOUNT|PRINCIPAL_ARN` (repeatable): an account (its root) or the ARN of an IAM user, role, assumed-role session or account root; then other keys, and unsigned requests, are refused", func(v string) error {
		k, a, ok := strings.Cut(v, "=")
		if !ok || k == "" || !kmshttp.ValidCaller(a) {
			return errors.New("want ACCESSKEYID=ACCOUNT with a twelve-digit account, or ACCESSKEYID=ARN with the ARN of an IAM user, role, assumed-role session or account root")
		}
		c.accessKeys[k] = a
		return nil
	})
	// policyFlag is a flag whose value is WHO=FILE: it calls put with WHO,
	// the file's name without its extension, and its text. named lists
	// those that name a policy after its file.
	named := map[string]bool{"identity-policy": true, "scp": true, "rcp": true}
	policyFlag := func(name, want, usage string, put func(who, name, text string) error) {
		fs.Func(name, usage, func(v string) error {
			who, file, ok := strings.Cut(v, "=")
			if !ok || who == "" || file == "" {
				return errors.New("want " + want + "=FILE")
			}
			text, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			base := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
			entry := name + "\x00" + who + "\x00"
			if named[name] { // the policy is named after its file
				entry += base + "\x00"
			}
			c.modelFlags = append(c.modelFlags, entry+string(text))
			return put(who, base, string(text))
		})
	}
	policyFlag("identity-policy", "PRINCIPAL_ARN", "attach the IAM identity-based policy in `PRINCIPAL_ARN=FILE` (repeatable; named after the file, without its extension) to an IAM user, group or role; with any, every user and role is allowed only what these policies and the key policies allow together (decision D59)",
		func(who, name, text string) error { return c.identityPolicies().Put(who, name, text) })
	fs.Func("principal", "record that the IAM user or role `ARN` exists (repeatable): then key policies and grants may name only the users and roles so recorded or given policies, as AWS refuses unknown ones (decision D66)", func(v string) error {
		c.modelFlags = append(c.modelFlags, "principal\x00"+v)
		return c.identityPolicies().CreatePrincipal(v)
	})
	policyFlag("permissions-boundary", "PRINCIPAL_ARN", "set the permissions boundary of an IAM user or role to the policy in `PRINCIPAL_ARN=FILE` (repeatable; turns on identity-based policies, decision D62)",
		func(who, _, text string) error { return c.identityPolicies().PutPermissionsBoundary(who, text) })
	policyFlag("session-policy", "SESSION_ARN", "set the session policy of an assumed-role session or federated user to the policy in `SESSION_ARN=FILE` (repeatable; turns on identity-based policies, decision D62)",
		func(who, _, text string) error { return c.identityPolicies().PutSessionPolicy(who, text) })
	policyFlag("scp", "TARGET", "attach the service control policy in `TARGET=FILE` (repeatable; named after the file) to an account ID, an organizational unit ou-… or an organization root r-…: it bounds every principal of the accounts it reaches, roots included (decision D62)",
		func(who, name, text string) error { return c.organizations().PutServiceControlPolicy(who, name, text) })
	policyFlag("rcp", "TARGET", "attach the resource control policy in `TARGET=FILE` (repeatable; named after the file) to an account ID, an organizational unit or an organization root: its Deny statements bound every call on the customer managed keys of the accounts it reaches (decision D63)",
		func(who, name, text string) error { return c.organizations().PutResourceControlPolicy(who, name, text) })
	fs.Func("place-account", "place an account in an organization, `ACCOUNT=o-…/r-…/ou-…/`: its organization, root and organizational units from the root down, whose --scp and --rcp policies then bound it, and which the condition keys aws:PrincipalOrgID and aws:ResourceOrgID (and their OrgPaths) give (repeatable)", func(v string) error {
		account, path, ok := strings.Cut(v, "=")
		if !ok || path == "" {
			return errors.New("want ACCOUNT=ORG_PATH, such as 111122223333=o-a1b2c3d4e5/r-ab12/ou-ab12-cd34ef56/")
		}
		c.modelFlags = append(c.modelFlags, "place-account\x00"+v)
		return c.organizations().PlaceAccount(account, path)
	})
	fs.Func("vpc-endpoint", "serve calls through the interface VPC endpoint `VPCE_ID=VPC_ID` (repeatable), with AWS's full-access endpoint policy: a request with the header X-Kmsmodel-Vpc-Endpoint naming it comes through it (decision D64)", func(v string) error {
		id, vpc, _ := strings.Cut(v, "=")
		ep, err := kms.NewVPCEndpoint(id, vpc)
		if err != nil {
			return err
		}
		if c.vpces[id] != nil {
			return errors.New("endpoint " + id + " given twice")
		}
		c.vpces[id] = ep
		c.modelFlags = append(c.modelFlags, "vpc-endpoint\x00"+v)
		return nil
	})
	policyFlag("vpc-endpoint-policy", "VPCE_ID", "set the policy of a --vpc-endpoint to the policy in `VPCE_ID=FILE` (repeatable; after its --vpc-endpoint)",
		func(id, _, text string) error {
			ep := c.vpces[id]
			if ep == nil {
				return errors.New("no --vpc-endpoint " + id + " before it")
			}
			return ep.SetPolicy(text)
		})
	fs.Func("management-account", "make `ACCOUNT` its organization's management account, which no SCP or RCP bounds", func(v string) error {
		c.modelFlags = append(c.modelFlags, "management-account\x00"+v)
		return c.organizations().SetManagementAccount(v)
	})
	fs.BoolFunc("organizations", "keep AWS Organizations, none at first; the KmsModel.PutServiceControlPolicy, KmsModel.PutResourceControlPolicy and KmsModel.PlaceAccount targets change them while serve runs", func(string) error {
		c.modelFlags = append(c.modelFlags, "organizations")
		c.organizations()
		return nil
	})
	fs.BoolFunc("identity-policies", "keep IAM identity-based policies, none at first: every IAM user and role is allowed only what they and the key policies allow together (decision D59); the KmsModel.PutIdentityPolicy target changes them while serve runs", func(string) error {
		c.modelFlags = append(c.modelFlags, "identity-policies")
		c.identityPolicies()
		return nil
	})
	fs.Func("attestation-root", "trust the PEM certificates in `FILE` as roots of the Nitro attestation documents in Recipient parameters, instead of AWS's Nitro Enclaves root (repeatable; the word aws names AWS's root, to trust both; decision D80)", func(v string) error {
		if c.attestRoots == nil {
			c.attestRoots = x509.NewCertPool()
		}
		text := attestation.AWSNitroRootPEM()
		if v != "aws" {
			var err error
			if text, err = os.ReadFile(v); err != nil {
				return err
			}
		}
		c.modelFlags = append(c.modelFlags, "attestation-root\x00"+string(text))
		if !c.attestRoots.AppendCertsFromPEM(text) {
			return errors.New("no PEM certificate in it") // as --etcd-ca says
		}
		return nil
	})
	fs.Func("allow-region", "also serve the Region `NAME`, one the AWS SDK does not list (repeatable)", func(v string) error {
		if !kms.ValidRegion(v) {
			return errors.New("want a Region name such as us-east-1")
		}
		c.allowRegions = append(c.allowRegions, v)
		return nil
	})
	c.quota = -1
	c.grantsPerKey = kms.DefaultGrantsPerKeyQuota
	fs.Func("grants-per-key", "grants a customer managed key may hold (`n`; default 50000, AWS's quota, decision D28), so that a test reaches CreateGrant's LimitExceededException sooner", countFlag(&c.grantsPerKey, -1))
	fs.Func("on-demand-quota", "on-demand rotations allowed per key (`n`; default: the --rules profile's, 10 under 2024 (decision D1) and 25 under current)", quotaFlag(&c.quota))
	rules := fs.String("rules", "2024", "rule `profile`: 2024 (the 2024 rules, decisions D1, D2, D2a) or current (today's AWS: quota 25, imported material that rotates)")
	fs.BoolVar(&c.rulesUpgrade, "rules-upgrade", false, "let --rules current open a --db file written under the 2024 rules (decision D36)")
	fs.Uint64Var(&c.seed, "seed", 0, "make ALL randomness (key IDs, key material, data keys, GenerateRandom) reproducible from this `seed`: a server with the same seed decrypts this one's ciphertexts; for tests only (0: cryptographic randomness)")
	keyFile := fs.String("wrapping-key-file", "", "`file` holding the 32-byte key that wraps the --db file's root secret (raw, hex or base64); or set "+wrappingKeyEnv)
	fs.Int64Var(&c.maxBody, "max-body", kmshttp.DefaultMaxBodyBytes, "largest request body in `bytes`")
	fs.Int64Var(&c.bodyMemory, "body-memory", kmshttp.DefaultBodyMemory, "`bytes` of request bodies over 16 KiB buffered at once, over all clients; beyond, ThrottlingException")
	dl := kmshttp.DefaultLimits()
	fs.DurationVar(&c.limits.ReadHeaderTimeout, "read-header-timeout", dl.ReadHeaderTimeout, "how long a client has to send a request's headers")
	fs.DurationVar(&c.limits.ReadTimeout, "read-timeout", dl.ReadTimeout, "how long a client has to send a whole request, headers and body")
	fs.DurationVar(&c.limits.WriteTimeout, "write-timeout", dl.WriteTimeout, "how long the server has to handle a request and write its response once its headers are read")
	fs.DurationVar(&c.limits.IdleTimeout, "idle-timeout", dl.IdleTimeout, "how long a keep-alive connection may wait for its next request")
	fs.IntVar(&c.limits.MaxHeaderBytes, "max-header-bytes", dl.MaxHeaderBytes, "largest request header block in `bytes`")
	fs.IntVar(&c.limits.MaxConns, "max-conns", dl.MaxConns, "most connections open at once")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long a graceful shutdown waits for requests in flight")
	level := fs.String("log-level", "info", "log `level`: debug (every request), info, warn or error")
	format := fs.String("log-format", "text", "log `format`: text or json")
	ecf := addECFlags(fs)
	etcdEndpoints := fs.String("etcd", "", "serve one key space with the other nodes on the etcd cluster at these client `URLs` (comma-separated; instead of --db)")
	etcdPrefix := fs.String("etcd-prefix", etcdstore.DefaultPrefix, "etcd key `prefix` of the key space (--etcd)")
	etcdCA := fs.String("etcd-ca", "", "PEM `file` of the CAs that sign the etcd members' certificates (--etcd over TLS)")
	etcdCert := fs.String("etcd-cert", "", "PEM `file` of the client certificate presented to etcd (with --etcd-key)")
	etcdKey := fs.String("etcd-key", "", "PEM `file` of the client certificate's private key (with --etcd-cert)")
	etcdUser := fs.String("etcd-user", "", "etcd `user` name (with --etcd-password or "+etcdPasswordEnv+")")
	etcdPassword := fs.String("etcd-password", "", "etcd `password` of --etcd-user (prefer "+etcdPasswordEnv+": command lines are visible to other users)")
	etcdDial := fs.Duration("etcd-dial-timeout", 5*time.Second, "how long to wait for a connection to etcd at start")
	etcdMaxOps := fs.Int("etcd-max-txn-ops", etcdstore.DefaultMaxTxnOps, "most operations in one etcd transaction: at most the members' --max-txn-ops")
	fs.BoolVar(&c.staleReads, "stale-reads", false, "with --etcd, answer from this node's copy without catching up with the cluster first: faster, possibly stale reads")
	fs.BoolVar(&c.shareUsage, "share-key-usage", false, "with --etcd, share the key uses GetKeyLastUsage reports with the other nodes through etcd (decision D79)")
	fs.DurationVar(&c.usageEvery, "usage-share-every", 100*time.Millisecond, "with --share-key-usage, how often this node writes its latest key uses")
	fs.BoolVar(&c.noPredefined, "no-predefined-aliases", false, "leave AWS's predefined alias/aws/ names without a target out of ListAliases (decision D72)")
	fs.DurationVar(&c.readyTimeout, "ready-timeout", 2*time.Second, "how long GET /readyz may take to reach the store and catch up before answering 503")
	if code := parseFlags(fs, serveHelp, args, stdout, stderr); code >= 0 {
		return nil, code
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	bad := func(msg string) (*serveConfig, int) { return nil, usageError(stderr, "serve", msg) }
	if c.mem && set["db"] {
		return bad("--db and --mem are exclusive: state lives in a file or in memory")
	}
	if *etcdEndpoints != "" && (c.mem || set["db"]) {
		return bad("--etcd, --db and --mem are exclusive: state lives in etcd, a file or memory")
	}
	if *etcdEndpoints == "" {
		for _, f := range []string{"etcd-prefix", "etcd-ca", "etcd-cert", "etcd-key", "etcd-user", "etcd-password", "etcd-dial-timeout", "etcd-max-txn-ops", "stale-reads", "share-key-usage", "usage-share-every"} {
			if set[f] {
				return bad("--" + f + " needs --etcd")
			}
		}
	}
	if c.readyTimeout <= 0 {
		return bad("--ready-timeout must be positive")
	}
	if set["usage-share-every"] && !c.shareUsage {
		return bad("--usage-share-every needs --share-key-usage")
	}
	if c.shareUsage && *etcdMaxOps < 3 {
		// A use's write is a transaction nested in another, which etcd
		// allows only what the outer one leaves of the limit.
		return bad("--share-key-usage needs --etcd-max-txn-ops of at least 3")
	}
	if c.usageEvery < time.Millisecond {
		return bad("--usage-share-every must be at least 1ms")
	}
	var err error
	if c.ec, err = ecf.options(set); err != nil {
		return bad(err.Error())
	}
	switch c.clock {
	case "wall":
		if set["start"] {
			return bad("--start needs --clock manual (the wall clock starts now)")
		}
	case "manual":
		t, err := time.Parse(time.RFC3339, *start)
		if err != nil {
			return bad(fmt.Sprintf("--start %q is not an RFC 3339 instant such as 2024-01-01T00:00:00Z", *start))
		}
		if t.After(kms.Horizon()) {
			return bad(fmt.Sprintf("--start %q is past kmsmodel's horizon %s", *start, kms.Horizon().Format(time.RFC3339Nano)))
		}
		c.start = t
	default:
		return bad(fmt.Sprintf("--clock %q: want wall or manual", c.clock))
	}
	if !kms.ValidAccountID(c.account) {
		return bad(fmt.Sprintf("--account %q is not a twelve-digit account ID", c.account))
	}
	if !kms.ValidRegion(c.region) {
		return bad(fmt.Sprintf("--region %q is not a Region name such as us-east-1", c.region))
	}
	if c.rules, err = kms.ParseRules(*rules); err != nil {
		return bad(fmt.Sprintf("--rules %q: want 2024 or current", *rules))
	}
	if c.maxBody <= 0 {
		return bad("--max-body must be positive")
	}
	if c.bodyMemory <= 0 {
		return bad("--body-memory must be positive")
	}
	l := c.limits
	if l.ReadHeaderTimeout <= 0 || l.ReadTimeout <= 0 || l.WriteTimeout <= 0 || l.IdleTimeout <= 0 {
		return bad("--read-header-timeout, --read-timeout, --write-timeout and --idle-timeout must be positive")
	}
	if l.MaxHeaderBytes <= 0 || l.MaxConns <= 0 {
		return bad("--max-header-bytes and --max-conns must be positive")
	}
	if err := c.logLevel.UnmarshalText([]byte(*level)); err != nil {
		return bad(fmt.Sprintf("--log-level %q: want debug, info, warn or error", *level))
	}
	switch *format {
	case "text":
	case "json":
		c.logJSON = true
	default:
		return bad(fmt.Sprintf("--log-format %q: want text or json", *format))
	}
	if _, _, err := net.SplitHostPort(c.addr); err != nil {
		return bad(fmt.Sprintf("--addr %q: %v", c.addr, err))
	}
	env := os.Getenv(wrappingKeyEnv)
	switch {
	case *keyFile != "" && c.mem:
		return bad("--wrapping-key-file needs --db or --etcd (--mem keeps nothing at rest)")
	case *keyFile != "" && env != "":
		return bad("--wrapping-key-file and " + wrappingKeyEnv + " are exclusive: give the wrapping key once")
	case *keyFile != "":
		b, err := os.ReadFile(*keyFile)
		if err != nil {
			return bad(fmt.Sprintf("--wrapping-key-file: %v", err))
		}
		if c.wrappingKey, err = parseWrappingKey(b, true); err != nil {
			return bad(fmt.Sprintf("--wrapping-key-file %s: %v", *keyFile, err))
		}
	case env != "" && !c.mem:
		var err error
		if c.wrappingKey, err = parseWrappingKey([]byte(env), false); err != nil {
			return bad(fmt.Sprintf("%s: %v", wrappingKeyEnv, err))
		}
	}
	if *etcdEndpoints != "" {
		o, msg := etcdOptions(*etcdEndpoints, *etcdPrefix, *etcdCA, *etcdCert, *etcdKey, *etcdUser, *etcdPassword, *etcdDial, *etcdMaxOps)
		if msg != "" {
			return bad(msg)
		}
		if c.wrappingKey == nil {
			return bad("--etcd needs a wrapping key (the root secret is stored in etcd encrypted under it): give --wrapping-key-file or " + wrappingKeyEnv)
		}
		o.WrappingKey = c.wrappingKey
		c.etcd = o
	}
	return c, -1
}

// etcdPasswordEnv names the environment variable that may hold the etcd
// password of --etcd-user.
const etcdPasswordEnv = "KMSSIM_ETCD_PASSWORD"

// etcdOptions checks serve's etcd flags and turns them into the store's
// options (without the wrapping key), or returns what is wrong with them.
func etcdOptions(endpoints, prefix, ca, cert, key, user, password string, dial time.Duration, maxOps int) (*etcdstore.Options, string) {
	o := &etcdstore.Options{Prefix: prefix, DialTimeout: dial, MaxTxnOps: maxOps, Username: user}
	for _, e := range strings.Split(endpoints, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			return nil, fmt.Sprintf("--etcd %q: want comma-separated client URLs such as http://127.0.0.1:2379", endpoints)
		}
		o.Endpoints = append(o.Endpoints, e)
	}
	if dial <= 0 {
		return nil, "--etcd-dial-timeout must be positive"
	}
	if maxOps <= 0 {
		return nil, "--etcd-max-txn-ops must be positive"
	}
	if prefix == "" {
		return nil, "--etcd-prefix must not be empty"
	}
	if !strings.HasSuffix(prefix, "/") {
		// As etcdstore reads it, so that what kmssim keeps beside the
		// store (kmssim/model/, kmssim/usage/, kmssim/flags) lies under
		// the same prefix whichever way a node spells it.
		o.Prefix = prefix + "/"
	}
	if password == "" {
		password = os.Getenv(etcdPasswordEnv)
	}
	if password != "" && user == "" {
		return nil, "--etcd-password (or " + etcdPasswordEnv + ") needs --etcd-user"
	}
	o.Password = password
	if (cert == "") != (key == "") {
		return nil, "--etcd-cert and --etcd-key go together: a client certificate and its private key"
	}
	if ca != "" || cert != "" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if ca != "" {
			pem, err := os.ReadFile(ca)
			if err != nil {
				return nil, fmt.Sprintf("--etcd-ca: %v", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Sprintf("--etcd-ca %s: no PEM certificate in it", ca)
			}
			cfg.RootCAs = pool
		}
		if cert != "" {
			pair, err := tls.LoadX509KeyPair(cert, key)
			if err != nil {
				return nil, fmt.Sprintf("--etcd-cert/--etcd-key: %v", err)
			}
			cfg.Certificates = []tls.Certificate{pair}
		}
		o.TLS = cfg
	}
	return o, ""
}

// wrappingKeyEnv names the environment variable that may hold the
// wrapping key of the --db file, hex or base64.
const wrappingKeyEnv = "KMSSIM_WRAPPING_KEY"

// parseWrappingKey reads a boltstore wrapping key: 64 hex digits or the
// base64 of 32 bytes (surrounding white space ignored), or, if raw is
// allowed, the 32 bytes themselves. The error never quotes the key.
func parseWrappingKey(b []byte, raw bool) ([]byte, error) {
	if raw && len(b) == boltstore.WrappingKeySize {
		return bytes.Clone(b), nil
	}
	t := bytes.TrimSpace(b)
	if k, err := hex.DecodeString(string(t)); err == nil && len(k) == boltstore.WrappingKeySize {
		return k, nil
	}
	if k, err := base64.StdEncoding.DecodeString(string(t)); err == nil && len(k) == boltstore.WrappingKeySize {
		return k, nil
	}
	want := "64 hex digits or the base64 of 32 bytes"
	if raw {
		want = "32 raw bytes, " + want
	}
	return nil, fmt.Errorf("a wrapping key is an AES-256 key: want %s", want)
}

// serve runs the serve command until ctx is cancelled. ready, if not nil,
// is called with the listening address once the server accepts
// connections.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(net.Addr)) int {
	c, code := parseServe(args, stdout, stderr)
	if c == nil {
		return code
	}
	var handler slog.Handler
	if c.logJSON {
		handler = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: c.logLevel})
	} else {
		handler = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: c.logLevel})
	}
	log := slog.New(handler)
	fail := func(msg string, err error) int {
		log.Error(msg, "err", err)
		return exitError
	}

	opts := []kms.Option{kms.WithAccount(c.account), kms.WithRegion(c.region), kms.WithRules(c.rules),
		kms.WithRegions(c.allowRegions...)}
	opts = append(opts, c.ec...)
	if c.identities != nil {
		opts = append(opts, kms.WithIdentityPolicies(c.identities))
	}
	if c.orgs != nil {
		opts = append(opts, kms.WithOrganizations(c.orgs))
	}
	opts = append(opts, kms.WithGrantsPerKeyQuota(c.grantsPerKey))
	if c.attestRoots != nil {
		opts = append(opts, kms.WithAttestationRoots(c.attestRoots))
	}
	if c.quota >= 0 {
		opts = append(opts, kms.WithOnDemandRotationQuota(c.quota))
	}
	if c.rulesUpgrade {
		opts = append(opts, kms.WithRulesUpgrade())
	}
	var clock *kms.ManualClock
	if c.clock == "manual" {
		clock = kms.NewManualClock(c.start)
		opts = append(opts, kms.WithClock(clock))
	}
	if c.seed != 0 {
		log.Warn("--seed: all randomness comes from the seed, key material included; anyone with the seed can decrypt", "seed", c.seed)
		var seed [32]byte
		binary.LittleEndian.PutUint64(seed[:], c.seed)
		opts = append(opts, kms.WithRandom(rand.NewChaCha8(seed)))
	}
	if c.staleReads {
		opts = append(opts, kms.WithStaleReads())
	}
	if c.noPredefined {
		opts = append(opts, kms.WithoutPredefinedAliases())
	}
	var svc *kms.Service
	var mlog *etcdModelLog // a cluster node's IAM, Organizations and VPC endpoint changes (modellog.go)
	var mlogFrom int64
	var usage *usageShare // a cluster node's key uses, shared (usageshare.go)
	storeName := "memory"
	if c.mem {
		svc = kms.New(opts...)
	} else {
		var st store.Store
		var err error
		wrapped := c.wrappingKey != nil
		if c.etcd != nil {
			storeName = "etcd " + strings.Join(c.etcd.Endpoints, ",") + " prefix " + c.etcd.Prefix
			if c.identities != nil || c.orgs != nil || len(c.vpces) > 0 {
				if mlog, mlogFrom, err = openModelLog(c, log); err != nil {
					return fail("cannot read the model log", err)
				}
				defer func() {
					if err := mlog.close(); err != nil {
						log.Error("closing the model log", "err", err)
					}
				}()
			}
			st, err = etcdstore.Open(*c.etcd)
		} else {
			storeName = c.db
			st, err = boltstore.Open(c.db, &boltstore.Options{WrappingKey: c.wrappingKey})
		}
		clear(c.wrappingKey) // Open does not keep it
		if err != nil {
			return fail("cannot open the store", err)
		}
		if clock != nil {
			// A manual clock resumes where the store's time left off,
			// unless --start is later (kms.Open refuses a clock behind it).
			latest, err := st.LatestInstant(ctx)
			if err != nil {
				_ = st.Close()
				return fail("cannot load the store", err)
			}
			if latest.After(c.start) {
				if err := clock.Set(latest); err != nil {
					_ = st.Close()
					return fail("cannot resume the manual clock", err)
				}
				log.Info("manual clock resumed from the store's latest instant", "now", latest.Format(time.RFC3339Nano),
					"start", c.start.Format(time.RFC3339))
			}
		}
		if c.etcd != nil && c.shareUsage {
			// D79: the nodes share their key uses and one tracking start.
			if usage, err = newUsageShare(c.etcd, log); err == nil {
				now := time.Now()
				if clock != nil {
					now = clock.Now()
				}
				tctx, cancel := context.WithTimeout(ctx, c.etcd.DialTimeout)
				var start time.Time
				start, err = usage.trackingStart(tctx, now)
				cancel()
				opts = append(opts, kms.WithKeyUsageSharing(), kms.WithTrackingStart(start))
			}
			if err != nil {
				if usage != nil {
					_ = usage.close()
				}
				_ = st.Close()
				return fail("cannot share key usage", err)
			}
		}
		if svc, err = kms.Open(ctx, st, opts...); err != nil {
			_ = st.Close()
			if usage != nil {
				_ = usage.close()
			}
			return fail("cannot load the store", err)
		}
		if !wrapped {
			log.Warn("the store's root secret is not wrapped: anyone who can read the file can derive every key; "+
				"give a wrapping key with --wrapping-key-file or "+wrappingKeyEnv, "db", c.db)
		}
	}
	defer func() {
		if err := svc.Close(); err != nil {
			log.Error("closing the store", "err", err)
		}
	}()
	if usage != nil {
		if err := usage.start(svc, c.usageEvery); err != nil {
			_ = usage.close()
			return fail("cannot share key usage", err)
		}
		// Runs before svc.Close (defers run last first).
		defer func() {
			if err := usage.close(); err != nil {
				log.Error("closing the key usage connection", "err", err)
			}
		}()
	}
	if c.etcd != nil {
		// Runs before svc.Close (defers run last first).
		t := time.NewTicker(followEvery)
		defer t.Stop()
		defer follow(svc, t.C, c.readyTimeout)()
	}

	hopts := []kmshttp.Option{kmshttp.WithHealth(c.readyTimeout), kmshttp.WithLogger(log), kmshttp.WithMaxBodyBytes(c.maxBody), kmshttp.WithBodyMemory(c.bodyMemory)}
	if clock != nil {
		hopts = append(hopts, kmshttp.WithManualClock(clock))
	}
	hopts = c.modelOptions(hopts)
	if len(c.accessKeys) > 0 {
		hopts = append(hopts, kmshttp.WithAccounts(c.accessKeys))
	}
	if mlog != nil {
		hopts = append(hopts, kmshttp.WithModelLog(mlog))
	}
	h, err := kmshttp.New(svc, hopts...)
	if err != nil {
		return fail("cannot build the handler", err)
	}
	if mlog != nil {
		mlog.start(h, mlogFrom)
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fail("cannot listen", err)
	}
	if c.etcd != nil {
		// Last before serving, so that a node that fails to start for
		// another reason records nothing.
		if err := checkModelFlags(ctx, c); err != nil {
			_ = ln.Close()
			return fail("cannot join the cluster", err)
		}
	}
	srv := kmshttp.NewServer(h, c.limits, slog.NewLogLogger(handler, slog.LevelWarn))
	attrs := []any{"addr", ln.Addr().String(), "store", storeName, "clock", c.clock,
		"account", c.account, "region", c.region, "endpoint", "http://" + ln.Addr().String(),
		"maxConns", c.limits.MaxConns, "memoryBound", kmshttp.MemoryBound(c.limits, c.bodyMemory)}
	if clock != nil {
		attrs = append(attrs, "start", c.start.Format(time.RFC3339), "now", clock.Now().Format(time.RFC3339Nano))
	}
	log.Info("kmssim serving the AWS KMS API", attrs...)
	if mlog != nil {
		log.Info("IAM, Organizations and VPC endpoints are built from this node's flags (every node's must be the same: a node given others refuses to start), and the KmsModel targets that change them change every node")
	}
	if ready != nil {
		ready(ln.Addr())
	}
	if err := runServer(ctx, srv, ln, c.shutdownTimeout, log); err != nil {
		return fail("server failed", err)
	}
	return exitOK
}

// followEvery is how often a cluster node that answers no call catches
// up with the other nodes' commits (follow).
const followEvery = time.Second

// follow catches svc up with its cluster at each tick (svc.Ready, each
// within timeout) until the function it returns is called, which waits
// for the last catch-up to end. A node catches up before each call, but
// one that answers none (a load balancer sends it nothing, and checks
// nothing) would otherwise leave the other nodes' commits queued in its
// etcd client, without bound, and take them all at its next call. kms
// starts no goroutine; the command that serves it does.
func follow(svc *kms.Service, tick <-chan time.Time, timeout time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick:
				rctx, rcancel := context.WithTimeout(ctx, timeout)
				_ = svc.Ready(rctx) // what is wrong, /readyz reports
				rcancel()
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// server is what runServer runs: a *kmshttp.Server or an *http.Server.
type server interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
}

// runServer serves on ln until ctx is done, then shuts srv down
// gracefully: it stops accepting connections and waits up to timeout for
// the requests in flight to finish.
func runServer(ctx context.Context, srv server, ln net.Listener, timeout time.Duration, log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}
