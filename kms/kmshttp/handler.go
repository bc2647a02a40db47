package kmshttp

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/kms/policy"
)

// DefaultMaxBodyBytes is the largest request body a Handler reads unless
// WithMaxBodyBytes says otherwise: 1 MiB, far above any request of the
// operations served.
const DefaultMaxBodyBytes = 1 << 20

// DefaultBodyMemory is how many bytes of large request bodies (those over
// SmallBodyBytes) a Handler buffers at once unless WithBodyMemory says
// otherwise: 64 MiB.
const DefaultBodyMemory = 64 << 20

// SmallBodyBytes is the size up to which a request body is read without
// drawing on the handler's body memory (WithBodyMemory): 16 KiB, above
// every request of the operations served that an AWS SDK sends (the
// largest, Encrypt or Sign of 4 KiB, is under 6 KiB of JSON). Each
// connection may thus hold up to about twice this much on its own.
const SmallBodyBytes = 16 << 10

// Handler serves the AWS KMS API (the AWS JSON 1.1 protocol) over a
// *kms.Service. It is safe for concurrent use.
type Handler struct {
	svc      *kms.Service
	clock    *kms.ManualClock
	iam      *kms.IdentityPolicies       // WithIdentityPolicies; nil: its targets are not served
	orgs     *kms.Organizations          // WithOrganizations; nil: its targets are not served
	vpces    map[string]*kms.VPCEndpoint // WithVPCEndpoints, by ID
	accounts map[string]identity         // access key ID → caller; nil: every key is the service's account
	maxBody  int64
	log      *slog.Logger
	idHigh   uint64 // random half of every request ID
	seq      atomic.Uint64

	bodyMemory int64        // bound on bodies.held
	bodyHeld   atomic.Int64 // bytes of large bodies buffered now

	readyTimeout time.Duration // WithHealth; 0: no health endpoints
	modelLog     ModelLog      // WithModelLog, or nil
}

var _ http.Handler = (*Handler)(nil)

// Option configures a Handler built by New.
type Option func(*config)

type config struct {
	clock    *kms.ManualClock
	iam      *kms.IdentityPolicies
	orgs     *kms.Organizations
	vpces    []*kms.VPCEndpoint
	accounts map[string]string
	maxBody  int64
	bodyMem  int64
	log      *slog.Logger
	random   io.Reader
	health   bool          // WithHealth was given
	ready    time.Duration // its timeout
	modelLog ModelLog
}

// WithManualClock tells the handler that the service runs on clock, which
// enables the KmsModel.AdvanceClock and KmsModel.Now targets. Pass the same
// clock that the service was given with kms.WithClock.
func WithManualClock(clock *kms.ManualClock) Option {
	return func(c *config) { c.clock = clock }
}

// WithIdentityPolicies tells the handler the identity-based policies the
// service was given with kms.WithIdentityPolicies (decision D59), which
// enables the KmsModel.PutIdentityPolicy, KmsModel.GetIdentityPolicy and
// KmsModel.DeleteIdentityPolicy targets, and those of IAM's guard rails
// (D62; package documentation). Pass the same value.
func WithIdentityPolicies(ip *kms.IdentityPolicies) Option {
	return func(c *config) { c.iam = ip }
}

// WithVPCEndpoints lets requests come through the VPC endpoints eps
// (decision D64 of package kms): a request with the header
// X-Kmsmodel-Vpc-Endpoint naming one of them is a call through it
// (kms.WithVPCEndpoint), and the KmsModel.SetVPCEndpointPolicy and
// KmsModel.GetVPCEndpointPolicy targets change and read their policies.
func WithVPCEndpoints(eps ...*kms.VPCEndpoint) Option {
	return func(c *config) { c.vpces = append(c.vpces, eps...) }
}

