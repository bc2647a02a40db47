package kmshttp

import (
	"context"
	"strings"
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

// modelChanges are the KmsModel targets (without the prefix) that change
// the handler's IAM, Organizations or VPC endpoints; modelReads those that
// read them.
var (
	modelChanges = map[string]bool{
		"PutIdentityPolicy": true, "DeleteIdentityPolicy": true, "AddUserToGroup": true, "RemoveUserFromGroup": true,
		"PutPermissionsBoundary": true, "DeletePermissionsBoundary": true, "PutSessionPolicy": true, "DeleteSessionPolicy": true,
		"CreatePrincipal": true, "DeletePrincipal": true,
		"PutServiceControlPolicy": true, "DeleteServiceControlPolicy": true,
		"PutResourceControlPolicy": true, "DeleteResourceControlPolicy": true,
		"PlaceAccount": true, "SetManagementAccount": true,
		"SetVPCEndpointPolicy": true,
	}
	modelReads = map[string]bool{
		"GetIdentityPolicy": true, "GetPermissionsBoundary": true, "GetSessionPolicy": true, "GetUserId": true,
		"GetServiceControlPolicy": true, "GetResourceControlPolicy": true, "GetVPCEndpointPolicy": true,
	}
)

// IsModelChange reports whether target ("KmsModel.<Name>") changes IAM,
// AWS Organizations or VPC endpoints: a change that a ModelLog carries.
func IsModelChange(target string) bool {
	name, ok := strings.CutPrefix(target, "KmsModel.")
	return ok && modelChanges[name]
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
// handler could not apply whatever the state: a body that is no JSON
// object of strings, or a change to what the handler does not keep (IAM
// without WithIdentityPolicies, Organizations without WithOrganizations,
// a VPC endpoint not given with WithVPCEndpoints). Those would otherwise
// stay in the log, refused on every replay.
func (h *Handler) modelPrecheck(name string, body []byte) error {
	var principal, policyName, document, group, user, session, target, account, path, endpoint string
	if err := strMembers(body, map[string]*string{"PrincipalArn": &principal, "PolicyName": &policyName,
		"PolicyDocument": &document, "GroupArn": &group, "UserArn": &user, "SessionArn": &session,
		"Target": &target, "AccountId": &account, "OrgPath": &path, "VpcEndpointId": &endpoint}); err != nil {
		return err
	}
	switch {
	case identityTargets[name] && h.iam == nil, orgTargets[name] && h.orgs == nil:
		_, err := h.dispatchModel(name, body, nil) // its UnknownOperationException, saying how to get them
		return err
	case name == "SetVPCEndpointPolicy" && h.vpces[endpoint] == nil:
		_, err := h.endpointPolicy(name, body, nil) // its NotFoundException
		return err
	}
	return nil
}
