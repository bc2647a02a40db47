package kms

import (
	"cmp"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/store"
)

// Custom key stores.
//
// A custom key store is simulated: there is no CloudHSM cluster and no
// external key store proxy. Connecting succeeds (after the configured
// simulated duration, WithCustomKeyStoreConnectDuration) unless
// WithCustomKeyStoreConnectFailure says it fails, the
// key material of a key in a store is derived from the root secret like
// an AWS_KMS key's (material.go), and a KeyStorePassword or an XKS secret
// access key is checked for its form and then forgotten: nothing uses it,
// so nothing keeps it.
//
// The connection states modelled are DISCONNECTED (a new store), CONNECTING
// (only with a connect duration above zero), CONNECTED and FAILED (a
// connection attempt that WithCustomKeyStoreConnectFailure failed, with
// its ConnectionErrorCode). DISCONNECTING is not: disconnecting takes no
// time.

// The custom key store types and connection states, as AWS names them.
const (
	TypeAWSCloudHSM      = "AWS_CLOUDHSM"
	TypeExternalKeyStore = "EXTERNAL_KEY_STORE"

	ConnectionConnected    = "CONNECTED"
	ConnectionConnecting   = "CONNECTING"
	ConnectionDisconnected = "DISCONNECTED"
	ConnectionFailed       = "FAILED"
)

// connectionErrorCodes are AWS's ConnectionErrorCode values.
var connectionErrorCodes = []string{"INVALID_CREDENTIALS", "CLUSTER_NOT_FOUND", "NETWORK_ERRORS", "INTERNAL_ERROR",
	"INSUFFICIENT_CLOUDHSM_HSMS", "USER_LOCKED_OUT", "USER_NOT_FOUND", "USER_LOGGED_IN", "SUBNET_NOT_FOUND",
	"INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET", "XKS_PROXY_ACCESS_DENIED", "XKS_PROXY_NOT_REACHABLE",
	"XKS_VPC_ENDPOINT_SERVICE_NOT_FOUND", "XKS_PROXY_INVALID_RESPONSE", "XKS_PROXY_INVALID_CONFIGURATION",
	"XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION", "XKS_PROXY_TIMED_OUT", "XKS_PROXY_INVALID_TLS_CONFIGURATION"}

// ConnectionErrorCodes returns AWS's ConnectionErrorCode values (the AWS
// SDK for Go v2's ConnectionErrorCodeType), which a FAILED store reports.
func ConnectionErrorCodes() []string { return slices.Clone(connectionErrorCodes) }

// CustomKeyStoresPerAccount is how many custom key stores an account may
// have in a Region (the AWS quota).
const CustomKeyStoresPerAccount = 10

// customKeyStore is one custom key store.
type customKeyStore struct {
	id, account, name, typ string
	state                  string // ConnectionState
	errorCode              string // ConnectionErrorCode, while FAILED
	seq                    uint64
	slot                   uint32 // index in Service.storeSlots, for queued events
	region                 uint8  // index in Service.regions: a store is visible in its Region only
	created                int64
	connectDone            int64 // when CONNECTING ends

	clusterID, trustAnchor string // AWS_CLOUDHSM
	xks                    xksProxy

	keys []*key // the store's keys, in creation order (deleted keys removed)
}

// xksProxy is an external key store's proxy configuration, without the
// secret access key.
type xksProxy struct {
	endpoint, path, connectivity, vpcService, vpcOwner, accessKeyID string
}

// cksRef ties a key to its custom key store. It is never changed in place.
type cksRef struct {
	store    *customKeyStore
	xksKeyID string
}

// XksProxyAuthenticationCredential is an external key store proxy's
// credential. The secret access key is Sensitive: it never appears in fmt
// output, events or errors, and kmsmodel does not keep it.
type XksProxyAuthenticationCredential struct {
	AccessKeyId        string
	RawSecretAccessKey Sensitive
}

// CreateCustomKeyStoreInput is the input of CreateCustomKeyStore.
type CreateCustomKeyStoreInput struct {
	// CustomKeyStoreName, 1–256 characters, unique in the account.
	CustomKeyStoreName string
	// CustomKeyStoreType: AWS_CLOUDHSM (default) or EXTERNAL_KEY_STORE.
	CustomKeyStoreType string
	// AWS_CLOUDHSM: CloudHsmClusterId (19–24 characters),
	// TrustAnchorCertificate (1–5000) and KeyStorePassword (7–32), all
	// required.
	CloudHsmClusterId      string
	TrustAnchorCertificate string
	KeyStorePassword       Sensitive
	// EXTERNAL_KEY_STORE: XksProxyUriEndpoint ("https://…", 10–128),
	// XksProxyUriPath (10–128, ending in /kms/xks/v1), XksProxyConnectivity
	// (PUBLIC_ENDPOINT or VPC_ENDPOINT_SERVICE) and the credential are
	// required; XksProxyVpcEndpointServiceName (20–64) is required with
	// VPC_ENDPOINT_SERVICE and refused otherwise.
	XksProxyUriEndpoint              string
	XksProxyUriPath                  string
	XksProxyConnectivity             string
	XksProxyVpcEndpointServiceName   string
	XksProxyVpcEndpointServiceOwner  string
	XksProxyAuthenticationCredential *XksProxyAuthenticationCredential
}

// CreateCustomKeyStoreOutput is the output of CreateCustomKeyStore.
type CreateCustomKeyStoreOutput struct {
	CustomKeyStoreId string
}

// CustomKeyStoreIdInput names one custom key store. It is the input of
// ConnectCustomKeyStore, DisconnectCustomKeyStore and DeleteCustomKeyStore.
type CustomKeyStoreIdInput struct {
	CustomKeyStoreId string
}

// ConnectCustomKeyStoreInput is the input of ConnectCustomKeyStore.
type ConnectCustomKeyStoreInput = CustomKeyStoreIdInput

// DisconnectCustomKeyStoreInput is the input of DisconnectCustomKeyStore.
type DisconnectCustomKeyStoreInput = CustomKeyStoreIdInput

// DeleteCustomKeyStoreInput is the input of DeleteCustomKeyStore.
type DeleteCustomKeyStoreInput = CustomKeyStoreIdInput

// ConnectCustomKeyStoreOutput is the (empty) output of ConnectCustomKeyStore.
type ConnectCustomKeyStoreOutput struct{}

// DisconnectCustomKeyStoreOutput is the (empty) output of
// DisconnectCustomKeyStore.
type DisconnectCustomKeyStoreOutput struct{}

// DeleteCustomKeyStoreOutput is the (empty) output of DeleteCustomKeyStore.
type DeleteCustomKeyStoreOutput struct{}