// WithOrganizations tells the handler the organizations the service was
// given with kms.WithOrganizations (decisions D62, D63), which enables the
// KmsModel targets of service control policies, resource control policies
// and accounts' places (package documentation). Pass the same value.
func WithOrganizations(o *kms.Organizations) Option {
	return func(c *config) { c.orgs = o }
}

// WithAccounts maps access key IDs to callers. A value is either an
// account ID (twelve digits), whose calls are made by that account's root
// (kms.WithCaller), or the ARN of a principal (decision D24): an IAM user
// ("arn:aws:iam::111122223333:user/alice"), an IAM role
// ("arn:aws:iam::111122223333:role/app"), an assumed-role session
// ("arn:aws:sts::111122223333:assumed-role/app/session1", which key
// policies match as its role) or an account root
// ("arn:aws:iam::111122223333:root"), whose calls are made by that
// principal (kms.WithPrincipal) in its account. A request signed with an
// access key in the map runs as its caller, and a request signed with any
// other access key is refused with UnrecognizedClientException, and a
// request with no Authorization header at all with
// MissingAuthenticationTokenException. Without this option every access
// key, and every unsigned request, runs as the service's own account's
// root. The map is copied.
func WithAccounts(accessKeyToAccount map[string]string) Option {
	return func(c *config) {
		c.accounts = make(map[string]string, len(accessKeyToAccount))
		for k, v := range accessKeyToAccount {
			c.accounts[k] = v
		}
	}
}

// WithMaxBodyBytes sets the largest request body the handler accepts
// (DefaultMaxBodyBytes by default). A larger request is refused with
// RequestEntityTooLargeException and HTTP 413.
func WithMaxBodyBytes(n int64) Option { return func(c *config) { c.maxBody = n } }

// WithBodyMemory bounds the bytes of request bodies larger than
// SmallBodyBytes that the handler buffers at once, over all requests
// (DefaultBodyMemory by default). A request whose body would pass the
// bound (by its Content-Length, or while a chunked body grows) is refused
// at once with ThrottlingException (HTTP 400, which the AWS SDKs retry),
// so that clients sending large bodies slowly cannot make the server hold
// more than this. The bytes are returned when the response has been
// written.
func WithBodyMemory(n int64) Option { return func(c *config) { c.bodyMem = n } }

// WithLogger makes the handler log every request at slog.LevelDebug
// (operation, account, principal, status, exception, duration, request
// ID).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithRandom sets the source of randomness for request IDs, read once by
// New. The default is crypto/rand.Reader; deterministic tests pass a seeded
// source.
func WithRandom(r io.Reader) Option { return func(c *config) { c.random = r } }

// New returns a Handler serving svc.
//
// It returns an error when a value given to WithAccounts is neither a
// twelve-digit account ID nor the ARN of an IAM user, role, assumed-role
// session or account root, when WithMaxBodyBytes or WithBodyMemory is not
// positive, or when the randomness source fails.
func New(svc *kms.Service, opts ...Option) (*Handler, error) {
	c := config{maxBody: DefaultMaxBodyBytes, bodyMem: DefaultBodyMemory, random: rand.Reader}
	for _, o := range opts {
		o(&c)
	}
	var accounts map[string]identity
	if c.accounts != nil {
		accounts = make(map[string]identity, len(c.accounts))
		for key, v := range c.accounts {
			id, err := parseIdentity(v)
			if err != nil {
				return nil, fmt.Errorf("kmshttp: access key %q maps to %q: %w", key, v, err)
			}
			accounts[key] = id
		}
	}
	var vpces map[string]*kms.VPCEndpoint
	for _, ep := range c.vpces {
		if vpces == nil {
			vpces = make(map[string]*kms.VPCEndpoint)
		}
		if ep == nil || vpces[ep.ID()] != nil {
			return nil, fmt.Errorf("kmshttp: WithVPCEndpoints: a nil or repeated endpoint")
		}
		vpces[ep.ID()] = ep
	}
	if c.maxBody <= 0 {
		return nil, fmt.Errorf("kmshttp: WithMaxBodyBytes(%d): the limit must be positive", c.maxBody)
	}
	if c.bodyMem <= 0 {
		return nil, fmt.Errorf("kmshttp: WithBodyMemory(%d): the limit must be positive", c.bodyMem)
	}
	if c.health && c.ready <= 0 {
		return nil, fmt.Errorf("kmshttp: WithHealth(%v): the timeout must be positive", c.ready)
	}
	var seed [8]byte
	if _, err := io.ReadFull(c.random, seed[:]); err != nil {
		return nil, fmt.Errorf("kmshttp: reading randomness for request IDs: %w", err)
	}
	return &Handler{
		svc:      svc,
		clock:    c.clock,
		iam:      c.iam,
		orgs:     c.orgs,
		vpces:    vpces,
		accounts: accounts,
		maxBody:  c.maxBody,
		log:      c.log,

		bodyMemory:   c.bodyMem,
		idHigh:       binary.BigEndian.Uint64(seed[:]),
		readyTimeout: c.ready,
		modelLog:     c.modelLog,
	}, nil
}

