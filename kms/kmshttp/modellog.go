package kmshttp

import (
	"context"
	"strings"

	"github.com/kmsmodel/kmsmodel/kms"
)

// ModelLog carries kmsmodel's own configuration changes, the KmsModel
// targets that change IAM, AWS Organizations and VPC endpoints
// (IsModelChange), to every handler that shares it: the nodes of a
// cluster, whose IAM, Organizations and VPC endpoints are otherwise each
// node's own. A handler given one (WithModelLog) sends each such change to
// Change rather than applying it, and calls Sync before answering a
// KmsModel target that reads them. cmd/kmssim keeps one in etcd.
type ModelLog interface {
	// Change makes the change (target, such as
	// "KmsModel.PutIdentityPolicy", with its request body) on every
	// handler, this one's included (ApplyModelChange), and returns what
	// this handler's ApplyModelChange returned.
	Change(ctx context.Context, target string, body []byte) ([]byte, error)
	// Sync returns once this handler has applied every change made
	// before Sync was called.
	Sync(ctx context.Context) error
}

// WithModelLog makes the handler share its IAM, Organizations and VPC
// endpoint changes through l (see ModelLog).
func WithModelLog(l ModelLog) Option { return func(c *config) { c.modelLog = l } }

// isModelTarget reports whether the KmsModel target name changes or reads
// the handler's IAM, Organizations or VPC endpoints: a change unless its
// name begins with "Get".
func isModelTarget(name string) bool {
	return identityTargets[name] || orgTargets[name] || name == "SetVPCEndpointPolicy" || name == "GetVPCEndpointPolicy"
}

// isModelChange reports whether the KmsModel target name changes them.
func isModelChange(name string) bool {
	return isModelTarget(name) && !strings.HasPrefix(name, "Get")
}

// IsModelChange reports whether target ("KmsModel.<Name>") changes IAM,
// AWS Organizations or VPC endpoints: a change that a ModelLog carries.
func IsModelChange(target string) bool {
	name, ok := strings.CutPrefix(target, "KmsModel.")
	return ok && isModelChange(name)
}

// ApplyModelChange applies the model change target (IsModelChange) with
// its request body to this handler's own IAM, Organizations and VPC
// endpoints, as a request without a ModelLog would, and returns the
// response body, or the refusal. It is what a ModelLog calls on each
// handler for each change, in the same order on every one.
func (h *Handler) ApplyModelChange(target string, body []byte) ([]byte, error) {
	if !IsModelChange(target) {
		return nil, unknownOperation(target)
	}
	return h.dispatchModel(strings.TrimPrefix(target, "KmsModel."), body, nil)
}

// modelPrecheck refuses, before it reaches the log, a change that this
// handler could not apply whatever the state: a body whose members are not
// strings, or a change to what the handler does not keep (IAM without
// WithIdentityPolicies, Organizations without WithOrganizations, a VPC
// endpoint not given with WithVPCEndpoints). Those would otherwise stay in
// the log, refused on every replay.
func (h *Handler) modelPrecheck(name string, body []byte) error {
	a, err := decodeModelArgs(body)
	if err != nil {
		return err
	}
	if identityTargets[name] && h.iam == nil || orgTargets[name] && h.orgs == nil ||
		name == "SetVPCEndpointPolicy" && h.vpces[a.endpoint] == nil {
		_, err := h.dispatchModel(name, body, nil) // its own refusal, which says why
		return err
	}
	return nil
}

// modelArgs are the request members of the KmsModel targets that change
// or read IAM, Organizations and VPC endpoints (identityPolicy,
// organizations, endpointPolicy), each target reading its own.
type modelArgs struct {
	principal, policyName, document, group, user, session string // IAM
	target, account, path                                 string // Organizations
	endpoint                                              string // VPC endpoints
}

// decodeModelArgs reads a model target's request body.
func decodeModelArgs(body []byte) (modelArgs, error) {
	var a modelArgs
	err := strMembers(body, map[string]*string{"PrincipalArn": &a.principal, "PolicyName": &a.policyName,
		"PolicyDocument": &a.document, "GroupArn": &a.group, "UserArn": &a.user, "SessionArn": &a.session,
		"Target": &a.target, "AccountId": &a.account, "OrgPath": &a.path, "VpcEndpointId": &a.endpoint})
	return a, err
}

// firstIDs answers GetUserId for a handler without identity-based
// policies: no user or role was ever deleted there, so each has its first
// unique ID. Nothing changes it.
var firstIDs = kms.NewIdentityPolicies()