// UpdateCustomKeyStoreInput is the input of UpdateCustomKeyStore. Empty
// fields are left as they are.
type UpdateCustomKeyStoreInput struct {
	CustomKeyStoreId      string
	NewCustomKeyStoreName string
	// AWS_CLOUDHSM stores.
	KeyStorePassword  Sensitive
	CloudHsmClusterId string
	// EXTERNAL_KEY_STORE stores.
	XksProxyUriEndpoint              string
	XksProxyUriPath                  string
	XksProxyConnectivity             string
	XksProxyVpcEndpointServiceName   string
	XksProxyAuthenticationCredential *XksProxyAuthenticationCredential
}

// UpdateCustomKeyStoreOutput is the (empty) output of UpdateCustomKeyStore.
type UpdateCustomKeyStoreOutput struct{}

// DescribeCustomKeyStoresInput is the input of DescribeCustomKeyStores.
// CustomKeyStoreId or CustomKeyStoreName (not both) selects one store;
// with neither, all of the caller's stores are listed, in creation order.
type DescribeCustomKeyStoresInput struct {
	CustomKeyStoreId   string
	CustomKeyStoreName string
	// Limit, 1–1000, default 100.
	Limit  *int32
	Marker string
}

// XksProxyConfiguration describes an external key store's proxy (without
// its secret access key).
type XksProxyConfiguration struct {
	AccessKeyId             string
	Connectivity            string
	UriEndpoint             string
	UriPath                 string
	VpcEndpointServiceName  string
	VpcEndpointServiceOwner string
}

// CustomKeyStoresListEntry describes one custom key store.
type CustomKeyStoresListEntry struct {
	CloudHsmClusterId      string // AWS_CLOUDHSM
	ConnectionErrorCode    string
	ConnectionState        string
	CreationDate           time.Time
	CustomKeyStoreId       string
	CustomKeyStoreName     string
	CustomKeyStoreType     string
	TrustAnchorCertificate string                 // AWS_CLOUDHSM
	XksProxyConfiguration  *XksProxyConfiguration // EXTERNAL_KEY_STORE
}

// DescribeCustomKeyStoresOutput is the output of DescribeCustomKeyStores.
type DescribeCustomKeyStoresOutput struct {
	CustomKeyStores []CustomKeyStoresListEntry
	NextMarker      string
	Truncated       bool
}

// XksKeyConfiguration names the external key behind a key in an external
// key store.
type XksKeyConfiguration struct {
	Id string
}

// WithCustomKeyStoreConnectDuration sets how long ConnectCustomKeyStore
// takes in simulated time: the store is CONNECTING for that long, then
// CONNECTED (a scheduled event). The default is 0: it connects at once.
//
// WithCustomKeyStoreConnectFailure, to make attempts fail, is its
// companion.
func WithCustomKeyStoreConnectDuration(d time.Duration) Option {
	return func(c *config) { c.connectDuration = max(d, 0) }
}

// WithCustomKeyStoreConnectFailure makes connection attempts fail, for
// testing what a program does with a custom key store that cannot connect
// (D58). When an attempt ends (at once, or when CONNECTING ends), fail is
// given the store's ID and returns "" to let it connect, or a
// ConnectionErrorCode (one of ConnectionErrorCodes, such as
// "NETWORK_ERRORS"; any other string counts as "INTERNAL_ERROR") to make
// the store FAILED with that code, its keys staying Unavailable. A FAILED
// store must be disconnected (DisconnectCustomKeyStore) before it is
// connected again, as in AWS. fail runs under the service's lock and must
// not call the service. Without the option connecting never fails.
func WithCustomKeyStoreConnectFailure(fail func(customKeyStoreID string) string) Option {
	return func(c *config) { c.connectFailure = fail }
}

// attemptFails returns the ConnectionErrorCode with which a connection
// attempt of cs fails, or "" (WithCustomKeyStoreConnectFailure).
func (s *Service) attemptFails(cs *customKeyStore) string {
	if s.cfg.connectFailure == nil {
		return ""
	}
	code := s.cfg.connectFailure(cs.id)
	if code != "" && !slices.Contains(connectionErrorCodes, code) {
		code = "INTERNAL_ERROR"
	}
	return code
}

// endAttempt ends a connection attempt of cs: CONNECTED, or FAILED when
// WithCustomKeyStoreConnectFailure says so. It returns the state reached.
func (s *Service) endAttempt(cs *customKeyStore) (string, error) {
	if code := s.attemptFails(cs); code != "" {
		n := *cs
		n.state, n.connectDone, n.errorCode = ConnectionFailed, 0, code
		return ConnectionFailed, s.changeStore(cs, &n, func(*key) (key, bool) { return key{}, false })
	}
	return ConnectionConnected, s.connectNow(cs)
}

// storeError is an error about a custom key store (no key involved).
func storeError(code keystate.Exception, op keystate.Operation, msg string) error {
	return kmsError(code, op, "", keystate.None, msg)
}

// findStore returns the caller's custom key store id names, or
// CustomKeyStoreNotFoundException. Another account's store is not visible.
func (s *Service) findStore(op keystate.Operation, caller, id string) (*customKeyStore, error) {
	cs := s.stores[id]
	if cs == nil || !s.visibleStore(cs, caller) {
		// No recording of the message; kmsmodel's wording.
		return nil, storeError(keystate.ErrCustomKeyStoreNotFound, op,
			"Custom key store '"+id+"' does not exist in account "+caller+".")
	}
	return cs, nil
}

// visibleStore reports whether cs is the caller's, in the Region of the
// call in progress: custom key stores, like keys, belong to one Region.
func (s *Service) visibleStore(cs *customKeyStore, caller string) bool {
	return cs.account == caller && cs.region == s.rg.index
}

// storeCall runs a custom key store operation: begin, do, record.
func (s *Service) storeCall(ctx context.Context, op keystate.Operation, params func() map[string]string,
	do func(now int64, caller string) error) error {
	if s.cl != nil {
		return retriedErr(s, func() error { return s.storeCallOnce(ctx, op, params, do) })
	}
	return s.storeCallOnce(ctx, op, params, do)
}

// storeCallOnce is one run of storeCall (cluster mode may run it again).
func (s *Service) storeCallOnce(ctx context.Context, op keystate.Operation, params func() map[string]string,
	do func(now int64, caller string) error) (err error) {
	now, caller, err := s.begin(ctx, op)
	defer s.end(op, &err)
	if err == nil {
		err = do(now, caller)
	}
	if s.observing() {
		s.record(now, op, caller, "", params(), err)
	}
	return err
}

func storeParams(m map[string]string) func() map[string]string {
	return func() map[string]string {
		for k, v := range m {
			if v == "" {
				delete(m, k)
			}
		}
		return m
	}
}

// checkRequired is the ValidationException for a missing member.
// No recording of the message; worded as AWS words model constraints.
func checkRequired(op keystate.Operation, v, field, when string) error {
	if v != "" {
		return nil
	}
	return kmsError(keystate.ErrValidation, op, "", keystate.None,
		"1 validation error detected: Value null at '"+field+"' failed to satisfy constraint: Member must not be null"+when)
}