// identity is the caller an access key stands for: an account's root, or
// a principal ARN in its account.
type identity struct {
	account   string
	principal string // "": the account's root, by kms.WithCaller
}

// errNotCaller is parseIdentity's refusal.
var errNotCaller = errors.New("not a twelve-digit account ID nor the ARN of an IAM user, role, assumed-role session or account root")

// parseIdentity reads a WithAccounts value: an account ID or a principal
// ARN of the kinds D24 names.
func parseIdentity(v string) (identity, error) {
	if kms.ValidAccountID(v) {
		return identity{account: v}, nil
	}
	p, err := policy.ParsePrincipal(v)
	if err != nil {
		return identity{}, errNotCaller
	}
	switch p.Kind() {
	case policy.Account, policy.User, policy.Role, policy.AssumedRole:
		return identity{account: p.Account(), principal: v}, nil
	}
	return identity{}, errNotCaller
}

// ValidCaller reports whether v may be a value of WithAccounts: a
// twelve-digit account ID, or the ARN of an IAM user, IAM role,
// assumed-role session or account root.
func ValidCaller(v string) bool {
	_, err := parseIdentity(v)
	return err == nil
}

// context returns ctx with the caller: its principal, or its account's
// root.
func (id identity) context(ctx context.Context) context.Context {
	if id.principal != "" {
		return kms.WithPrincipal(ctx, id.principal)
	}
	return kms.WithCaller(ctx, id.account)
}

// wireError is a refusal of the adapter itself (protocol, serialization,
// authentication), in AWS's shape.
type wireError struct {
	code   string
	status int
	msg    string
}