// checkAbsent refuses a member that does not apply (kmsmodel's wording).
func checkAbsent(op keystate.Operation, set bool, field, why string) error {
	if !set {
		return nil
	}
	return kmsError(keystate.ErrValidation, op, "", keystate.None, "The "+field+" parameter is not valid "+why+".")
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func optLength(op keystate.Operation, v, field string, lo, hi int) error {
	if v == "" {
		return nil
	}
	return checkLength(op, v, field, lo, hi)
}

// validateCredential checks an XKS credential's form.
func validateCredential(op keystate.Operation, c *XksProxyAuthenticationCredential) error {
	if c == nil {
		return nil
	}
	return firstErr(
		checkLength(op, c.AccessKeyId, "xksProxyAuthenticationCredential.accessKeyId", 20, 30),
		// The secret's value never goes into a message.
		checkSecretLength(op, len(c.RawSecretAccessKey), "xksProxyAuthenticationCredential.rawSecretAccessKey", 43, 64))
}

// checkSecretLength is checkLength for a secret: the message names the
// field and the constraint, never the value.
func checkSecretLength(op keystate.Operation, n int, field string, lo, hi int) error {
	switch {
	case n < lo:
		return validationError(op, "***", field, "Member must have length greater than or equal to "+strconv.Itoa(lo))
	case n > hi:
		return validationError(op, "***", field, "Member must have length less than or equal to "+strconv.Itoa(hi))
	}
	return nil
}

// validateXksProxy checks the XksProxy* members that are set.
func validateXksProxy(op keystate.Operation, endpoint, path, connectivity, vpcService string) error {
	if err := optLength(op, endpoint, "xksProxyUriEndpoint", 10, 128); err != nil {
		return err
	}
	if endpoint != "" && !strings.HasPrefix(endpoint, "https://") {
		return validationError(op, endpoint, "xksProxyUriEndpoint", "Member must satisfy regular expression pattern: ^https://[a-zA-Z0-9.-]+$")
	}
	if err := optLength(op, path, "xksProxyUriPath", 10, 128); err != nil {
		return err
	}
	if path != "" && (!strings.HasPrefix(path, "/") || !strings.HasSuffix(path, "/kms/xks/v1")) {
		return validationError(op, path, "xksProxyUriPath", "Member must satisfy regular expression pattern: ^(/[a-zA-Z0-9\\/_-]+/kms/xks/v\\d{1,2})$|^(/kms/xks/v\\d{1,2})$")
	}
	if connectivity != "" {
		if err := checkEnum(op, connectivity, "xksProxyConnectivity", []string{"PUBLIC_ENDPOINT", "VPC_ENDPOINT_SERVICE"}); err != nil {
			return err
		}
	}
	return optLength(op, vpcService, "xksProxyVpcEndpointServiceName", 20, 64)
}

// nameInUse reports whether the account has another store named name.
func (s *Service) nameInUse(account, name string, except *customKeyStore) bool {
	for _, cs := range s.stores {
		if cs != except && s.visibleStore(cs, account) && cs.name == name {
			return true
		}
	}
	return false
}

// settingsInUse refuses the settings of n, a custom key store being
// created or updated, that another store of its account in its Region
// already uses (D57): a CloudHSM key store's cluster; an external key
// store's proxy URI endpoint and path together; and, with
// VPC_ENDPOINT_SERVICE connectivity, its endpoint (the private DNS name)
// and its VPC endpoint service. cluster, uri and vpc say which of these a
// call sets (all, for a new store): an update checks those alone. The
// caller holds s.mu.
func (s *Service) settingsInUse(op keystate.Operation, n, except *customKeyStore, cluster, uri, vpc bool) error {
	for _, o := range s.stores {
		if o == except || o.account != n.account || o.region != n.region || o.typ != n.typ {
			continue
		}
		// No recording of the messages; kmsmodel's wording.
		switch {
		case cluster && n.typ == TypeAWSCloudHSM && o.clusterID == n.clusterID:
			return storeError(keystate.ErrCloudHsmClusterInUse, op,
				"The CloudHSM cluster '"+n.clusterID+"' is already associated with custom key store '"+o.id+"'.")
		case n.typ != TypeExternalKeyStore:
		case uri && o.xks.endpoint == n.xks.endpoint && o.xks.path == n.xks.path:
			return storeError(keystate.ErrXksProxyUriInUse, op,
				"The proxy URI "+n.xks.endpoint+n.xks.path+" is already associated with external key store '"+o.id+"'.")
		case n.xks.connectivity != "VPC_ENDPOINT_SERVICE" || o.xks.connectivity != "VPC_ENDPOINT_SERVICE":
		case uri && o.xks.endpoint == n.xks.endpoint:
			return storeError(keystate.ErrXksProxyUriEndpointInUse, op,
				"The proxy URI endpoint "+n.xks.endpoint+" is already the private DNS name of external key store '"+o.id+"'.")
		case vpc && o.xks.vpcService == n.xks.vpcService:
			return storeError(keystate.ErrXksProxyVpcEndpointServiceInUse, op,
				"The VPC endpoint service "+n.xks.vpcService+" is already associated with external key store '"+o.id+"'.")
		}
	}
	return nil
}

func nameInUseError(op keystate.Operation, name string) error {
	// No recording of the message; kmsmodel's wording.
	return storeError(keystate.ErrCustomKeyStoreNameInUse, op, "The custom key store name '"+name+"' is already in use in this account.")
}

// CreateCustomKeyStore creates a custom key store, DISCONNECTED, in the
// caller's account.
//
// Errors: ValidationException (a member missing, too long or too short,
// or of the other store type), CustomKeyStoreNameInUseException,
// CloudHsmClusterInUseException, XksProxyUriInUseException,
// XksProxyUriEndpointInUseException,
// XksProxyVpcEndpointServiceInUseException (settings another store of the
// account uses in the Region, D57), LimitExceededException
// (CustomKeyStoresPerAccount), KMSInternalException.
func (s *Service) CreateCustomKeyStore(ctx context.Context, in *CreateCustomKeyStoreInput) (*CreateCustomKeyStoreOutput, error) {
	in = orEmpty(in)
	const op = keystate.CreateCustomKeyStore
	var out *CreateCustomKeyStoreOutput
	var created string // the new store's ID, for the event record
	params := func() map[string]string {
		return storeParams(map[string]string{"customKeyStoreId": created, "customKeyStoreName": in.CustomKeyStoreName,
			"customKeyStoreType": in.CustomKeyStoreType, "cloudHsmClusterId": in.CloudHsmClusterId,
			"xksProxyUriEndpoint": in.XksProxyUriEndpoint, "xksProxyUriPath": in.XksProxyUriPath,
			"xksProxyConnectivity": in.XksProxyConnectivity, "xksProxyVpcEndpointServiceName": in.XksProxyVpcEndpointServiceName})()
	}
	invalid := validateCreateStore(in)
	err := s.storeCall(ctx, op, params, func(now int64, caller string) error {
		if invalid != nil {
			return invalid
		}
		if err := s.authorizeIAM(op, "", "*", s.iamContext(false)); err != nil {
			return err
		}
		if s.nameInUse(caller, in.CustomKeyStoreName, nil) {
			return nameInUseError(op, in.CustomKeyStoreName)
		}
		n := 0
		for _, cs := range s.stores {
			if s.visibleStore(cs, caller) {
				n++
			}
		}
		if n >= CustomKeyStoresPerAccount {
			// No recording of the message; kmsmodel's wording.
			return storeError(keystate.ErrLimitExceeded, op, "The account already has "+strconv.Itoa(n)+" custom key stores, the most allowed.")
		}
		id, err := s.newStoreID()
		if err != nil {
			return &keystate.Error{Code: keystate.ErrKMSInternal, Op: op, Err: err, Message: "the randomness source failed"}
		}
		typ := in.CustomKeyStoreType
		if typ == "" {
			typ = TypeAWSCloudHSM
		}
		cs := &customKeyStore{id: id, account: s.internAccount(caller), name: in.CustomKeyStoreName, typ: typ, region: s.rg.index,
			state: ConnectionDisconnected, seq: s.storeSeq + 1, created: now,
			clusterID: in.CloudHsmClusterId, trustAnchor: in.TrustAnchorCertificate,
			xks: xksProxy{endpoint: in.XksProxyUriEndpoint, path: in.XksProxyUriPath, connectivity: in.XksProxyConnectivity,
				vpcService: in.XksProxyVpcEndpointServiceName, vpcOwner: in.XksProxyVpcEndpointServiceOwner}}
		if c := in.XksProxyAuthenticationCredential; c != nil {
			cs.xks.accessKeyID = c.AccessKeyId
		}
		if err := s.settingsInUse(op, cs, nil, true, true, true); err != nil {
			return err
		}
		// Decided on every store of the account (name, settings, quota)
		// and on the creation numbers: in a cluster, another node's
		// concurrent creation or change of any store makes this write
		// lose its race and run again (D69).
		if err := s.persist(&store.Batch{PutCustomKeyStores: []store.CustomKeyStore{s.storeRecord(cs)}, GuardCustomKeyStores: true}); err != nil {
			return internalError(op, "", keystate.None, err)
		}
		s.storeSeq++
		s.addStore(cs)
		out = &CreateCustomKeyStoreOutput{CustomKeyStoreId: id}
		created = id
		return nil
	})
	return out, err
}

func validateCreateStore(in *CreateCustomKeyStoreInput) error {
	const op = keystate.CreateCustomKeyStore
	if err := checkLength(op, in.CustomKeyStoreName, "customKeyStoreName", 1, 256); err != nil {
		return err
	}
	if in.CustomKeyStoreType != "" {
		if err := checkEnum(op, in.CustomKeyStoreType, "customKeyStoreType", []string{TypeAWSCloudHSM, TypeExternalKeyStore}); err != nil {
			return err
		}
	}
	xksSet := in.XksProxyUriEndpoint != "" || in.XksProxyUriPath != "" || in.XksProxyConnectivity != "" ||
		in.XksProxyVpcEndpointServiceName != "" || in.XksProxyVpcEndpointServiceOwner != "" || in.XksProxyAuthenticationCredential != nil
	if in.CustomKeyStoreType != TypeExternalKeyStore {
		const when = " when CustomKeyStoreType is AWS_CLOUDHSM"
		return firstErr(
			checkRequired(op, in.CloudHsmClusterId, "cloudHsmClusterId", when),
			checkLength(op, in.CloudHsmClusterId, "cloudHsmClusterId", 19, 24),
			checkRequired(op, in.TrustAnchorCertificate, "trustAnchorCertificate", when),
			checkLength(op, in.TrustAnchorCertificate, "trustAnchorCertificate", 1, 5000),
			checkSecretLength(op, len(in.KeyStorePassword), "keyStorePassword", 7, 32),
			checkAbsent(op, xksSet, "XksProxy*", "for a custom key store of type AWS_CLOUDHSM"))
	}
	const when = " when CustomKeyStoreType is EXTERNAL_KEY_STORE"
	err := firstErr(
		checkAbsent(op, in.CloudHsmClusterId != "" || in.TrustAnchorCertificate != "" || in.KeyStorePassword != nil,
			"CloudHsmClusterId, TrustAnchorCertificate and KeyStorePassword", "for a custom key store of type EXTERNAL_KEY_STORE"),
		checkRequired(op, in.XksProxyUriEndpoint, "xksProxyUriEndpoint", when),
		checkRequired(op, in.XksProxyUriPath, "xksProxyUriPath", when),
		checkRequired(op, in.XksProxyConnectivity, "xksProxyConnectivity", when),
		validateXksProxy(op, in.XksProxyUriEndpoint, in.XksProxyUriPath, in.XksProxyConnectivity, in.XksProxyVpcEndpointServiceName),
		optLength(op, in.XksProxyVpcEndpointServiceOwner, "xksProxyVpcEndpointServiceOwner", 12, 12))
	if err != nil {
		return err
	}
	if in.XksProxyAuthenticationCredential == nil {
		return checkRequired(op, "", "xksProxyAuthenticationCredential", when)
	}
	if err := validateCredential(op, in.XksProxyAuthenticationCredential); err != nil {
		return err
	}
	if in.XksProxyConnectivity == "VPC_ENDPOINT_SERVICE" {
		return checkRequired(op, in.XksProxyVpcEndpointServiceName, "xksProxyVpcEndpointServiceName", " when XksProxyConnectivity is VPC_ENDPOINT_SERVICE")
	}
	return checkAbsent(op, in.XksProxyVpcEndpointServiceName != "" || in.XksProxyVpcEndpointServiceOwner != "",
		"XksProxyVpcEndpointServiceName", "when XksProxyConnectivity is PUBLIC_ENDPOINT")
}

// newStoreID draws a custom key store ID: "cks-" and 17 hex digits.
func (s *Service) newStoreID() (string, error) {
	for {
		var b [9]byte
		if _, err := io.ReadFull(s.cfg.random, b[:]); err != nil {
			return "", err
		}
		id := "cks-" + hex.EncodeToString(b[:])[:17]
		if s.stores[id] == nil {
			return id, nil
		}
	}
}

// addStore makes cs part of the service.
func (s *Service) addStore(cs *customKeyStore) {
	cs.slot = uint32(len(s.storeSlots))
	s.storeSlots = append(s.storeSlots, cs)
	s.stores[cs.id] = cs
}

// DescribeCustomKeyStores describes the caller's custom key stores: the one
// CustomKeyStoreId or CustomKeyStoreName names, or all of them in creation
// order, Limit at a time.
//
// Errors: ValidationException, CustomKeyStoreNotFoundException,
// InvalidMarkerException.
func (s *Service) DescribeCustomKeyStores(ctx context.Context, in *DescribeCustomKeyStoresInput) (*DescribeCustomKeyStoresOutput, error) {
	in = orEmpty(in)
	const op = keystate.DescribeCustomKeyStores
	var out *DescribeCustomKeyStoresOutput
	params := storeParams(map[string]string{"customKeyStoreId": in.CustomKeyStoreId,
		"customKeyStoreName": in.CustomKeyStoreName, "marker": in.Marker})
	err := s.storeCall(ctx, op, params, func(_ int64, caller string) error {
		limit, err := pageLimit(op, in.Limit, 100, 1000)
		if err == nil {
			err = firstErr(optLength(op, in.CustomKeyStoreId, "customKeyStoreId", 1, 64),
				optLength(op, in.CustomKeyStoreName, "customKeyStoreName", 1, 256),
				validateMarker(op, in.Marker),
				checkAbsent(op, in.CustomKeyStoreId != "" && in.CustomKeyStoreName != "", "CustomKeyStoreName",
					"together with CustomKeyStoreId"))
		}
		if err == nil {
			err = s.authorizeIAM(op, "", "*", s.iamContext(false))
		}
		if err != nil {
			return err
		}
		var after uint64
		if in.Marker != "" {
			if after, err = decodeMarker(op, in.Marker, "customkeystores"); err != nil {
				return err
			}
		}
		var all []*customKeyStore
		switch {
		case in.CustomKeyStoreId != "":
			cs, err := s.findStore(op, caller, in.CustomKeyStoreId)
			if err != nil {
				return err
			}
			all = []*customKeyStore{cs}
		case in.CustomKeyStoreName != "":
			for _, cs := range s.storeSlots {
				if cs != nil && s.visibleStore(cs, caller) && cs.name == in.CustomKeyStoreName {
					all = []*customKeyStore{cs}
				}
			}
			if all == nil {
				return storeError(keystate.ErrCustomKeyStoreNotFound, op,
					"Custom key store named '"+in.CustomKeyStoreName+"' does not exist in account "+caller+".")
			}
		default:
			for _, cs := range s.storeSlots {
				if cs != nil && s.visibleStore(cs, caller) {
					all = append(all, cs)
				}
			}
		}
		// In creation order, which the slots need not follow in a cluster
		// (a store a lost race deleted, undone, takes a new slot).
		slices.SortFunc(all, func(a, b *customKeyStore) int { return cmp.Or(cmp.Compare(a.seq, b.seq), cmp.Compare(a.id, b.id)) })
		out = &DescribeCustomKeyStoresOutput{CustomKeyStores: []CustomKeyStoresListEntry{}}
		for _, cs := range all {
			if cs.seq <= after {
				continue
			}
			if len(out.CustomKeyStores) == limit {
				out.Truncated = true
				out.NextMarker = encodeMarker("customkeystores", after)
				break
			}
			out.CustomKeyStores = append(out.CustomKeyStores, cs.entry())
			after = cs.seq
		}
		return nil
	})
	return out, err
}

func (cs *customKeyStore) entry() CustomKeyStoresListEntry {
	e := CustomKeyStoresListEntry{ConnectionErrorCode: cs.errorCode, ConnectionState: cs.state,
		CreationDate: fromMicros(cs.created), CustomKeyStoreId: cs.id, CustomKeyStoreName: cs.name, CustomKeyStoreType: cs.typ}
	if cs.typ == TypeAWSCloudHSM {
		e.CloudHsmClusterId, e.TrustAnchorCertificate = cs.clusterID, cs.trustAnchor
	} else {
		e.XksProxyConfiguration = &XksProxyConfiguration{AccessKeyId: cs.xks.accessKeyID, Connectivity: cs.xks.connectivity,
			UriEndpoint: cs.xks.endpoint, UriPath: cs.xks.path, VpcEndpointServiceName: cs.xks.vpcService,
			VpcEndpointServiceOwner: cs.xks.vpcOwner}
	}
	return e
}

// storeOp runs an operation on one named custom key store.
func (s *Service) storeOp(ctx context.Context, op keystate.Operation, id string, params map[string]string,
	do func(cs *customKeyStore, now int64) error) error {
	params["customKeyStoreId"] = id
	return s.storeCall(ctx, op, storeParams(params), func(now int64, caller string) error {
		if err := checkLength(op, id, "customKeyStoreId", 1, 64); err != nil {
			return err
		}
		if err := s.authorizeIAM(op, "", "*", s.iamContext(false)); err != nil {
			return err
		}
		cs, err := s.findStore(op, caller, id)
		if err != nil {
			return err
		}
		return do(cs, now)
	})
}

func invalidStoreState(op keystate.Operation, cs *customKeyStore, want string) error {
	// No recording of the message; kmsmodel's wording.
	return storeError(keystate.ErrCustomKeyStoreInvalidState, op,
		"Custom key store '"+cs.id+"' is "+cs.state+"; "+op.String()+" requires "+want+".")
}

// ConnectCustomKeyStore connects a custom key store. A DISCONNECTED store
// becomes CONNECTED at once, or CONNECTING for the simulated connect
// duration (WithCustomKeyStoreConnectDuration) and CONNECTED when it ends.
// When it becomes CONNECTED its Unavailable keys return to the state each
// is meant to be in: Enabled or Disabled as it was when the store was
// disconnected, or as an EnableKey or DisableKey while it was Unavailable
// asked (footnote [12]). On a CONNECTED or CONNECTING store the call
// succeeds and changes nothing. An attempt that
// WithCustomKeyStoreConnectFailure fails leaves the store FAILED, which
// must be disconnected before it is connected again (D58).
//
// Errors: ValidationException, CustomKeyStoreNotFoundException,
// CustomKeyStoreInvalidStateException (a FAILED store), KMSInternalException.
func (s *Service) ConnectCustomKeyStore(ctx context.Context, in *ConnectCustomKeyStoreInput) (*ConnectCustomKeyStoreOutput, error) {
	in = orEmpty(in)
	const op = keystate.ConnectCustomKeyStore
	err := s.storeOp(ctx, op, in.CustomKeyStoreId, map[string]string{}, func(cs *customKeyStore, now int64) error {
		if cs.state == ConnectionFailed {
			// The API reference: disconnect a FAILED store, then connect it.
			return invalidStoreState(op, cs, "a store that is not FAILED (disconnect it first)")
		}
		if cs.state != ConnectionDisconnected {
			return nil
		}
		if d := s.cfg.connectDuration; d > 0 {
			n := *cs
			n.state, n.connectDone = ConnectionConnecting, now+durMicros(d)
			if err := s.persist(&store.Batch{PutCustomKeyStores: []store.CustomKeyStore{s.storeRecord(&n)}}); err != nil {
				return internalError(op, "", keystate.None, err)
			}
			*cs = n
			s.qseq++
			s.queue.push(queued{at: cs.connectDone, seq: s.qseq, slot: cs.slot, what: evStoreConnected})
			return nil
		}
		if _, err := s.endAttempt(cs); err != nil {
			return internalError(op, "", keystate.None, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ConnectCustomKeyStoreOutput{}, nil
}

// connectNow makes cs CONNECTED and its Unavailable keys available again,
// in one batch. On a store failure nothing changes.
func (s *Service) connectNow(cs *customKeyStore) error {
	n := *cs
	n.state, n.connectDone, n.errorCode = ConnectionConnected, 0, ""
	return s.changeStore(cs, &n, func(k *key) (key, bool) {
		if k.state != keystate.Unavailable {
			return key{}, false
		}
		nk := *k
		ev := keystate.StoreReconnectEnabled
		if k.desired == keystate.Disabled {
			ev = keystate.StoreReconnectDisabled
		}
		if transition(&nk, ev) != nil {
			return key{}, false
		}
		nk.desired = keystate.None
		return nk, true
	})
}

// changeStore writes n (the new version of cs) and every key of cs that
// change returns changed, in one batch, then installs them.
func (s *Service) changeStore(cs, n *customKeyStore, change func(k *key) (key, bool)) error {
	b := store.Batch{PutCustomKeyStores: []store.CustomKeyStore{s.storeRecord(n)}}
	var olds []*key
	var news []key
	for _, k := range cs.keys {
		if nk, ok := change(k); ok {
			nk.version = k.version + 1
			olds, news = append(olds, k), append(news, nk)
			b.PutKeys = append(b.PutKeys, s.toRecord(&nk))
		}
	}
	if err := s.persist(&b); err != nil {
		return err
	}
	*cs = *n
	for i, k := range olds {
		s.install(k, &news[i])
	}
	return nil
}

// DisconnectCustomKeyStore disconnects a custom key store (a FAILED one
// too, clearing its ConnectionErrorCode). Its keys
// become Unavailable, each remembering whether it was Enabled or Disabled;
// keys pending deletion stay PendingDeletion (footnote [13]) and their
// deletion still completes at DeletionDate. The store and all its changed
// keys are written in one batch.
//
// Errors: ValidationException, CustomKeyStoreNotFoundException,
// CustomKeyStoreInvalidStateException (already DISCONNECTED),
// KMSInternalException.
func (s *Service) DisconnectCustomKeyStore(ctx context.Context, in *DisconnectCustomKeyStoreInput) (*DisconnectCustomKeyStoreOutput, error) {
	in = orEmpty(in)
	const op = keystate.DisconnectCustomKeyStore
	err := s.storeOp(ctx, op, in.CustomKeyStoreId, map[string]string{}, func(cs *customKeyStore, _ int64) error {
		if cs.state == ConnectionDisconnected {
			return invalidStoreState(op, cs, "a store that is not DISCONNECTED")
		}
		n := *cs
		n.state, n.connectDone, n.errorCode = ConnectionDisconnected, 0, ""
		err := s.changeStore(cs, &n, func(k *key) (key, bool) {
			if k.state != keystate.Enabled && k.state != keystate.Disabled {
				return key{}, false // PendingDeletion stays ([13]); Unavailable already (CONNECTING)
			}
			nk := *k
			nk.desired = k.state
			if transition(&nk, keystate.StoreDisconnect) != nil {
				return key{}, false
			}
			return nk, true
		})
		if err != nil {
			return internalError(op, "", keystate.None, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &DisconnectCustomKeyStoreOutput{}, nil
}

// DeleteCustomKeyStore deletes a custom key store. It must be
// DISCONNECTED and hold no keys (keys pending deletion count until their
// deletion completes); the state is checked first (kmsmodel's order, AWS
// does not say).
//
// Errors: ValidationException, CustomKeyStoreNotFoundException,
// CustomKeyStoreInvalidStateException, CustomKeyStoreHasCMKsException,
// KMSInternalException.
func (s *Service) DeleteCustomKeyStore(ctx context.Context, in *DeleteCustomKeyStoreInput) (*DeleteCustomKeyStoreOutput, error) {
	in = orEmpty(in)
	const op = keystate.DeleteCustomKeyStore
	err := s.storeOp(ctx, op, in.CustomKeyStoreId, map[string]string{}, func(cs *customKeyStore, _ int64) error {
		if cs.state != ConnectionDisconnected {
			return invalidStoreState(op, cs, "a DISCONNECTED store")
		}
		if len(cs.keys) > 0 {
			// No recording of the message; kmsmodel's wording.
			return storeError(keystate.ErrCustomKeyStoreHasCMKs, op,
				"Custom key store '"+cs.id+"' holds "+strconv.Itoa(len(cs.keys))+" KMS keys; delete them first.")
		}
		if err := s.persist(&store.Batch{DeleteCustomKeyStores: []string{cs.id}}); err != nil {
			return internalError(op, "", keystate.None, err)
		}
		s.dropStore(cs)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &DeleteCustomKeyStoreOutput{}, nil
}

// UpdateCustomKeyStore changes a custom key store's settings. As AWS
// documents it, a CloudHSM key store must be DISCONNECTED for any change;
// an external key store must be DISCONNECTED too, except that its name,
// proxy credential and proxy URI path may change while it is connected.
// A KeyStorePassword or secret access key is checked and forgotten.
//
// Errors: ValidationException (a member too long or too short, or for the
// other store type), CustomKeyStoreNotFoundException,
// CustomKeyStoreNameInUseException, CustomKeyStoreInvalidStateException,
// the in-use exceptions of CreateCustomKeyStore for the settings it
// changes (D57), KMSInternalException.
func (s *Service) UpdateCustomKeyStore(ctx context.Context, in *UpdateCustomKeyStoreInput) (*UpdateCustomKeyStoreOutput, error) {
	in = orEmpty(in)
	const op = keystate.UpdateCustomKeyStore
	params := map[string]string{"newCustomKeyStoreName": in.NewCustomKeyStoreName, "cloudHsmClusterId": in.CloudHsmClusterId,
		"xksProxyUriEndpoint": in.XksProxyUriEndpoint, "xksProxyUriPath": in.XksProxyUriPath,
		"xksProxyConnectivity": in.XksProxyConnectivity, "xksProxyVpcEndpointServiceName": in.XksProxyVpcEndpointServiceName}
	invalid := firstErr(
		optLength(op, in.NewCustomKeyStoreName, "newCustomKeyStoreName", 1, 256),
		optLength(op, in.CloudHsmClusterId, "cloudHsmClusterId", 19, 24),
		validateXksProxy(op, in.XksProxyUriEndpoint, in.XksProxyUriPath, in.XksProxyConnectivity, in.XksProxyVpcEndpointServiceName),
		validateCredential(op, in.XksProxyAuthenticationCredential))
	if invalid == nil && in.KeyStorePassword != nil {
		invalid = checkSecretLength(op, len(in.KeyStorePassword), "keyStorePassword", 7, 32)
	}
	err := s.storeOp(ctx, op, in.CustomKeyStoreId, params, func(cs *customKeyStore, _ int64) error {
		if invalid != nil {
			return invalid
		}
		hsmFields := in.KeyStorePassword != nil || in.CloudHsmClusterId != ""
		xksFields := in.XksProxyUriEndpoint != "" || in.XksProxyUriPath != "" || in.XksProxyConnectivity != "" ||
			in.XksProxyVpcEndpointServiceName != "" || in.XksProxyAuthenticationCredential != nil
		n := *cs
		if cs.typ == TypeAWSCloudHSM {
			if err := checkAbsent(op, xksFields, "XksProxy*", "for a custom key store of type AWS_CLOUDHSM"); err != nil {
				return err
			}
		} else if err := checkAbsent(op, hsmFields, "KeyStorePassword and CloudHsmClusterId", "for a custom key store of type EXTERNAL_KEY_STORE"); err != nil {
			return err
		}
		if in.XksProxyConnectivity != "" {
			n.xks.connectivity = in.XksProxyConnectivity
		}
		if in.XksProxyVpcEndpointServiceName != "" {
			n.xks.vpcService = in.XksProxyVpcEndpointServiceName
		}
		if cs.typ == TypeExternalKeyStore {
			if n.xks.connectivity == "VPC_ENDPOINT_SERVICE" && n.xks.vpcService == "" {
				return checkRequired(op, "", "xksProxyVpcEndpointServiceName", " when XksProxyConnectivity is VPC_ENDPOINT_SERVICE")
			}
			if n.xks.connectivity == "PUBLIC_ENDPOINT" {
				if in.XksProxyVpcEndpointServiceName != "" {
					return checkAbsent(op, true, "XksProxyVpcEndpointServiceName", "when XksProxyConnectivity is PUBLIC_ENDPOINT")
				}
				n.xks.vpcService, n.xks.vpcOwner = "", ""
			}
		}
		if cs.state != ConnectionDisconnected {
			connectedOK := cs.typ == TypeExternalKeyStore && in.XksProxyUriEndpoint == "" && in.XksProxyConnectivity == "" &&
				in.XksProxyVpcEndpointServiceName == ""
			if !connectedOK {
				return invalidStoreState(op, cs, "a DISCONNECTED store")
			}
		}
		if in.NewCustomKeyStoreName != "" && s.nameInUse(cs.account, in.NewCustomKeyStoreName, cs) {
			return nameInUseError(op, in.NewCustomKeyStoreName)
		}
		if in.NewCustomKeyStoreName != "" {
			n.name = in.NewCustomKeyStoreName
		}
		if in.CloudHsmClusterId != "" {
			n.clusterID = in.CloudHsmClusterId
		}
		if in.XksProxyUriEndpoint != "" {
			n.xks.endpoint = in.XksProxyUriEndpoint
		}
		if in.XksProxyUriPath != "" {
			n.xks.path = in.XksProxyUriPath
		}
		if c := in.XksProxyAuthenticationCredential; c != nil {
			n.xks.accessKeyID = c.AccessKeyId
		}
		if err := s.settingsInUse(op, &n, cs, in.CloudHsmClusterId != "",
			in.XksProxyUriEndpoint != "" || in.XksProxyUriPath != "" || in.XksProxyConnectivity != "",
			in.XksProxyVpcEndpointServiceName != "" || in.XksProxyConnectivity != ""); err != nil {
			return err
		}
		// Decided on every store of the account (names, settings): in a
		// cluster, another node's concurrent creation or change of any
		// store makes this write lose its race and run again (D69).
		if err := s.persist(&store.Batch{PutCustomKeyStores: []store.CustomKeyStore{s.storeRecord(&n)}, GuardCustomKeyStores: true}); err != nil {
			return internalError(op, "", keystate.None, err)
		}
		*cs = n
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &UpdateCustomKeyStoreOutput{}, nil
}

// createInStore checks CreateKey's custom key store parameters after
// input validation (D3): the store exists and is the caller's
// (CustomKeyStoreNotFoundException), its type matches the Origin
// (UnsupportedOperationException, kmsmodel's choice), it is CONNECTED
// (CustomKeyStoreInvalidStateException), and an external key store's
// XksKeyId is not used by another of its keys (XksKeyAlreadyInUseException).
func (s *Service) createInStore(in *CreateKeyInput, kind keystate.Kind, caller string) (*cksRef, error) {
	const op = keystate.CreateKey
	cs, err := s.findStore(op, caller, in.CustomKeyStoreId)
	if err != nil {
		return nil, err
	}
	if cs.typ != kind.Origin.String() {
		return nil, storeError(keystate.ErrUnsupportedOperation, op,
			"Origin "+kind.Origin.String()+" is not valid for custom key store '"+cs.id+"' of type "+cs.typ+".")
	}
	if cs.state != ConnectionConnected {
		return nil, invalidStoreState(op, cs, "a CONNECTED store")
	}
	if kind.Origin == keystate.ExternalKeyStore {
		for _, k := range cs.keys {
			if k.ck.xksKeyID == in.XksKeyId {
				return nil, storeError(keystate.ErrXksKeyAlreadyInUse, op,
					"The external key '"+in.XksKeyId+"' is already used by a KMS key in custom key store '"+cs.id+"'.")
			}
		}
	}
	return &cksRef{store: cs, xksKeyID: in.XksKeyId}, nil
}

// validateCustomKeyStoreKey is CreateKey's input validation (D3 step 1)
// of the custom key store parameters. The exceptions for the parameter
// combinations are kmsmodel's choice (AWS lists the rules, not their
// errors): a missing or misplaced parameter is ValidationException, a key
// kind a custom key store cannot hold (not SYMMETRIC_DEFAULT, multi-Region)
// UnsupportedOperationException.
func validateCustomKeyStoreKey(in *CreateKeyInput, kind keystate.Kind) error {
	const op = keystate.CreateKey
	inStore := kind.Origin.InCustomKeyStore()
	if err := firstErr(optLength(op, in.CustomKeyStoreId, "customKeyStoreId", 1, 64),
		optLength(op, in.XksKeyId, "xksKeyId", 1, 128)); err != nil {
		return err
	}
	switch {
	case inStore && in.CustomKeyStoreId == "":
		return checkRequired(op, "", "customKeyStoreId", " when Origin is "+kind.Origin.String())
	case !inStore && in.CustomKeyStoreId != "":
		return checkAbsent(op, true, "CustomKeyStoreId", "when Origin is "+kind.Origin.String()+
			"; use AWS_CLOUDHSM or EXTERNAL_KEY_STORE")
	case kind.Origin == keystate.ExternalKeyStore && in.XksKeyId == "":
		return checkRequired(op, "", "xksKeyId", " when Origin is EXTERNAL_KEY_STORE")
	case kind.Origin != keystate.ExternalKeyStore && in.XksKeyId != "":
		return checkAbsent(op, true, "XksKeyId", "when Origin is "+kind.Origin.String())
	case inStore && !kind.Spec.IsSymmetric():
		return storeError(keystate.ErrUnsupportedOperation, op,
			"KeySpec "+kind.Spec.String()+" is not valid for a KMS key in a custom key store; use SYMMETRIC_DEFAULT.")
	case inStore && in.MultiRegion:
		return storeError(keystate.ErrUnsupportedOperation, op, "Multi-Region keys cannot be created in a custom key store.")
	}
	return nil
}

// storeConnected completes a CONNECTING store's connection (a queued
// event), and reports whether it did.
func (s *Service) storeConnected(ev queued) (bool, error) {
	if int(ev.slot) >= len(s.storeSlots) {
		return false, nil
	}
	cs := s.storeSlots[ev.slot]
	if cs == nil || cs.state != ConnectionConnecting || cs.connectDone != ev.at {
		return false, nil
	}
	if s.pend != nil {
		// Write what came before first, so that the store sees the
		// events in order, then the connection on its own.
		if err := s.flush(); err != nil {
			return false, err
		}
	}
	state, err := s.endAttempt(cs)
	if err != nil {
		return false, err
	}
	if s.cfg.observer != nil {
		p := map[string]string{"customKeyStoreId": cs.id, "connectionState": state}
		if cs.errorCode != "" {
			p["connectionErrorCode"] = cs.errorCode
		}
		s.cfg.observer.Observe(Event{Time: fromMicros(ev.at), Name: "ConnectCustomKeyStore", Scheduled: true, Parameters: p})
	}
	return true, nil
}

// storeRecord is cs's store record.
func (s *Service) storeRecord(cs *customKeyStore) store.CustomKeyStore {
	return store.CustomKeyStore{ID: cs.id, Region: s.recordRegion(cs.region), Seq: cs.seq, Account: cs.account, Name: cs.name, Type: cs.typ,
		ConnectionState: cs.state, ConnectionErrorCode: cs.errorCode, Created: optTime(cs.created),
		ConnectDone: optTime(cs.connectDone), CloudHsmClusterID: cs.clusterID, TrustAnchorCertificate: cs.trustAnchor,
		XksProxyURIEndpoint: cs.xks.endpoint, XksProxyURIPath: cs.xks.path, XksProxyConnectivity: cs.xks.connectivity,
		XksProxyVpcEndpointServiceName: cs.xks.vpcService, XksProxyVpcEndpointServiceOwner: cs.xks.vpcOwner,
		XksProxyAccessKeyID: cs.xks.accessKeyID}
}

// loadStores reads the custom key stores, before the keys.
func (s *Service) loadStores(ctx context.Context) error {
	recs, err := s.st.CustomKeyStores(ctx)
	if err != nil {
		return err
	}
	slices.SortStableFunc(recs, func(a, b store.CustomKeyStore) int { return cmp.Compare(a.Seq, b.Seq) })
	for i := range recs {
		cs, err := s.storeFromRecord(&recs[i])
		if err != nil {
			return err
		}
		s.addStore(cs)
		s.storeSeq = max(s.storeSeq, cs.seq)
		s.queueConnection(cs)
	}
	return nil
}

// storeFromRecord is the custom key store of record r, not yet part of
// the service.
func (s *Service) storeFromRecord(r *store.CustomKeyStore) (*customKeyStore, error) {
	rg := s.regions[0]
	if r.Region != "" {
		if rg = s.regionNamed(r.Region); rg == nil {
			return nil, fmt.Errorf("custom key store %s names Region %q: %w", r.ID, r.Region, store.ErrCorrupt)
		}
	}
	return &customKeyStore{id: r.ID, region: rg.index, account: s.internAccount(r.Account), name: r.Name, typ: r.Type,
		state: r.ConnectionState, errorCode: r.ConnectionErrorCode, seq: r.Seq, created: micros(r.Created),
		connectDone: micros(r.ConnectDone), clusterID: r.CloudHsmClusterID, trustAnchor: r.TrustAnchorCertificate,
		xks: xksProxy{endpoint: r.XksProxyURIEndpoint, path: r.XksProxyURIPath, connectivity: r.XksProxyConnectivity,
			vpcService: r.XksProxyVpcEndpointServiceName, vpcOwner: r.XksProxyVpcEndpointServiceOwner,
			accessKeyID: r.XksProxyAccessKeyID}}, nil
}

// queueConnection queues the end of cs's connection attempt, when cs is
// CONNECTING.
func (s *Service) queueConnection(cs *customKeyStore) {
	if cs.state == ConnectionConnecting {
		s.qseq++
		s.queue.push(queued{at: cs.connectDone, seq: s.qseq, slot: cs.slot, what: evStoreConnected})
	}
}

// applyStoreRecord applies another node's record r of a custom key store
// (cluster mode): a new store joins the service, a known one takes the
// record's settings and state, keeping its keys. A record that moves a
// store to another account, Region, type or creation number is an error
// (the caller then reloads everything). The caller holds s.mu.
func (s *Service) applyStoreRecord(r *store.CustomKeyStore) error {
	n, err := s.storeFromRecord(r)
	if err != nil {
		return err
	}
	cs := s.stores[r.ID]
	if cs == nil {
		s.addStore(n)
		s.storeSeq = max(s.storeSeq, n.seq)
		s.queueConnection(n)
		return nil
	}
	if n.account != cs.account || n.region != cs.region || n.typ != cs.typ || n.seq != cs.seq || n.created != cs.created {
		return fmt.Errorf("custom key store %s changed its account, Region, type or creation: %w", r.ID, store.ErrCorrupt)
	}
	requeue := n.state == ConnectionConnecting && (cs.state != ConnectionConnecting || cs.connectDone != n.connectDone)
	n.slot, n.keys = cs.slot, cs.keys
	*cs = *n
	if requeue {
		s.queueConnection(cs)
	}
	return nil
}

// dropStore removes a custom key store that holds no keys.
func (s *Service) dropStore(cs *customKeyStore) {
	delete(s.stores, cs.id)
	s.storeSlots[cs.slot] = nil
}

// placeInStore puts k in its custom key store's list of keys (if it has a
// store) at its place in creation order, as a node loading the store
// holds them (compareOrder): another node's key, or one whose creation
// number another node's creation of its ID changed.
func placeInStore(k *key) {
	if k.ck == nil {
		return
	}
	removeFromStore(k)
	cs := k.ck.store
	i, _ := slices.BinarySearchFunc(cs.keys, k, func(a, k *key) int { return compareOrder(a.seq, a.id, k.seq, k.id) })
	cs.keys = slices.Insert(cs.keys, i, k)
}

// removeFromStore drops a deleted key from its store's list.
func removeFromStore(k *key) {
	if k.ck == nil {
		return
	}
	cs := k.ck.store
	if i := slices.Index(cs.keys, k); i >= 0 {
		cs.keys = slices.Delete(cs.keys, i, i+1)
	}
}