func (e *wireError) Error() string { return e.code + ": " + e.msg }

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// ServeHTTP answers one AWS JSON 1.1 request: POST with the operation in
// the X-Amz-Target header ("TrentService.<Operation>", or
// "KmsModel.<Operation>" for the simulated-time extensions) and its input as
// a JSON object in the body.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.readyTimeout > 0 && r.Method != http.MethodPost && h.health(w, r) {
		return
	}
	var start time.Time
	logging := h.log != nil && h.log.Enabled(r.Context(), slog.LevelDebug)
	if logging {
		start = time.Now()
	}
	id := h.requestID()
	hdr := w.Header()
	hdr["X-Amzn-Requestid"] = []string{id}
	hdr["Content-Type"] = []string{"application/x-amz-json-1.1"}

	bp := bufPool.Get().(*[]byte)
	out := (*bp)[:0]
	var (
		op     string
		caller identity
		status = http.StatusOK
		code   string
	)
	body, held, rerr := h.readBody(r, out)
	defer h.bodyHeld.Add(-held)
	out = body[len(body):] // the response reuses the rest of the buffer
	if rerr == nil && r.Method != http.MethodPost {
		rerr = &wireError{code: "UnknownOperationException", status: http.StatusBadRequest,
			msg: "The AWS JSON protocol accepts only POST requests, not " + r.Method}
	}
	var callRegion string
	if rerr == nil {
		op = r.Header.Get("X-Amz-Target")
		caller, callRegion, rerr = h.authenticate(r)
	}
	if rerr == nil {
		var ctx context.Context
		ctx, rerr = h.callContext(r, caller)
		if rerr == nil {
			ctx = kms.WithRequestID(ctx, id)
			if callRegion != "" {
				ctx = kms.WithCallerRegion(ctx, callRegion)
			}
			out, rerr = h.dispatch(ctx, op, body, out)
		}
	}
	if rerr != nil {
		code, status, out = errorBody(rerr, id, out[:0])
		hdr["X-Amzn-Errortype"] = []string{code}
		if code == string(keystate.ErrKMSInternal) && h.log != nil {
			// The client sees a generic message (the detail may name
			// files of the server); the detail goes to the log under the
			// request ID. Errors of the model carry no key material.
			h.log.LogAttrs(r.Context(), slog.LevelError, "internal error",
				slog.String("requestId", id), slog.String("target", op), slog.String("account", caller.account),
				slog.String("principal", caller.principal), slog.String("err", rerr.Error()))
		}
	}
	hdr["Content-Length"] = []string{strconv.Itoa(len(out))}
	w.WriteHeader(status)
	_, _ = w.Write(out)
	if cap(body) <= 64<<10 {
		// Requests and responses may carry plaintexts (Encrypt, Decrypt,
		// GenerateDataKey): wipe what this request used before reuse.
		used := len(body) + len(out)
		if used > cap(body) {
			used = len(body) // the response grew into a buffer of its own
		}
		clear(body[:used])
		*bp = body[:0]
		bufPool.Put(bp)
	}
	if logging {
		h.log.LogAttrs(r.Context(), slog.LevelDebug, "request",
			slog.String("target", op), slog.String("account", caller.account), slog.String("principal", caller.principal), slog.Int("status", status),
			slog.String("error", code), slog.Duration("duration", time.Since(start)), slog.String("requestId", id))
	}
}

// readBody reads the request body into buf, refusing one larger than the
// limit with RequestEntityTooLargeException (HTTP 413, the CommonErrors
// page's status). A body over SmallBodyBytes draws on the handler's body
// memory: held is what it drew, to be given back (bodyHeld) once the
// buffer is no longer used; when the memory is spent the request is
// refused with ThrottlingException.
func (h *Handler) readBody(r *http.Request, buf []byte) (body []byte, held int64, err error) {
	tooLarge := func() error {
		return &wireError{code: "RequestEntityTooLargeException", status: http.StatusRequestEntityTooLarge,
			msg: "Request body is larger than the limit of " + strconv.FormatInt(h.maxBody, 10) + " bytes"}
	}
	// grow makes room for n bytes in a buffer of its own (the pooled one
	// is left alone), drawing on the body memory beyond SmallBodyBytes.
	grow := func(n int64) error {
		if n > SmallBodyBytes {
			if !h.drawBodyMemory(n) {
				return &wireError{code: "ThrottlingException", status: http.StatusBadRequest,
					msg: "Rate exceeded: the server is buffering its limit of " + strconv.FormatInt(h.bodyMemory, 10) +
						" bytes of large request bodies; retry later"}
			}
			h.bodyHeld.Add(-held)
			held = n
		}
		nb := make([]byte, len(buf), n)
		copy(nb, buf)
		clear(buf) // it may hold a plaintext
		buf = nb
		return nil
	}
	if r.ContentLength > h.maxBody {
		return buf, held, tooLarge()
	}
	if r.Body == nil || r.Body == http.NoBody {
		return buf, held, nil
	}
	if r.ContentLength >= int64(cap(buf)) {
		// The whole body and room to see its end, in one allocation.
		if err := grow(r.ContentLength + 1); err != nil {
			return buf[:0], held, err
		}
	}
	for {
		if len(buf) == cap(buf) {
			if err := grow(min(max(2*int64(cap(buf)), 1024), h.maxBody+1)); err != nil {
				return buf[:0], held, err
			}
		}
		n, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > h.maxBody {
			return buf[:0], held, tooLarge()
		}
		if err == io.EOF {
			return buf, held, nil
		}
		if err != nil {
			return buf[:0], held, &wireError{code: "RequestAbortedException", status: http.StatusBadRequest,
				msg: "The request body could not be read: " + err.Error()}
		}
	}
}

// drawBodyMemory takes n bytes of the body memory, or reports false when
// fewer are left.
func (h *Handler) drawBodyMemory(n int64) bool {
	for {
		cur := h.bodyHeld.Load()
		if cur+n > h.bodyMemory {
			return false
		}
		if h.bodyHeld.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

// internalMessage is the message of every KMSInternalException the
// handler sends: AWS's generic wording (the CommonErrors page's
// InternalFailure) and the request ID, under which the handler logs the
// detail. The detail itself never reaches the client: it may name the
// server's files (a store's path) or other internals.
func internalMessage(requestID string) string {
	return "The request processing has failed because of an unknown error, exception or failure. Request ID: " + requestID
}

// errorBody renders err in AWS's error shape and returns the exception
// name, the HTTP status and the body. A KMSInternalException, or any error
// that is not a refusal, gets internalMessage(requestID) as its message,
// not its own. Decision D18: every client error is
// HTTP 400 (as real AWS sends), KMSInternalException and
// DependencyTimeoutException are 500; the adapter's own 413 is the only
// other status. The message member is left out when the message is empty,
// as real KMS sends UnsupportedOperationException for an asymmetric key's
// RotateKeyOnDemand (D19).
func errorBody(err error, requestID string, b []byte) (code string, status int, body []byte) {
	var msg string
	var we *wireError
	var ke *keystate.Error
	switch {
	case errors.As(err, &we):
		code, status, msg = we.code, we.status, we.msg
	case errors.As(err, &ke):
		code, msg = string(ke.Code), ke.Message
		status = statusOf(ke.Code)
	default:
		// Not a refusal of the model: an internal failure (D18: 500).
		code, status = string(keystate.ErrKMSInternal), http.StatusInternalServerError
	}
	if code == string(keystate.ErrKMSInternal) {
		msg = internalMessage(requestID)
	}
	w := writer{b: b}
	w.open()
	w.str("__type", code)
	w.optStr("message", msg)
	w.close()
	return code, status, w.b
}

// statusOf is decision D18.
func statusOf(code keystate.Exception) int {
	switch code {
	case keystate.ErrKMSInternal, keystate.ErrDependencyTimeout:
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// requestID returns a fresh request ID in UUID form: a random half fixed
// when the handler was made and a counter.
func (h *Handler) requestID() string {
	n := h.seq.Add(1)
	var raw [16]byte
	binary.BigEndian.PutUint64(raw[:8], h.idHigh)
	binary.BigEndian.PutUint64(raw[8:], n)
	raw[6] = raw[6]&0x0f | 0x40 // version 4 layout
	raw[8] = raw[8]&0x3f | 0x80
	var out [36]byte
	j := 0
	for i, c := range raw {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hexDigits[c>>4], hexDigits[c&0xf]
		j += 2
	}
	return string(out[:])
}

// authenticate finds the caller (an account's root or a principal, by
// WithAccounts) and the Region from the SigV4 Authorization header. The signature is not verified. The credential
// scope's Region is the Region of the call (kms.WithCallerRegion): any
// Region the service allows (kms.Service.AllowsRegion: its own Region, an
// AWS Region such as "us-west-2" or "us-gov-west-1", or one named with
// kms.WithRegions). A
// request without an Authorization header runs as the service's own
// account in its default Region (useful with curl) unless WithAccounts
// mapped access keys, and so does a SigV4a
// request, whose scope names no Region (its X-Amz-Region-Set must then
// include the default Region, or be "*"). When WithAccounts mapped access
// keys, a request without an Authorization header is refused with
// MissingAuthenticationTokenException instead. A header that is not SigV4 or
// lacks a credential is refused with IncompleteSignatureException; a
// credential scoped to a Region the service does not serve, or to another
// service, with InvalidSignatureException; an access key that the account
// map does not know with UnrecognizedClientException. All are HTTP 400
// (D18; the CommonErrors page lists 403 for some of them). The Region
// returned is "" for the default Region.
func (h *Handler) authenticate(r *http.Request) (caller identity, region string, err error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		if h.accounts != nil {
			// Access keys name the accounts: a request that names none
			// must not run as the service's own account.
			return identity{}, "", &wireError{code: "MissingAuthenticationTokenException", status: http.StatusBadRequest,
				msg: "Request is missing Authentication Token"}
		}
		return identity{account: h.svc.Account()}, "", nil
	}
	alg, rest, _ := strings.Cut(auth, " ")
	var v4a bool
	switch alg {
	case "AWS4-HMAC-SHA256":
	case "AWS4-ECDSA-P256-SHA256": // SigV4a: no Region in the scope
		v4a = true
	default:
		return identity{}, "", &wireError{code: "IncompleteSignatureException", status: http.StatusBadRequest,
			msg: "Authorization header requires the AWS4-HMAC-SHA256 signing algorithm"}
	}
	_, cred, ok := strings.Cut(rest, "Credential=")
	if ok {
		if i := strings.IndexAny(cred, ", "); i >= 0 {
			cred = cred[:i]
		}
	}
	// <key>/<date>/<region>/<service>/aws4_request, or for SigV4a
	// <key>/<date>/<service>/aws4_request.
	var parts [5]string
	n := 0
	for ok && n < len(parts) {
		var part string
		part, cred, ok = strings.Cut(cred, "/")
		parts[n] = part
		n++
	}
	want := 5
	if v4a {
		want = 4
	}
	if n != want || ok || parts[0] == "" || parts[n-1] != "aws4_request" {
		return identity{}, "", &wireError{code: "IncompleteSignatureException", status: http.StatusBadRequest,
			msg: "Authorization header requires 'Credential' parameter of the form <access key>/<date>/<region>/kms/aws4_request"}
	}
	if v4a {
		if set := r.Header.Get("X-Amz-Region-Set"); set != "" && set != "*" && !containsRegion(set, h.svc.Region()) {
			return identity{}, "", &wireError{code: "InvalidSignatureException", status: http.StatusBadRequest,
				msg: "Credential should be scoped to a valid region, not '" + set + "'."}
		}
	} else {
		region = parts[2]
		if !h.svc.AllowsRegion(region) {
			return identity{}, "", &wireError{code: "InvalidSignatureException", status: http.StatusBadRequest,
				msg: "Credential should be scoped to a valid region, not '" + region + "'."}
		}
	}
	if service := parts[n-2]; service != "kms" {
		return identity{}, "", &wireError{code: "InvalidSignatureException", status: http.StatusBadRequest,
			msg: "Credential should be scoped to correct service: 'kms'."}
	}
	if h.accounts == nil {
		return identity{account: h.svc.Account()}, region, nil
	}
	who, ok := h.accounts[parts[0]]
	if !ok {
		return identity{}, "", &wireError{code: "UnrecognizedClientException", status: http.StatusBadRequest,
			msg: "The security token included in the request is invalid."}
	}
	return who, region, nil
}

func containsRegion(set, region string) bool {
	for _, r := range strings.Split(set, ",") {
		if strings.TrimSpace(r) == region {
			return true
		}
	}
	return false
}

// dispatch runs the operation named by target on body and appends its
// response body to out.
func (h *Handler) dispatch(ctx context.Context, target string, body, out []byte) ([]byte, error) {
	name, ok := strings.CutPrefix(target, "TrentService.")
	if ok {
		if op := operation(name); op != nil {
			return op(ctx, h.svc, body, out)
		}
	} else if name, ok = strings.CutPrefix(target, "KmsModel."); ok {
		if h.modelLog != nil {
			switch {
			case isModelChange(name):
				if err := h.modelPrecheck(name, body); err != nil {
					return out, err // refused here, and never logged
				}
				resp, err := h.modelLog.Change(ctx, target, body)
				return append(out, resp...), err
			case isModelTarget(name): // a read of them
				if err := h.modelLog.Sync(ctx); err != nil {
					return out, err
				}
			}
		}
		return h.dispatchModel(name, body, out)
	}
	return out, unknownOperation(target)
}

// dispatchModel runs the KmsModel target name on body and appends its
// response body to out.
func (h *Handler) dispatchModel(name string, body, out []byte) ([]byte, error) {
	switch {
	case h.clock == nil && (name == "AdvanceClock" || name == "Now"):
		return out, noManualClock("KmsModel." + name)
	case name == "AdvanceClock":
		return h.advanceClock(body, out)
	case name == "Now":
		return h.now(body, out)
	case identityTargets[name]:
		return h.identityPolicy(name, body, out)
	case orgTargets[name]:
		return h.organizations(name, body, out)
	case name == "SetVPCEndpointPolicy" || name == "GetVPCEndpointPolicy":
		return h.endpointPolicy(name, body, out)
	case name == "GetPropagationStatus":
		return h.propagationStatus(body, out)
	case name == "Propagate":
		return h.propagate(body, out)
	}
	return out, unknownOperation("KmsModel." + name)
}

// identityTargets are the KmsModel targets that change and read the
// identity-based policies and IAM's guard rails (identityPolicy).
var identityTargets = map[string]bool{
	"PutIdentityPolicy": true, "DeleteIdentityPolicy": true, "GetIdentityPolicy": true,
	"AddUserToGroup": true, "RemoveUserFromGroup": true,
	"PutPermissionsBoundary": true, "GetPermissionsBoundary": true, "DeletePermissionsBoundary": true,
	"PutSessionPolicy": true, "GetSessionPolicy": true, "DeleteSessionPolicy": true,
	"CreatePrincipal": true, "DeletePrincipal": true, "GetUserId": true,
}

// orgTargets are the KmsModel targets of AWS Organizations (organizations).
var orgTargets = map[string]bool{
	"PutServiceControlPolicy": true, "GetServiceControlPolicy": true, "DeleteServiceControlPolicy": true,
	"PutResourceControlPolicy": true, "GetResourceControlPolicy": true, "DeleteResourceControlPolicy": true,
	"PlaceAccount": true, "SetManagementAccount": true,
}

// noManualClock is the refusal of a simulated-time target by a handler
// without a manual clock: UnknownOperationException, as for any target
// not served, with a message that says how to get one.
func noManualClock(target string) *wireError {
	return &wireError{code: "UnknownOperationException", status: http.StatusBadRequest,
		msg: target + " needs simulated time, but this server runs on the wall clock: " +
			"start it with --clock manual (kmssim serve), or give the handler kmshttp.WithManualClock"}
}

// unknownOperation is the refusal of a target the handler does not serve.
// HTTP 400 per decision D18 (every client error); the CommonErrors page
// lists 404 for UnknownOperationException, but the SDKs choose the error by
// its name, and D18 follows what the service sends for client errors.
func unknownOperation(target string) *wireError {
	msg := "Unknown operation " + target
	if target == "" {
		msg = "Missing X-Amz-Target header"
	}
	return &wireError{code: "UnknownOperationException", status: http.StatusBadRequest, msg: msg}
}
